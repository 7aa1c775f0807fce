"""Every example pipeline runs cleanly on the embedded sandbox and produces what its header says.

The examples are found by globbing ``examples/*.yaml``, so a new example is run here without
touching this file; the per-example checks below pin the fields each one is meant to show.
The lifecycle and voice examples also run against a sandbox the test owns, to check the
requests they make (ids flowing between steps, only the named fields updated).
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from plivo_node.cli import EXIT_OK, main
from plivo_node.run.registry import NodeRegistry
from plivo_sandbox import Sandbox, SandboxConfig

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def _served(path: Path) -> bool:
    """Whether the example starts with a webhook trigger: `serve` runs it (tests/serve)."""
    steps = yaml.safe_load(path.read_text()).get("steps") or [{}]
    node = steps[0].get("node")
    return node in NodeRegistry().names() and NodeRegistry().get(node).type.webhook is not None


EXAMPLE_FILES = sorted(path for path in EXAMPLES.glob("*.yaml") if not _served(path))

ENDPOINT_PASSWORD = "Rc7-sandbox-only"  # manage_endpoints.yaml's password
SEEDED_ENDPOINT_PASSWORD = "seeded-endpoint-secret"  # the sandbox's seeded endpoint

AUTH_ID = "MAEXAMPLETEST0000001"
AUTH_TOKEN = "example-test-token-never-printed"


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_URL"):
        monkeypatch.delenv(name, raising=False)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def csv_rows(name: str) -> list[dict[str, str]]:
    with (EXAMPLES / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def jsons(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item["json"] for item in items]


# ------------------------------------------------------------------ per-example checks


def check_send_sms(items: list[dict[str, Any]], output: str) -> None:
    rows = csv_rows("contacts.csv")
    assert len(items) == len(rows)
    for row, data in zip(rows, jsons(items), strict=True):
        assert data["status"] == "queued"
        assert len(data["message_uuid"]) == 1
        assert data["to"] == digits(row["phone"])


def check_voice_notification(items: list[dict[str, Any]], output: str) -> None:
    rows = csv_rows("call_list.csv")
    assert [i["pairedItem"] for i in items] == [{"item": n} for n in range(len(rows))]
    for row, data in zip(rows, jsons(items), strict=True):
        assert data["status"] == "fired"
        assert isinstance(data["request_uuid"], str)
        assert data["request_uuid"]
        assert data["to"] == digits(row["phone"])
        assert data["from"] == "14155550100"


def check_mms_with_media(items: list[dict[str, Any]], output: str) -> None:
    rows = csv_rows("mms_contacts.csv")
    assert len(items) == len(rows)
    for row, data in zip(rows, jsons(items), strict=True):
        assert data["status"] == "queued"
        assert data["media_count"] == 1
        assert len(data["message_uuid"]) == 1
        assert data["to"] == digits(row["phone"])
        assert data["to"].startswith("1")  # US/Canada only


def check_account_report(items: list[dict[str, Any]], output: str) -> None:
    (account,) = jsons(items)
    assert account["auth_id"].startswith("MA")
    assert "cash_credits" in account
    assert account["subaccounts"]
    assert all(sub["auth_id"].startswith("SA") for sub in account["subaccounts"])
    assert "auth_token" not in output


def check_number_inventory(items: list[dict[str, Any]], output: str) -> None:
    numbers = jsons(items)
    assert numbers
    assert {n["number_type"] for n in numbers} == {"local"}
    assert all(n["sms_enabled"] for n in numbers)
    # The listing ran once, for the single account item.
    assert {i["pairedItem"]["item"] for i in items} == {0}
    assert len({n["number"] for n in numbers}) == len(numbers)


def check_pricing_report(items: list[dict[str, Any]], output: str) -> None:
    countries = json.loads((EXAMPLES / "countries.json").read_text())
    assert [p["country_iso"] for p in jsons(items)] == [c["country"].upper() for c in countries]
    for pricing in jsons(items):
        assert pricing["message"]["outbound"]["rate"]


def check_list_applications(items: list[dict[str, Any]], output: str) -> None:
    apps = jsons(items)
    assert apps
    assert all(app["app_id"] and app["app_name"] for app in apps)


def check_list_endpoints(items: list[dict[str, Any]], output: str) -> None:
    endpoints = jsons(items)
    assert endpoints
    assert all(e["endpoint_id"] and e["username"] for e in endpoints)
    assert all("password" not in e for e in endpoints)
    assert SEEDED_ENDPOINT_PASSWORD not in output


def check_live_conferences(items: list[dict[str, Any]], output: str) -> None:
    conferences = jsons(items)
    assert 1 <= len(conferences) <= 10
    for conference in conferences:
        assert conference["conference_name"]
        assert int(conference["conference_member_count"]) == len(conference["members"])


def check_manage_applications(items: list[dict[str, Any]], output: str) -> None:
    (result,) = jsons(items)
    assert result["success"] is True
    assert re.fullmatch(r"\d+", result["id"])


def check_manage_endpoints(items: list[dict[str, Any]], output: str) -> None:
    (result,) = jsons(items)
    assert result["success"] is True
    assert re.fullmatch(r"\d+", result["id"])
    assert ENDPOINT_PASSWORD not in output


def check_scheduled_balance_check(items: list[dict[str, Any]], output: str) -> None:
    # The sandbox's balance (100) is below the threshold: one alert, fired once by `run`.
    (alert,) = jsons(items)
    assert (alert["status"], alert["to"]) == ("queued", "14155550123")


KEY_CHECKS: dict[str, Callable[[list[dict[str, Any]], str], None]] = {
    "send_sms": check_send_sms,
    "voice_notification": check_voice_notification,
    "mms_with_media": check_mms_with_media,
    "account_report": check_account_report,
    "number_inventory": check_number_inventory,
    "pricing_report": check_pricing_report,
    "list_applications": check_list_applications,
    "list_endpoints": check_list_endpoints,
    "live_conferences": check_live_conferences,
    "manage_applications": check_manage_applications,
    "manage_endpoints": check_manage_endpoints,
    "scheduled_balance_check": check_scheduled_balance_check,
}


# ------------------------------------------------------------------ every example


def test_the_examples_cover_every_kind_of_example() -> None:
    assert {path.stem for path in EXAMPLE_FILES} >= set(KEY_CHECKS)


@pytest.mark.parametrize("pipeline", EXAMPLE_FILES, ids=lambda path: path.stem)
def test_example_runs_on_the_sandbox(
    pipeline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    code = main(["run", str(pipeline), "--sandbox", "--output", str(out), "--no-journal"])
    captured = capsys.readouterr()
    assert code == EXIT_OK, captured.err
    assert "0 failed" in captured.err
    output = out.read_text()
    items = read_jsonl(out)
    assert items, f"{pipeline.name} produced no output"
    for item in items:
        assert "error" not in item
        assert "error" not in item["json"]
    for secret in (ENDPOINT_PASSWORD, SEEDED_ENDPOINT_PASSWORD, "sandbox-auth-token"):
        assert secret not in output
        assert secret not in captured.err
        assert secret not in captured.out
    check = KEY_CHECKS.get(pipeline.stem)
    if check is not None:
        check(items, output)


@pytest.mark.parametrize("pipeline", EXAMPLE_FILES, ids=lambda path: path.stem)
def test_example_validates_and_documents_how_to_run_it(
    pipeline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(pipeline)]) == EXIT_OK
    assert "valid" in capsys.readouterr().out
    text = pipeline.read_text()
    header = text.split("\nversion:", 1)[0]
    assert header.startswith("# "), "an example starts with a comment saying what it does"
    assert f"plivo-node run examples/{pipeline.name} --sandbox" in header
    config = yaml.safe_load(text)
    assert config["output"].startswith("../out/"), "examples write under out/ at the repo root"
    if "input" in config:
        assert (EXAMPLES / config["input"]).is_file()


# ------------------------------------------------------------------ the requests they make


async def run_against(
    sandbox: Sandbox, pipeline: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> int:
    """Run ``pipeline`` with credentials pointing at ``sandbox`` (the CLI's own loop, a thread)."""
    monkeypatch.setenv("PLIVO_AUTH_ID", AUTH_ID)
    monkeypatch.setenv("PLIVO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("PLIVO_API_URL", sandbox.url)
    args = ["run", str(pipeline), "--output", str(out), "--no-journal"]
    async with asyncio.timeout(60):
        return await asyncio.to_thread(main, args)


def account_path(sandbox: Sandbox, rest: str) -> str:
    return f"/v1/Account/{sandbox.config.auth_id}/{rest}"


async def test_application_lifecycle_passes_the_created_id_along(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as sandbox:
        seeded = set(sandbox.state.applications)
        out = tmp_path / "out.jsonl"
        code = await run_against(sandbox, EXAMPLES / "manage_applications.yaml", out, monkeypatch)
        assert code == EXIT_OK
        log = sandbox.state.request_log
        assert set(sandbox.state.applications) == seeded  # created, then deleted
    (result,) = jsons(read_jsonl(out))
    app_id = result["id"]
    assert app_id not in seeded
    app_path = account_path(sandbox, f"Application/{app_id}/")
    assert [(r.method, r.path) for r in log] == [
        ("GET", account_path(sandbox, "")),  # the credentials check, once, before any item
        ("POST", account_path(sandbox, "Application/")),
        ("POST", app_path),
        ("GET", app_path),
        ("DELETE", app_path),
    ]
    # The update sends only the fields it names; nothing else is reset.
    assert log[2].body == {
        "answer_url": "https://example.com/hotline/answer-v2",
        "log_incoming_messages": False,
    }


async def test_endpoint_lifecycle_sends_the_password_once_and_never_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as sandbox:
        seeded = set(sandbox.state.endpoints)
        out = tmp_path / "out.jsonl"
        code = await run_against(sandbox, EXAMPLES / "manage_endpoints.yaml", out, monkeypatch)
        assert code == EXIT_OK
        log = sandbox.state.request_log
        assert set(sandbox.state.endpoints) == seeded
    (result,) = jsons(read_jsonl(out))
    endpoint_path = account_path(sandbox, f"Endpoint/{result['id']}/")
    assert [(r.method, r.path) for r in log] == [
        ("GET", account_path(sandbox, "")),  # the credentials check
        ("POST", account_path(sandbox, "Endpoint/")),
        ("POST", endpoint_path),
        ("GET", endpoint_path),
        ("DELETE", endpoint_path),
    ]
    assert log[1].body is not None
    assert set(log[1].body) == {"username", "password", "alias"}
    assert log[2].body == {"alias": "Reception desk (lobby)"}
    captured = capsys.readouterr()
    for text in (out.read_text(), captured.err, captured.out):
        assert ENDPOINT_PASSWORD not in text
        assert AUTH_TOKEN not in text


async def test_voice_notification_asks_for_the_configured_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as sandbox:
        out = tmp_path / "out.jsonl"
        code = await run_against(sandbox, EXAMPLES / "voice_notification.yaml", out, monkeypatch)
        assert code == EXIT_OK
        bodies = [r.body for r in sandbox.state.request_log if r.method == "POST"]
    rows = csv_rows("call_list.csv")
    assert len(bodies) == len(rows)
    by_destination = {digits(str(body["to"])): body for body in bodies if body}
    for row in rows:
        body = by_destination[digits(row["phone"])]
        assert body["answer_url"] == (
            f"https://example.com/voice/outage.xml?lang={row['language']}"
        )
        assert body["caller_name"] == f"Ops alert for {row['team']}"
        assert body["machine_detection"] == "hangup"
        assert body["ring_url"] == "https://example.com/voice/ringing"
        assert body["hangup_url"] == "https://example.com/voice/hangup"
        assert int(body["time_limit"]) == 120


async def test_scheduled_balance_check_texts_the_balance_and_the_ticks_date(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as sandbox:
        out = tmp_path / "out.jsonl"
        pipeline = EXAMPLES / "scheduled_balance_check.yaml"
        assert await run_against(sandbox, pipeline, out, monkeypatch) == EXIT_OK
        (message,) = sandbox.state.messages
    text = message["text"]
    assert text.startswith("Plivo balance is 100.00000, below 250 (")
    # The Schedule Trigger's "Readable date", e.g. "December 3rd 2026, 9:00:12 am".
    assert re.search(r"\(\w+ \d{1,2}(st|nd|rd|th) \d{4}, \d{1,2}:\d\d:\d\d [ap]m\)", text)
