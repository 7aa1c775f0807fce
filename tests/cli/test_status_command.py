"""`plivo-node status`: the campaign example end to end on a sandbox, and the report's rules."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plivo_node.cli import main
from plivo_node.nodes.plivo.delivery import record_status
from plivo_node.nodes.plivo.delivery.report import read_sent_messages
from plivo_sandbox import Sandbox, SandboxConfig

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = ROOT / "examples" / "campaign.yaml"
CONTACTS = ROOT / "examples" / "campaign_contacts.csv"


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state"
    monkeypatch.setenv("PLIVO_NODE_STATE_DIR", str(path))
    for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_URL"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
async def slow_sandbox() -> AsyncIterator[Sandbox]:
    # Messages take a moment to reach their outcome, so `--wait` has something to wait for.
    async with Sandbox(SandboxConfig(delivery_seconds=1.5)) as running:
        yield running


async def plivo_node(env: dict[str, str], *arguments: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "plivo_node.cli", *arguments,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.slow
async def test_the_campaign_example_then_status_wait(
    slow_sandbox: Sandbox, state_dir: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PLIVO_API_URL": slow_sandbox.url,
        "PLIVO_AUTH_ID": slow_sandbox.config.auth_id,
        "PLIVO_AUTH_TOKEN": slow_sandbox.config.auth_token,
    }
    output = tmp_path / "campaign.jsonl"
    code, _, err = await plivo_node(
        env, "run", str(CAMPAIGN), "--live", "--output", str(output), "--no-journal"
    )
    assert code == 0, err
    report_csv = tmp_path / "report.csv"
    code, out, err = await plivo_node(
        env, "status", str(output), "--input", str(CONTACTS), "--wait",
        "--interval", "0.3", "--timeout", "30", "--csv", str(report_csv),
    )  # fmt: skip
    assert code == 1, err  # not every message was delivered
    assert "5 message(s)" in out
    assert "delivered    3" in out
    assert "undelivered  1" in out
    assert "failed       1" in out
    assert "200   1  The destination has opted out (replied STOP)" in out
    assert "30    1  Spam detected or carrier filter" in out
    with report_csv.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    by_name = {row["name"]: row for row in rows}
    assert by_name["Ada Quill"]["state"] == "delivered"
    assert by_name["Dan Undelivered"]["state"] == "undelivered"
    assert by_name["Dan Undelivered"]["error"] == "30: Spam detected or carrier filter"
    assert by_name["Eve Opted-Out"]["state"] == "failed"
    assert by_name["Eve Opted-Out"]["error"].startswith("200: ")
    # Each message was read from the API once it was final, and no list request was used.
    gets = [r for r in slow_sandbox.state.request_log if r.method == "GET" and "Message/" in r.path]
    assert all(not r.path.endswith("/Message/") for r in gets)


def write_output(path: Path, lines: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


UUIDS = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(4)]


def test_callbacks_recorded_by_serve_are_enough_without_the_api(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out.jsonl"
    write_output(
        output,
        [
            {"json": {"message_uuid": [UUIDS[0]], "to": "14155550101"}, "pairedItem": {"item": 0}},
            {"json": {"message_uuid": [UUIDS[1]], "to": "14155550102"}, "pairedItem": {"item": 1}},
            {"json": {"error": "To: 'call-me' is not a phone number"}, "pairedItem": {"item": 2}},
        ],
    )
    record_status({"MessageUUID": UUIDS[0], "Status": "delivered", "Sequence": "3"})
    record_status({"MessageUUID": UUIDS[1], "Status": "sent", "Sequence": "2"})
    code = main(["status", str(output), "--no-api"])
    out = capsys.readouterr().out
    assert code == 1
    assert "delivered    1" in out
    assert "sent         1" in out
    assert "not sent     1" in out
    assert "To: 'call-me' is not a phone number" in out


def test_all_delivered_exits_0(state_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    write_output(output, [{"json": {"message_uuid": [UUIDS[0]], "to": "14155550101"}}])
    record_status({"MessageUUID": UUIDS[0], "Status": "delivered", "ErrorCode": "000"})
    assert main(["status", str(output), "--no-api"]) == 0


def test_a_bulk_send_pairs_uuids_with_its_valid_destinations(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    data = {
        "message_uuid": UUIDS[:2],
        "to": "14155550101<bad<14155550101<14155550102",
        "invalid_number": ["bad"],
    }
    write_output(output, [{"json": data, "pairedItem": {"item": 7}}, {"json": {"other": 1}}])
    sent = read_sent_messages(output)
    assert [(m.item, m.destination, m.message_uuid) for m in sent] == [
        (7, "14155550101", UUIDS[0]),
        (7, "14155550102", UUIDS[1]),
    ]


@pytest.mark.parametrize(
    ("content", "arguments", "message"),
    [
        ('{"json": {"other": 1}}\n', [], "records no sent message"),
        ("not json\n", [], "line 1 is not JSON"),
        ('{"json": {"message_uuid": ["x"]}}\n', ["--timeout", "0"], "--timeout must be"),
    ],
)
def test_bad_usage_exits_2_with_a_clear_message(
    state_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    arguments: list[str],
    message: str,
) -> None:
    output = tmp_path / "out.jsonl"
    output.write_text(content, encoding="utf-8")
    assert main(["status", str(output), "--no-api", *arguments]) == 2
    assert message in capsys.readouterr().err


def test_a_missing_output_file_exits_2(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read the run output" in capsys.readouterr().err


async def test_wait_polls_until_every_message_is_final(
    slow_sandbox: Sandbox, state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLIVO_API_URL", slow_sandbox.url)
    monkeypatch.setenv("PLIVO_AUTH_ID", slow_sandbox.config.auth_id)
    monkeypatch.setenv("PLIVO_AUTH_TOKEN", slow_sandbox.config.auth_token)
    lines = []
    for index, destination in enumerate(["14155550101", "13075550030"]):
        reply = await slow_sandbox_send(slow_sandbox, destination)
        lines.append({"json": {**reply, "to": destination}, "pairedItem": {"item": index}})
    output = tmp_path / "out.jsonl"
    write_output(output, lines)
    arguments = ["status", str(output), "--wait", "--interval", "0.2", "--timeout", "20"]
    code = await asyncio.to_thread(main, arguments)
    assert code == 1
    [uuid] = lines[1]["json"]["message_uuid"]  # type: ignore[index]
    reads = [r for r in slow_sandbox.state.request_log if r.path.endswith(f"Message/{uuid}/")]
    assert len(reads) > 1  # it was pending at first, and read again until final
    from plivo_node.nodes.plivo.delivery import DeliveryStore  # noqa: PLC0415

    with DeliveryStore.in_state_dir() as store:
        assert store.lookup([uuid])[uuid].status == "undelivered"


async def slow_sandbox_send(sandbox: Sandbox, destination: str) -> dict[str, object]:
    from plivo_node.nodes.plivo.client import PlivoClient  # noqa: PLC0415
    from plivo_node.nodes.plivo.credentials import Credentials  # noqa: PLC0415

    credentials = Credentials(sandbox.config.auth_id, sandbox.config.auth_token, sandbox.url)
    async with PlivoClient(credentials) as client:
        response = await client.request(
            "POST", "Message/", body={"src": "14155550100", "dst": destination, "text": "x"}
        )
    assert response.body is not None
    return dict(response.body)
