"""plivo-node in-process: run on the embedded sandbox, validate, describe, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from plivo_node.cli import EXIT_ITEMS_FAILED, EXIT_OK, EXIT_USAGE, main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_URL"):
        monkeypatch.delenv(name, raising=False)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def write_pipeline(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    return path


def test_example_runs_on_the_embedded_sandbox_without_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    code = main(["run", str(EXAMPLES / "send_sms.yaml"), "--output", str(out), "--no-journal"])
    assert code == EXIT_OK
    err = capsys.readouterr().err
    assert "no credentials configured: using the embedded sandbox" in err
    assert "5 items, 5 succeeded, 0 failed" in err
    items = read_jsonl(out)
    assert [i["pairedItem"] for i in items] == [{"item": n} for n in range(5)]
    for item in items:
        assert item["json"]["status"] == "queued"
        assert len(item["json"]["message_uuid"]) == 1
    assert items[2]["json"]["to"] == "14165550123"
    assert items[2]["json"]["encoding"] == "GSM-7"  # é is in the GSM-7 basic table


def test_some_items_failing_exits_1_and_reports_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("name,phone\nAda,+14155550101\nBad,12345\nCy,+14155550103\n")
    pipeline = write_pipeline(
        tmp_path,
        """
version: 1
input: contacts.csv
output: out.jsonl
steps:
  - name: Send
    node: plivo
    onError: continueRegularOutput
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{ $json.phone }}"
      message: "=Hello {{ $json.name }}"
""",
    )
    assert main(["run", str(pipeline), "--sandbox", "--no-journal"]) == EXIT_ITEMS_FAILED
    items = read_jsonl(tmp_path / "out.jsonl")
    assert [i["pairedItem"]["item"] for i in items] == [0, 1, 2]
    bad = items[1]
    assert bad["error"]["code"] == "invalid_parameter"
    assert bad["error"]["parameter"] == "to"
    assert bad["error"]["itemIndex"] == 1
    assert "12345" in bad["error"]["message"]
    assert "failures by code: invalid_parameter: 1" in capsys.readouterr().err


def test_stop_workflow_writes_items_before_the_failure_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contacts = tmp_path / "contacts.jsonl"
    contacts.write_text(
        "\n".join(json.dumps({"phone": p}) for p in ["+14155550101", "nope", "+14155550103"])
    )
    pipeline = write_pipeline(
        tmp_path,
        """
version: 1
input: contacts.jsonl
steps:
  - name: Send
    node: plivo
    parameters:
      {resource: sms, operation: send, from: "+14155550100", to: "={{ $json.phone }}", message: hi}
""",
    )
    settings = ["--output", str(tmp_path / "o.jsonl"), "--no-journal", "--sandbox"]
    assert main(["run", str(pipeline), *settings]) == EXIT_ITEMS_FAILED
    items = read_jsonl(tmp_path / "o.jsonl")
    assert items[0]["json"]["status"] == "queued"
    assert items[1]["error"]["itemIndex"] == 1
    assert "step 'Send' stopped at item 1" in capsys.readouterr().err


def test_validate_good_and_bad(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLES / "send_sms.yaml")]) == EXIT_OK
    assert "valid (1 steps: Send reminder (sms.send))" in capsys.readouterr().out
    bad = write_pipeline(
        tmp_path,
        """
version: 1
steps:
  - name: Send
    node: plivo
    onError: keepGoing
    parameters: {resource: sms, operation: shout}
