"""Converting n8n workflows to pipelines: the same steps, or every reason it cannot be."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from plivo_node.core.errors import WorkflowError
from plivo_node.description.yaml_source import read_yaml_text
from plivo_node.n8n.convert import Conversion, convert_workflow, pipeline_yaml
from plivo_node.n8n.workflow import parse_workflow, read_workflow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "n8n_opt_in_sms.json"
TRIGGER = "When clicking \u2018Execute workflow\u2019"
SMS = {"from": "+14155550100", "to": "={{ $json.phone }}", "message": "=Hi {{ $json.name }}"}


def node(name: str, kind: str = "noOp", x: float = 0, y: float = 0, **extra: Any) -> dict[str, Any]:
    return {
        "parameters": extra.pop("parameters", {}),
        "type": kind if "." in kind else f"n8n-nodes-base.{kind}",
        "typeVersion": extra.pop("typeVersion", 1),
        "position": [x, y],
        "id": f"id-{name}",
        "name": name,
        **extra,
    }


def workflow(*nodes: dict[str, Any], links: list[tuple[str, int, str]], **top: Any) -> str:
    """A workflow file's text; ``links`` are (source, output, target) connections."""
    connections: dict[str, Any] = {}
    for source, output, target in links:
        outputs = connections.setdefault(source, {"main": []})["main"]
        outputs.extend([] for _ in range(output + 1 - len(outputs)))
        outputs[output].append({"node": target, "type": "main", "index": 0})
    return json.dumps({"name": "wf", "nodes": list(nodes), "connections": connections, **top})


def convert(text: str, **options: Any) -> Conversion:
    return convert_workflow(parse_workflow(text, source="wf.json"), **options)


def problems_of(text: str, **options: Any) -> list[str]:
    with pytest.raises(WorkflowError) as caught:
        convert(text, **options)
    assert "Traceback" not in str(caught.value)
    return caught.value.problems


def steps_of(conversion: Conversion) -> list[tuple[str, str, Any]]:
    return [(s["name"], s["node"], s.get("input")) for s in conversion.data["steps"]]


def test_the_example_becomes_the_equivalent_pipeline() -> None:
    conversion = convert_workflow(read_workflow(EXAMPLE))
    assert conversion.notices == ()
    raw = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    parameters = {n["name"]: n["parameters"] for n in raw["nodes"]}
    assert conversion.data == {
        "version": 1,
        "name": "Opt-in SMS",
        "steps": [
            {"name": TRIGGER, "node": "manualTrigger", "typeVersion": 1, "parameters": {}},
            {"name": "Edit Fields", "node": "set", "typeVersion": 3.4,
             "parameters": parameters["Edit Fields"]},
            {"name": "Split Out", "node": "splitOut", "typeVersion": 1,
             "parameters": {"fieldToSplitOut": "contacts", "options": {}}},
            {"name": "Opted in?", "node": "if", "typeVersion": 2.2,
             "parameters": parameters["Opted in?"]},
            {"name": "Send SMS", "node": "plivo", "typeVersion": 1,
             "parameters": {"from": "+14155550100", "to": "={{ $json.phone }}",
                            "message": parameters["Send SMS"]["message"]}},
            {"name": "No Operation, do nothing", "node": "noOp", "typeVersion": 1,
             "input": {"step": "Opted in?", "output": 1}, "parameters": {}},
        ],
    }  # fmt: skip
    # n8n leaves the Plivo node's defaults out (resource sms, operation send): so does the step.
    assert "resource" not in conversion.data["steps"][4]["parameters"]


def test_the_yaml_reads_back_as_the_same_pipeline() -> None:
    conversion = convert_workflow(read_workflow(EXAMPLE))
    text = pipeline_yaml(conversion, source="n8n_opt_in_sms.json")
    assert text.startswith("# Converted from the n8n workflow n8n_opt_in_sms.json by plivo-node")
    data, problems = read_yaml_text(text)
    assert problems == []
    assert data == conversion.data
    assert "    node: plivo\n" in text  # lists indented under their key, as the examples are


def test_every_unsupported_node_is_listed_by_name_and_type() -> None:
    text = workflow(
        node("Start", "manualTrigger"),
        node("Fetch", "httpRequest", x=200),
        node("Code", "code", x=400),
        node("Loose end", "n8n-nodes-community.thing", x=600),  # connected to nothing
        node("Note", "stickyNote"),  # a canvas annotation: never a problem
        node("Send", "plivo", x=800, parameters=SMS),
        links=[("Start", 0, "Fetch"), ("Fetch", 0, "Code"), ("Code", 0, "Send")],
    )
    [problem, *rest] = problems_of(text)
    assert rest == []
    assert problem.startswith(
        "3 nodes have types this runtime does not have: 'Fetch' (n8n-nodes-base.httpRequest), "
        "'Code' (n8n-nodes-base.code), 'Loose end' (n8n-nodes-community.thing); the supported "
        "node types are n8n-nodes-base.filter, n8n-nodes-base.if, "
    )


