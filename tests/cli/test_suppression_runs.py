"""Runs with a suppression list: suppressed destinations never reach the server, in every flow
(per item, bulk, error output, dry run), and settings.suppression: false turns it off."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from plivo_node.cli import EXIT_ITEMS_FAILED, EXIT_OK, EXIT_USAGE, main
from plivo_node.nodes.plivo.suppression import Source, apply_inbound, opened
from plivo_sandbox import Sandbox, SandboxConfig

AUTH_ID = "MATESTACCOUNT0000001"
AUTH_TOKEN = "test-token-never-printed"
PHONES = ["+14155550101", "+14155550102", "+14155550103", "+14155550104"]


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_URL"):
        monkeypatch.delenv(name, raising=False)


def suppress(*numbers: str) -> None:
    with opened() as suppression:
        for number in numbers:
            suppression.add(number, reason="keyword STOP", source=Source.KEYWORD)


def write_pipeline(
    tmp_path: Path,
    *,
    on_error: str = "continueRegularOutput",
    bulk: bool = False,
    settings: str = "",
) -> Path:
    (tmp_path / "contacts.csv").write_text("phone\n" + "".join(f"{p}\n" for p in PHONES))
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(
        f"""
version: 1
input: contacts.csv
output: out.jsonl
settings: {{rateLimit: false{settings}}}
steps:
  - name: Send
    node: plivo
    onError: {on_error}
    bulk: {str(bulk).lower()}
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{{{ $json.phone }}}}"
      message: "Sale ends Friday"
"""
    )
    return pipeline


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_bulk_drops_suppressed_destinations_from_the_request(
    tmp_path: Path, plivo_node: Any
) -> None:
    suppress("14155550102", "14155550104")
    pipeline = write_pipeline(tmp_path, bulk=True)
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as sandbox:
        code, err = await plivo_node(sandbox, "run", str(pipeline), "--no-progress")
        posts = [r.body["dst"] for r in sandbox.state.request_log if r.method == "POST"]
    assert code == EXIT_ITEMS_FAILED, err
    assert posts == ["14155550101<14155550103"]  # one request, without the suppressed two
    items = read_jsonl(tmp_path / "out.jsonl")
    assert [i["pairedItem"]["item"] for i in items] == [0, 1, 2, 3]
    assert [i.get("error", {}).get("code") for i in items] == [
        None,
        "suppressed",
        None,
        "suppressed",
    ]
    assert items[0]["json"]["bulk_size"] == 2
    assert "+14155550102 is suppressed since" in items[1]["json"]["error"]
    assert "failures by code: suppressed: 2" in err
    assert "suppression list: skipped 2 items" in err


def test_error_output_carries_the_row_and_the_others_are_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suppress("14155550103")
    pipeline = write_pipeline(tmp_path, on_error="continueErrorOutput")
    assert main(["run", str(pipeline), "--sandbox", "--no-journal"]) == EXIT_ITEMS_FAILED
    items = read_jsonl(tmp_path / "out.jsonl")
    failed = [i for i in items if "error" in i]
    assert len(failed) == 1
    assert failed[0]["json"]["phone"] == "+14155550103"  # the input row stays visible
    assert failed[0]["error"]["code"] == "suppressed"
    assert sum(1 for i in items if i["json"].get("status") == "queued") == 3
    assert "suppression list: skipped 1 items" in capsys.readouterr().err


def test_stop_workflow_stops_at_a_suppressed_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suppress("14155550101")
    pipeline = write_pipeline(tmp_path, on_error="stopWorkflow")
    assert main(["run", str(pipeline), "--sandbox", "--no-journal"]) == EXIT_ITEMS_FAILED
    err = capsys.readouterr().err
    assert "stopped at item 0" in err
    assert "+14155550101 is suppressed" in err


def test_dry_run_reports_how_many_would_be_suppressed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suppress("14155550101", "14155550104")
    pipeline = write_pipeline(tmp_path)
    assert main(["run", str(pipeline), "--sandbox", "--dry-run"]) == EXIT_ITEMS_FAILED
    err = capsys.readouterr().err
    assert "suppression list: would skip 2 items" in err
    assert "SMS segments: 2" in err  # the estimate counts only what would be sent


def test_settings_suppression_false_sends_to_everyone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suppress(*PHONES)
    pipeline = write_pipeline(tmp_path, settings=", suppression: false")
    assert main(["run", str(pipeline), "--sandbox", "--no-journal"]) == EXIT_OK
    assert "suppression list:" not in capsys.readouterr().err


def test_a_state_dir_that_cannot_be_created_refuses_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("PLIVO_NODE_STATE_DIR", str(blocker / "state"))
    pipeline = write_pipeline(tmp_path)
    assert main(["run", str(pipeline), "--sandbox", "--no-journal"]) == EXIT_USAGE
    assert "cannot create the state directory" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists() or not (tmp_path / "out.jsonl").read_text()


def test_suppression_setting_is_validated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = write_pipeline(tmp_path, settings=", suppression: maybe")
    assert main(["validate", str(pipeline)]) == EXIT_USAGE
    assert "suppression" in capsys.readouterr().err


def test_a_stop_reply_suppresses_the_next_run_and_start_lifts_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = {"From": "14155550102", "To": "14155550100", "Text": "Stop\n", "MessageUUID": "in-1"}
    assert apply_inbound(reply).action == "added"
    pipeline = write_pipeline(tmp_path)
    assert main(["run", str(pipeline), "--sandbox", "--no-journal"]) == EXIT_ITEMS_FAILED
    items = read_jsonl(tmp_path / "out.jsonl")
    assert [i.get("error", {}).get("code") for i in items] == [None, "suppressed", None, None]
    assert items[1]["error"]["suppressed"][0]["reason"] == "keyword STOP"
    assert apply_inbound({**reply, "Text": "START", "MessageUUID": "in-2"}).action == "removed"
    assert main(["run", str(pipeline), "--sandbox", "--no-journal"]) == EXIT_OK
    capsys.readouterr()
