"""``plivo-node run workflow.json``: an n8n export runs unchanged, as a pipeline would.

The file is converted in memory and takes the pipeline's path from there: the same checks
(exit 2, nothing sent), credentials from the environment or the embedded sandbox, the same
output, journal and dry run. What the Plivo node sends is compared with what n8n's own Plivo
node posts for ``sms: send`` (packages/nodes-base/nodes/Plivo/Plivo.node.ts: ``src``, ``dst``
and ``text`` to ``POST /Message/``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from plivo_node.cli import EXIT_OK, EXIT_USAGE, main
from plivo_sandbox import Sandbox, SandboxConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "n8n_opt_in_sms.json"
AUTH_ID = "MAWORKFLOWTEST000001"
AUTH_TOKEN = "workflow-test-token-never-printed"
TRIGGER = "When clicking \u2018Execute workflow\u2019"
TEXT = "Hi {}, thanks for subscribing to Acme updates. Reply STOP to opt out."
CONTACTS = [
    ("Ada Quill", "+14155550101", True),
    ("Ben Marlow", "+14155550102", False),
    ("Chlo\u00e9 Vidal", "+14165550123", True),
    ("Dana Reyes", "+14155550104", False),
]
# Graph runs need the graph executor; until it is merged into this branch they are refused.


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_URL"):
        monkeypatch.delenv(name, raising=False)


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def linear_example() -> dict[str, Any]:
    """The example without its If and No Operation: Trigger → Edit Fields → Split Out → Send."""
    data = example()
    data["nodes"] = [n for n in data["nodes"] if n["type"].split(".")[-1] not in ("if", "noOp")]
    data["connections"].pop("Opted in?")
    data["connections"]["Split Out"]["main"][0][0]["node"] = "Send SMS"
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "workflow.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def run_against(
    sandbox: Sandbox, path: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> int:
    """Run the workflow file with credentials in the environment pointing at ``sandbox``
    (``extra``: the run's options, by default --no-journal)."""
    monkeypatch.setenv("PLIVO_AUTH_ID", AUTH_ID)
    monkeypatch.setenv("PLIVO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("PLIVO_API_URL", sandbox.url)
    args = ["run", str(path), "--output", str(out), *(extra or ("--no-journal",))]
    async with asyncio.timeout(60):
        return await asyncio.to_thread(main, args)


def sent_bodies(sandbox: Sandbox) -> list[dict[str, Any]]:
    path = f"/v1/Account/{AUTH_ID}/Message/"
    return [dict(r.body or {}) for r in sandbox.state.request_log if r.path == path]


def n8n_body(name: str, phone: str) -> dict[str, str]:
    """What n8n's Plivo node posts for sms: send: from, to and message as src, dst, text."""
    return {"src": "+14155550100", "dst": phone, "text": TEXT.format(name)}


def same_number(e164: str) -> str:
    """This Plivo node writes numbers as Plivo answers them, digits without the "+": the same
    E.164 number n8n passes on as typed."""
    return e164.removeprefix("+")


# What this Plivo node adds to n8n's body: each is the value Plivo's API takes when the field
# is left out (type sms, callback method POST, logging on, no link tracking), so the message
# Plivo sends is the same.
PLIVO_DEFAULTS = {"type": "sms", "method": "POST", "log": "true", "trackable": False}


def assert_sends_what_n8n_sends(
    bodies: list[dict[str, Any]], contacts: list[tuple[str, str, bool]]
) -> None:
    assert len(bodies) == len(contacts)
    for body, (name, phone, _) in zip(bodies, contacts, strict=True):
        expected = n8n_body(name, phone)
        assert body.pop("src") == same_number(expected["src"])
        assert body.pop("dst") == same_number(expected["dst"])
        assert body.pop("text") == expected["text"]
        assert body == PLIVO_DEFAULTS


async def test_a_linear_workflow_runs_unchanged_with_credentials_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, linear_example())
    out = tmp_path / "out.jsonl"
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as sandbox:
        code = await run_against(sandbox, path, out, monkeypatch)
        bodies = sent_bodies(sandbox)
    assert code == EXIT_OK
    assert_sends_what_n8n_sends(bodies, CONTACTS)
    records = read_jsonl(out)
    assert [r["json"]["status"] for r in records] == ["queued"] * 4
    assert [r["pairedItem"] for r in records] == [{"item": n} for n in range(4)]


def test_a_workflow_file_runs_on_the_embedded_sandbox_without_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, linear_example())
    out = tmp_path / "out.jsonl"
    assert main(["run", str(path), "--output", str(out), "--no-journal"]) == EXIT_OK
    err = capsys.readouterr().err
    assert "no credentials configured: using the embedded sandbox" in err
    assert "step 'Send SMS': 4 items, 4 succeeded, 0 failed" in err
    assert len(read_jsonl(out)) == 4


