"""Reading n8n workflow files: every format problem reported at once, located, no traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from plivo_node.core.errors import ConfigurationError, WorkflowError
from plivo_node.n8n.workflow import Connection, parse_workflow, read_workflow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "n8n_opt_in_sms.json"


def problems_of(data: Any) -> list[str]:
    text = data if isinstance(data, str) else json.dumps(data)
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(text, source="wf.json")
    assert isinstance(caught.value, ConfigurationError)  # exit 2: nothing is run
    assert "Traceback" not in str(caught.value)
    return caught.value.problems


def node(name: str, node_type: str = "n8n-nodes-base.noOp", **extra: Any) -> dict[str, Any]:
    return {"parameters": {}, "type": node_type, "typeVersion": 1, "position": [0, 0],
            "id": f"id-{name}", "name": name, **extra}  # fmt: skip


def test_the_example_reads_as_n8n_wrote_it() -> None:
    workflow = read_workflow(EXAMPLE)
    assert workflow.name == "Opt-in SMS"
    assert [n.name for n in workflow.nodes] == [
        "When clicking \u2018Execute workflow\u2019",  # n8n's default name, curly quotes
        "Edit Fields",
        "Split Out",
        "Opted in?",
        "Send SMS",
        "No Operation, do nothing",
    ]
    send = workflow.node("Send SMS")
    assert (send.type, send.type_version, send.credential_types) == (
        "n8n-nodes-base.plivo",
        1,
        ("plivoApi",),
    )
    assert workflow.node("Opted in?").type_version == 2.2
    assert Connection("Opted in?", 1, "No Operation, do nothing") in workflow.connections
    assert workflow.pinned == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{nodes: []}", "line 1, column 2: the file is not JSON (Expecting property name"),
        ("", "line 1, column 1: the file is not JSON (Expecting value)"),
        ('{"nodes": [], "connections": {}, "x": NaN}', "NaN is not a JSON value"),
        ("[" * 500 + "]" * 500, "nested more than 100 levels deep"),
        ('"workflow"', "the file holds a string, not an n8n workflow"),
        ("[1, 2]", "the file holds an array, not an n8n workflow"),
        ('[{"nodes": []}, {"nodes": []}]', "the file holds a list of 2 workflows"),
    ],
)
def test_what_is_not_a_workflow_file(text: str, problem: str) -> None:
    [found] = problems_of(text)
    assert problem in found


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "wf.json"
    path.write_bytes(b'{"name": "x",\n"nodes": "\xff"}')
    with pytest.raises(WorkflowError, match=r"line 2: the file is not UTF-8 text"):
        read_workflow(path)
    with pytest.raises(WorkflowError, match=r"cannot read the file"):
        read_workflow(tmp_path / "missing.json")


def test_missing_and_mistyped_top_level_fields() -> None:
    assert problems_of({"name": 3}) == [
        "nodes is missing: an n8n workflow has nodes and connections",
        "connections is missing: an n8n workflow has nodes and connections",
        "name must be a string, not a number",
    ]
    assert problems_of({"nodes": {}, "connections": [], "settings": 1, "pinData": []}) == [
        "nodes must be a list, not an object",
        "connections must be an object, not an array",
        "settings must be an object, not a number",
        "pinData must be an object, not an array",
    ]


def test_every_node_problem_is_listed_with_the_node() -> None:
    problems = problems_of(
        {
            "nodes": [
                "a node",
                {"type": "n8n-nodes-base.noOp"},
                node("A", typeVersion="1", parameters=[], position=[1]),
                node("B", typeVersion=True, onError="skip", disabled="yes", maxTries="3"),
                node("C", credentials={"plivoApi": "7"}),
                node("D", type=""),
            ],
            "connections": {},
        }
    )
    assert problems == [
        "nodes[0]: a node must be an object, not a string",
        "nodes[1]: name must be a non-empty string",
        "node 'A': typeVersion must be a positive number, such as 1 or 3.4 (a string, \"1\")",
        "node 'A': parameters must be an object, not an array",
        "node 'A': position must be a list of two numbers, [x, y]",
        "node 'B': typeVersion must be a positive number, such as 1 or 3.4 (a boolean, true)",
        (
            "node 'B': onError must be one of stopWorkflow, continueRegularOutput, "
            "continueErrorOutput, not 'skip'"
        ),
        "node 'B': disabled must be true or false, not a string",
        "node 'B': maxTries must be a number, not a string",
        "node 'C': credentials must map credential types to {id, name} references",
        "node 'D': type must be a non-empty string, such as n8n-nodes-base.set",
    ]


def test_repeated_names_and_connections_to_nodes_that_do_not_exist() -> None:
    problems = problems_of(
        {
            "nodes": [node("A"), node("B"), node("A"), node("B", typeVersion=0)],
            "connections": {
                "A": {"main": [[{"node": "Nope", "type": "main", "index": 0}], None]},
                "Ghost": {"main": [[{"node": "A", "type": "main", "index": 0}]]},
                "B": {"main": [[{"node": "A", "type": "main", "index": -1}], {"node": "A"}]},
            },
        }
    )
    assert problems == [
        "node 'B': typeVersion must be a positive number, such as 1 or 3.4 (a number, 0)",
        "nodes: node names must be unique (connections refer to nodes by name); repeated: 'A', 'B'",
        "connections['A'].main[0]: the target node 'Nope' is not a node of this workflow",
        "connections['Ghost']: there is no node named 'Ghost' in nodes",
        "connections['B'].main[0]: the input index of 'A' must be a whole number from 0",
        "connections['B'].main[1]: must be a list of targets, not an object",
    ]


def test_connections_are_read_with_their_output_input_and_kind() -> None:
    workflow = parse_workflow(
        json.dumps(
            {
                "nodes": [node("A"), node("B"), node("C")],
                "connections": {
                    "A": {
                        "main": [None, [{"node": "B", "type": "main", "index": 0}]],
                        "ai_tool": [[{"node": "C", "type": "ai_tool", "index": 0}]],
                    }
                },
            }
        ),
        source="wf.json",
    )
    assert workflow.connections == (Connection("A", 1, "B"), Connection("A", 0, "C", 0, "ai_tool"))


def test_credential_values_are_never_read_into_the_model() -> None:
    secret = "s3cr3t-token-from-a-tampered-export-0123456789"
    workflow = parse_workflow(
        json.dumps(
            {
                "nodes": [
                    node(
                        "Send",
                        "n8n-nodes-base.plivo",
                        credentials={
                            "plivoApi": {"id": "1", "name": "x", "data": {"authToken": secret}}
                        },
                    )
                ],
                "connections": {},
            }
        ),
        source="wf.json",
    )
    assert workflow.node("Send").credential_types == ("plivoApi",)
    assert secret not in repr(workflow)