def test_settings_that_change_a_run_are_errors_never_ignored() -> None:
    text = workflow(
        node("Start", "manualTrigger"),
        node("Once", executeOnce=True, alwaysOutputData=False),
        node("Retry", retryOnFail=True, maxTries=5),
        node("Always", alwaysOutputData=True),
        node("Odd", rewireOutputLogTo="ai_tool"),
        node("Send", "plivo", parameters=SMS, credentials={"twilioApi": {"id": "1", "name": "t"}}),
        links=[("Start", 0, "Once"), ("Once", 0, "Retry"), ("Retry", 0, "Always"),
               ("Always", 0, "Odd"), ("Odd", 0, "Send")],
        pinData={"Send": [{"json": {"api_id": "x"}}], "Once": []},
    )  # fmt: skip
    problems = problems_of(text)
    assert [p.split(" is not")[0].split(": the setting")[0] for p in problems] == [
        "node 'Once': Execute Once (executeOnce)",
        "node 'Retry': Retry On Fail (retryOnFail)",
        "node 'Always': Always Output Data (alwaysOutputData)",
        "node 'Odd'",
        "node 'Send': credential type 'twilioApi'",
        (
            "pinData: n8n uses pinned data instead of running 'Send'; unpin the data in n8n (or "
            "remove pinData) so that the file says what to run"
        ),
    ]
    assert "sending every message again" in problems[1]
    assert "turn it off in the node's settings" in problems[0]


def test_on_error_is_kept_and_the_legacy_continue_on_fail_read_as_n8n_reads_it() -> None:
    conversion = convert(
        workflow(
            node("Start", "manualTrigger"),
            node("A", onError="stopWorkflow"),
            node("B", continueOnFail=True),
            node("C", continueOnFail=True, onError="stopWorkflow"),  # onError wins
            node("Send", "plivo", parameters=SMS, onError="continueErrorOutput"),
            node("Failed"),
            links=[
                ("Start", 0, "A"),
                ("A", 0, "B"),
                ("B", 0, "C"),
                ("C", 0, "Send"),
                ("Send", 1, "Failed"),
            ],
        )
    )
    on_error = {s["name"]: s.get("onError") for s in conversion.data["steps"]}
    assert on_error == {
        "Start": None,
        "A": None,
        "B": "continueRegularOutput",
        "C": None,
        "Send": "continueErrorOutput",
        "Failed": None,
    }
    assert steps_of(conversion)[-1] == ("Failed", "noOp", {"step": "Send", "output": 1})


def test_a_disabled_node_passes_its_items_through_as_in_n8n() -> None:
    text = workflow(
        node("Start", "manualTrigger"),
        node("Send", "plivo", parameters=SMS, disabled=True, executeOnce=True),
        node("Fetch", "httpRequest", disabled=True),
        node("End"),
        links=[("Start", 0, "Send"), ("Send", 0, "Fetch"), ("Fetch", 0, "End")],
    )
    conversion = convert(text)
    assert conversion.data["steps"][1:3] == [
        {"name": "Send", "node": "noOp", "parameters": {}},
        {"name": "Fetch", "node": "noOp", "parameters": {}},
    ]
    assert "credentials" not in conversion.data  # nothing is sent: no account needed
    assert conversion.notices == (
        (
            "node 'Send' is disabled: as in n8n, it passes its input items through unchanged (a "
            "noOp step)"
        ),
        (
            "node 'Fetch' is disabled: as in n8n, it passes its input items through unchanged (a "
            "noOp step)"
        ),
    )
    # n8n sends nothing down a disabled node's other outputs: that branch would never run.
    text = workflow(
        node("Start", "manualTrigger"),
        node("Check", "if", disabled=True),
        node("No"),
        links=[("Start", 0, "Check"), ("Check", 1, "No")],
    )
    assert problems_of(text) == [
        (
            "connection 'Check' → 'No': 'Check' is disabled, so n8n sends nothing from its "
            "output 1; enable the node, or remove the connection"
        )
    ]


def test_steps_follow_n8n_v1_order_each_branch_to_its_end_first() -> None:
    text = workflow(
        node("Merge point", x=900),
        node("False end", x=700, y=200),
        node("True 2", x=900, y=-200),
        node("True 1", x=700, y=-200),
        node("Check", "if", x=500, typeVersion=2.2),
        node("Start", "manualTrigger", x=300),
        node("Stray", x=0, y=600),  # not connected to the trigger: n8n never runs it
        links=[("Start", 0, "Check"), ("Check", 0, "True 1"), ("True 1", 0, "True 2"),
               ("Check", 1, "False end"), ("True 2", 0, "Merge point"),
               ("False end", 0, "Merge point")],
    )  # fmt: skip
    conversion = convert(text, outputs_of=lambda node_type: 2 if node_type == "if" else 1)
    assert steps_of(conversion) == [
        ("Start", "manualTrigger", None),
        ("Check", "if", None),
        ("True 1", "noOp", None),
        ("True 2", "noOp", None),
        ("False end", "noOp", {"step": "Check", "output": 1}),
        ("Merge point", "noOp", ["True 2", "False end"]),
    ]
    assert conversion.left_out == ("Stray",)
    assert conversion.notices == (
        "node 'Stray' is not connected to the trigger: n8n never runs it, so it is left out",
    )