async def test_a_dry_run_of_a_workflow_file_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, linear_example())
    out = tmp_path / "dry.jsonl"
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as sandbox:
        assert await run_against(sandbox, path, out, monkeypatch, "--dry-run") == EXIT_OK
        bodies = sent_bodies(sandbox)
    assert bodies == []
    assert "dry run finished" in capsys.readouterr().err
    assert len(read_jsonl(out)) == 4


async def test_a_workflow_run_is_journaled_and_resumes_without_sending_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, linear_example())
    out = tmp_path / "out.jsonl"
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as sandbox:
        assert await run_against(sandbox, path, out, monkeypatch, "--progress") == EXIT_OK
        # A finished live run over the same output is not sent again by accident...
        assert await run_against(sandbox, path, out, monkeypatch, "--progress") == EXIT_USAGE
        # ...and resuming it takes every item from the journal.
        assert await run_against(sandbox, path, out, monkeypatch, "--resume") == EXIT_OK
        bodies = sent_bodies(sandbox)
    assert len(bodies) == 4
    # The one input item, and every step's results (1 + 1 + 1 + 4), come from the journal:
    # nothing runs again.
    err = capsys.readouterr().err
    assert "resumed: 1 item taken from the journal, not re-sent (7 step results in all)" in err


def test_a_linear_workflow_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, linear_example())
    assert main(["validate", str(path)]) == EXIT_OK
    assert capsys.readouterr().out == (
        f"{path}: valid (4 steps: {TRIGGER} (manualTrigger), Edit Fields (set), "
        "Split Out (splitOut), Send SMS (sms.send))\n"
    )


def test_unsupported_node_types_are_exit_2_listing_every_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = linear_example()
    data["nodes"][1]["type"] = "n8n-nodes-base.httpRequest"
    data["nodes"][2]["type"] = "n8n-nodes-base.code"
    path = write(tmp_path, data)
    for command in ("run", "validate"):
        assert main([command, str(path)]) == EXIT_USAGE
        err = capsys.readouterr().err
        assert (
            "2 nodes have types this runtime does not have: 'Edit Fields' "
            "(n8n-nodes-base.httpRequest), 'Split Out' (n8n-nodes-base.code)"
        ) in err
        assert "Traceback" not in err


def test_a_type_version_the_node_does_not_have_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = linear_example()
    data["nodes"][1]["typeVersion"] = 3.2
    path = write(tmp_path, data)
    assert main(["run", str(path), "--sandbox"]) == EXIT_USAGE
    assert (
        "step 'Edit Fields': typeVersion 3.2 is not a version of node 'set' (it has 3.3, 3.4)"
        in capsys.readouterr().err
    )


def test_a_credential_type_the_node_does_not_use_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = linear_example()
    data["nodes"][-1]["credentials"] = {"twilioApi": {"id": "1", "name": "Twilio"}}
    path = write(tmp_path, data)
    assert main(["run", str(path), "--sandbox"]) == EXIT_USAGE
    assert (
        "node 'Send SMS': credential type 'twilioApi' is not supported by node type 'plivo' "
        "(it uses plivoApi)"
    ) in capsys.readouterr().err


def test_a_pipeline_with_a_json_extension_is_still_a_pipeline(tmp_path: Path) -> None:
    pipeline = {"version": 1, "steps": [{"name": "Start", "node": "manualTrigger"}]}
    path = write(tmp_path, pipeline, "pipeline.json")
    out = tmp_path / "out.jsonl"
    assert main(["run", str(path), "--output", str(out), "--no-journal"]) == EXIT_OK
    assert read_jsonl(out) == [{"json": {}, "pairedItem": {"item": 0}}]


# ---------------------------------------------------------------- n8n's expression forms