""",
    )
    assert main(["validate", str(bad)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "onError" in err
    assert "keepGoing" in err
    assert "Traceback" not in err


def test_unknown_operation_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_pipeline(
        tmp_path,
        "version: 1\nsteps:\n"
        "  - {name: S, node: plivo, parameters: {resource: sms, operation: shout}}\n",
    )
    assert main(["run", str(bad), "--sandbox"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "shout" in err
    assert "Traceback" not in err


def test_yaml_syntax_error_names_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_pipeline(tmp_path, "version: 1\nsteps: [\n  - name: x\n")
    assert main(["validate", str(bad)]) == EXIT_USAGE
    assert "line " in capsys.readouterr().err


def test_missing_input_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["run", str(EXAMPLES / "send_sms.yaml"), "--input", str(tmp_path / "none.csv"), "--sandbox"]
    )
    assert code == EXIT_USAGE
    assert "does not exist" in capsys.readouterr().err


def test_live_without_credentials_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(EXAMPLES / "send_sms.yaml"), "--live"]) == EXIT_USAGE
    assert "PLIVO_AUTH_ID" in capsys.readouterr().err


def test_bad_auth_id_is_reported_before_any_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLIVO_AUTH_ID", "XY123")
    monkeypatch.setenv("PLIVO_AUTH_TOKEN", "secret-token-value")
    monkeypatch.setenv("PLIVO_API_URL", "http://127.0.0.1:9/v1/")
    assert main(["run", str(EXAMPLES / "send_sms.yaml"), "--no-journal"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "Auth ID" in err or "auth" in err.lower()
    assert "secret-token-value" not in err


def test_describe_prints_the_node_as_n8n_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe"]) == EXIT_OK
    node = json.loads(capsys.readouterr().out)
    assert node["name"] == "plivo"
    resource = next(p for p in node["properties"] if p["name"] == "resource")
    assert sorted(o["value"] for o in resource["options"]) == [
        "account",
        "application",
        "call",
        "conference",
        "endpoint",
        "message",
        "mms",
        "number",
        "pricing",
        "sms",
    ]


def test_describe_credential_prints_the_credential_type(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["describe", "--credential"]) == EXIT_OK
    credential = json.loads(capsys.readouterr().out)
    assert credential["name"] == "plivoApi"
    token = next(p for p in credential["properties"] if p["name"] == "authToken")
    assert token["typeOptions"]["password"] is True


def test_describe_names_a_node_and_lists_the_installed_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["describe", "--node", "plivo"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["displayName"] == "Plivo"
    assert main(["describe", "--list"]) == EXIT_OK
    assert "plivo" in capsys.readouterr().out.split()
    assert main(["describe", "--node", "nope"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "unknown node type 'nope' (installed: " in err
    assert "plivo" in err


def test_an_unknown_node_is_exit_2_naming_the_step_and_nothing_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = write_pipeline(
        tmp_path,
        "version: 1\nsteps:\n  - {name: Shout, node: shout, parameters: {}}\n"
        "  - {name: Send, node: plivo, parameters: {to: '+14155550101', message: hi, "
        "from: '+14155550100'}}\n",
    )
    assert main(["run", str(pipeline), "--no-journal", "--output", "-"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "step 'Shout': unknown node type 'shout' (installed: " in err
    assert "sandbox" not in err  # nothing was started, let alone sent


def test_dry_run_sends_nothing_and_estimates_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dry.jsonl"
    code = main(
        ["run", str(EXAMPLES / "send_sms.yaml"), "--sandbox", "--dry-run", "--output", str(out)]
    )
    assert code == EXIT_OK
    items = read_jsonl(out)
    assert all(i["json"]["api_id"] == "dry-run" for i in items)
    assert all("dry run: not sent" in i["json"]["message"] for i in items)
    err = capsys.readouterr().err
    assert "dry run finished" in err
    assert "estimated cost:" in err
    assert "SMS segments: 5" in err


def test_a_sandbox_run_can_be_repeated_and_says_nothing_reached_plivo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(EXAMPLES / "contacts.csv", tmp_path / "contacts.csv")
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text((EXAMPLES / "send_sms.yaml").read_text().replace("../out/", ""))
    assert main(["run", str(pipeline), "--sandbox"]) == EXIT_OK
    assert (tmp_path / "reminders.jsonl.journal.sqlite").exists()
    # Nothing of a finished sandbox run reached Plivo: running it again needs no flag.
    assert main(["run", str(pipeline)]) == EXIT_OK
    err = capsys.readouterr().err
    assert err.rstrip().endswith("sandbox: nothing was sent to Plivo")


def test_resume_without_a_journal_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    args = ["run", str(EXAMPLES / "send_sms.yaml"), "--output", str(out), "--sandbox"]
    assert main([*args, "--resume", "--no-journal"]) == EXIT_USAGE
    assert "--resume cannot work here" in capsys.readouterr().err
    assert not out.exists()


def test_a_bad_row_part_way_stops_the_run_and_resume_after_fixing_it_sends_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = [json.dumps({"phone": f"+1415555{1000 + i}"}) for i in range(5)]
    rest = [json.dumps({"phone": f"+1415555{2000 + i}"}) for i in range(5)]
    contacts = tmp_path / "contacts.jsonl"
    contacts.write_text("\n".join([*first, "{not json", *rest]) + "\n")
    pipeline = write_pipeline(
        tmp_path,
        """
version: 1
input: contacts.jsonl
output: out.jsonl
steps:
  - name: Send
    node: plivo
    parameters:
      {resource: sms, operation: send, from: "+14155550100", to: "={{ $json.phone }}", message: hi}
""",
    )
    assert main(["run", str(pipeline), "--sandbox"]) == EXIT_ITEMS_FAILED
    err = capsys.readouterr().err
    assert "the run stopped part-way" in err
    assert "line 6" in err
    assert "--resume" in err

    # Fixing the bad row keeps the run resumable: the five items already sent are replayed.
    fixed = json.dumps({"phone": "+14155553000"})
    contacts.write_text("\n".join([*first, fixed, *rest]) + "\n")
    assert main(["run", str(pipeline), "--sandbox", "--resume"]) == EXIT_OK
    err = capsys.readouterr().err
    assert "resumed: 5 items taken from the journal" in err
    items = read_jsonl(tmp_path / "out.jsonl")
    assert [i["pairedItem"]["item"] for i in items] == list(range(11))

    # A row the interrupted run had already sent must not change under a resume.
    (tmp_path / "out.jsonl.journal.sqlite").unlink()
    contacts.write_text("\n".join([*first, "{broken"]) + "\n")
    assert main(["run", str(pipeline), "--sandbox"]) == EXIT_ITEMS_FAILED
    changed = json.dumps({"phone": "+14155559999"})
    contacts.write_text("\n".join([changed, *first[1:], fixed]) + "\n")
    # Refused at item 0, before this run sent anything: exit 2.
    assert main(["run", str(pipeline), "--sandbox", "--resume"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "item 0: the input is not the one the interrupted run had" in err