def test_triggers_and_connections_this_runtime_cannot_follow() -> None:
    assert problems_of(workflow(node("A"), links=[])) == [
        (
            "the workflow has no Manual Trigger: n8n runs a workflow from its trigger; add a "
            "Manual Trigger (n8n-nodes-base.manualTrigger) before the first node"
        )
    ]
    assert problems_of(workflow(node("T", "manualTrigger", disabled=True), links=[])) == [
        "the trigger 'T' is disabled: n8n cannot start the workflow from it; enable it"
    ]
    assert problems_of(
        workflow(node("T1", "manualTrigger"), node("T2", "manualTrigger"), links=[])
    ) == ["the workflow has 2 triggers ('T1', 'T2'): n8n starts a run from one of them; keep one"]
    data = json.loads(
        workflow(
            node("T", "manualTrigger"), node("A"), node("B"), links=[("T", 0, "A"), ("A", 0, "T")]
        )
    )
    data["connections"]["T"]["main"][0].append({"node": "B", "type": "main", "index": 1})
    data["connections"]["B"] = {"ai_tool": [[{"node": "A", "type": "ai_tool", "index": 0}]]}
    assert problems_of(json.dumps(data)) == [
        "connection 'T' → 'B': it goes to input 1, but 'B' has one input (0)",
        "connection 'A' → 'T': 'T' is a trigger, which takes no input",
        "connection 'B' → 'A': 'ai_tool' connections are not supported, only main ones",
    ]


def test_what_the_pipeline_graph_refuses_is_refused_here_too() -> None:
    cycle = workflow(
        node("T", "manualTrigger"),
        node("A", x=200),
        node("B", x=400),
        links=[("T", 0, "A"), ("A", 0, "B"), ("B", 0, "A")],
    )
    [problem] = problems_of(cycle)
    assert problem.startswith("steps 'A' → 'B' → 'A' form a cycle")
    extra_output = workflow(
        node("T", "manualTrigger"), node("A"), node("B"), links=[("T", 0, "A"), ("A", 1, "B")]
    )
    assert problems_of(extra_output, outputs_of=lambda _node: 1) == [
        (
            "step 'B': input: 'A' has 1 output (0; node type 'noOp'), so there is no output 1; an "
            "error output exists only with onError: continueErrorOutput"
        )
    ]


def test_no_secret_of_the_file_reaches_the_pipeline() -> None:
    secret = "tampered-export-token-0123456789abcdef"
    text = workflow(
        node("T", "manualTrigger"),
        node("Send", "plivo", parameters=SMS,
             credentials={"plivoApi": {"id": "7", "name": "Plivo account",
                                       "data": {"authId": "MAXXXXXXXXXXXXXXXXXX",
                                                "authToken": secret}}}),
        links=[("T", 0, "Send")],
    )  # fmt: skip
    conversion = convert(text)
    rendered = pipeline_yaml(conversion, source="wf.json")
    assert secret not in rendered
    assert "MAXXXXXXXXXXXXXXXXXX" not in rendered
    assert "Plivo account" not in rendered  # not a secret, but the runtime has no use for it
    # The reference names the node's credential type; no block is written, so the run takes
    # the credentials from the environment, or uses the sandbox when none are set.
    assert "credentials" not in conversion.data


def test_workflow_settings_this_runtime_does_not_apply_are_noticed() -> None:
    # timezone is carried (the Schedule Trigger's rules use it) but still noticed: $now is not
    # in it.
    settings = {"executionOrder": "v1", "saveManualExecutions": True, "timezone": "Asia/Kolkata",
                "errorWorkflow": "42", "executionTimeout": -1, "somethingNew": True}  # fmt: skip
    conversion = convert(workflow(node("T", "manualTrigger"), links=[], settings=settings))
    assert conversion.notices == (
        (
            "settings.timezone is 'Asia/Kolkata': the Schedule Trigger's rules use it; $now and "
            "$today use this machine's time zone"
        ),
        "settings.errorWorkflow: no error workflow runs when this run fails",
        "settings.somethingNew is not applied by this runtime",
    )


def test_workflow_settings_this_runtime_applies_are_carried_into_the_pipeline() -> None:
    window = {"from": "09:00", "to": "20:00", "timezone": "recipient"}
    settings = {"executionOrder": "v1", "suppression": False, "sendWindow": window}
    conversion = convert(workflow(node("T", "manualTrigger"), links=[], settings=settings))
    assert conversion.data["settings"] == {"suppression": False, "sendWindow": window}
    assert conversion.notices == ()


def test_workflow_timezone_is_carried_and_n8n_default_zone_is_left_to_the_machine() -> None:
    conversion = convert(
        workflow(node("T", "manualTrigger"), links=[], settings={"timezone": "Asia/Kolkata"})
    )
    assert conversion.data["settings"] == {"timezone": "Asia/Kolkata"}
    default = convert(
        workflow(node("T", "manualTrigger"), links=[], settings={"timezone": "DEFAULT"})
    )
    assert "settings" not in default.data
    assert default.notices == ()