def expressions_workflow() -> dict[str, Any]:
    """Trigger → Edit Fields (contacts) → Split Out → Edit Fields reading them every way."""
    data = linear_example()
    read = {
        "parameters": {
            "assignments": {
                "assignments": [
                    {"id": str(n), "name": name, "value": value, "type": "string"}
                    for n, (name, value) in enumerate(
                        [
                            ("dot", "={{ $json.name }}"),
                            ("bracket", '={{ $json["phone"] }}'),
                            ("input", "={{ $input.item.json.name }}"),
                            ("index", "={{ $itemIndex }}"),
                            ("count", "={{ $('Edit Fields').item.json.contacts.length }}"),
                            ("node", '={{ $node["Edit Fields"].json.contacts[0].name }}'),
                            ("split", "={{ $('Split Out').item.json.phone }}"),
                        ]
                    )
                ]
            },
            "options": {},
        },
        "type": "n8n-nodes-base.set",
        "typeVersion": 3.4,
        "position": [660, 0],
        "id": "read-them",
        "name": "Read",
    }
    data["nodes"] = [n for n in data["nodes"] if n["name"] != "Send SMS"] + [read]
    data["connections"]["Split Out"]["main"][0][0]["node"] = "Read"
    return data


def test_n8n_expression_forms_work_in_a_workflow_file(tmp_path: Path) -> None:
    path = write(tmp_path, expressions_workflow())
    out = tmp_path / "out.jsonl"
    assert main(["run", str(path), "--output", str(out), "--no-journal"]) == EXIT_OK
    assert [r["json"] for r in read_jsonl(out)] == [
        {
            "dot": name,
            "bracket": phone,
            "input": name,
            "index": str(index),
            "count": "4",
            "node": "Ada Quill",
            "split": phone,
        }
        for index, (name, phone, _) in enumerate(CONTACTS)
    ]


# ---------------------------------------------------------------- the example, with its If


def test_the_example_validates() -> None:
    assert main(["validate", str(EXAMPLE)]) == EXIT_OK


def test_the_example_runs_unchanged_on_the_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    code = main(["run", str(EXAMPLE), "--sandbox", "--output", str(out), "--no-journal"])
    assert code == EXIT_OK
    records = read_jsonl(out)
    sent = [r for r in records if r.get("step") == "Send SMS"]
    skipped = [r for r in records if r.get("step") == "No Operation, do nothing"]
    assert [r["json"]["to"] for r in sent] == ["14155550101", "14165550123"]
    assert [r["json"]["name"] for r in skipped] == ["Ben Marlow", "Dana Reyes"]
    assert len(records) == 4
    assert "sandbox: nothing was sent to Plivo" in capsys.readouterr().err


async def test_the_example_sends_exactly_what_n8n_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.jsonl"
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as sandbox:
        code = await run_against(sandbox, EXAMPLE, out, monkeypatch)
        bodies = sent_bodies(sandbox)
    assert code == EXIT_OK
    assert_sends_what_n8n_sends(bodies, [c for c in CONTACTS if c[2]])


def schedule_workflow(interval: dict[str, Any]) -> dict[str, Any]:
    """A workflow as n8n exports it: Schedule Trigger (typeVersion 1.2) → No Operation."""
    return {
        "name": "Weekday mornings",
        "nodes": [
            {
                "parameters": {"rule": {"interval": [interval]}},
                "id": "3f0c3c9e-1111-4a57-9f77-0a1b2c3d4e5f",
                "name": "Schedule Trigger",
                "type": "n8n-nodes-base.scheduleTrigger",
                "typeVersion": 1.2,
                "position": [0, 0],
            },
            {
                "parameters": {},
                "id": "3f0c3c9e-2222-4a57-9f77-0a1b2c3d4e5f",
                "name": "No Operation, do nothing",
                "type": "n8n-nodes-base.noOp",
                "typeVersion": 1,
                "position": [220, 0],
            },
        ],
        "connections": {
            "Schedule Trigger": {
                "main": [[{"node": "No Operation, do nothing", "type": "main", "index": 0}]]
            }
        },
        "settings": {"executionOrder": "v1", "timezone": "America/New_York"},
        "pinData": {},
    }


def test_a_workflow_starting_with_a_schedule_trigger_converts_validates_and_runs_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path, schedule_workflow({"field": "cronExpression", "expression": "0 9 * * 1-5"})
    )
    assert main(["convert", str(path)]) == EXIT_OK
    converted = capsys.readouterr().out
    assert "node: scheduleTrigger" in converted
    assert "timezone: America/New_York" in converted
    assert main(["validate", str(path)]) == EXIT_OK
    out = tmp_path / "out.jsonl"
    assert main(["run", str(path), "--output", str(out), "--no-journal", "--sandbox"]) == EXIT_OK
    (line,) = [json.loads(text) for text in out.read_text().splitlines()]
    assert line["json"]["Timezone"].startswith("America/New_York (UTC-0")
    bad = write(tmp_path, schedule_workflow({"field": "cronExpression", "expression": "9 am"}))
    assert main(["validate", str(bad)]) == EXIT_USAGE
    assert "'9 am' is not a valid cron expression" in capsys.readouterr().err
