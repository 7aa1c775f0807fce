"""The editor's API without a browser: the guard, runs, checks, credentials and exports."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from plivo_node.editor.api import new_state
from plivo_node.editor.project import open_file
from plivo_node.editor.server import build_app
from plivo_node.nodes.plivo.suppression import Source, opened
from plivo_node.run.registry import NodeRegistry
from plivo_sandbox import Sandbox, SandboxConfig

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SECRET = "test-session-secret"
HEADERS = {"X-Editor-Session": SECRET}
TOKEN = "EditorTok3n-never-shown-0123456789"
CONTACTS = [
    {"name": "Ada", "phone": "+14155550101", "appointment": "Tuesday"},
    {"name": "Ben", "phone": "+14155550102", "appointment": "Wednesday"},
    {"name": "Cy", "phone": "+14155550103", "appointment": "Thursday"},
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TestClient[Any, Any]]:
    monkeypatch.setenv("PLIVO_NODE_STATE_DIR", str(tmp_path / "state"))
    registry = NodeRegistry()
    pipeline = tmp_path / "send_sms.yaml"
    pipeline.write_text((EXAMPLES / "send_sms.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "contacts.csv").write_text(
        (EXAMPLES / "contacts.csv").read_text(encoding="utf-8"), encoding="utf-8"
    )
    port = _free_port()
    app = build_app(new_state(registry, pipeline, open_file(pipeline, registry)), SECRET, port)
    async with TestClient(TestServer(app, port=port)) as test_client:
        yield test_client


async def _document(client: TestClient[Any, Any]) -> dict[str, Any]:
    response = await client.get("/api/document", headers=HEADERS)
    assert response.status == 200
    data: dict[str, Any] = await response.json()
    return data


async def _messages(sandbox: Sandbox) -> int:
    pair = f"{sandbox.config.auth_id}:{sandbox.config.auth_token}".encode()
    auth = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    async with (
        aiohttp.ClientSession(headers=auth) as session,
        session.get(f"{sandbox.url}Account/{sandbox.config.auth_id}/Message/") as response,
    ):
        body = await response.json()
        return int(body["meta"]["total_count"])


# --- the guard -------------------------------------------------------------------------------


async def test_every_api_call_needs_the_session_secret(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/api/nodes")).status == 401
    wrong = {"X-Editor-Session": SECRET + "x"}
    assert (await client.get("/api/nodes", headers=wrong)).status == 401
    assert (await client.post("/api/run", headers=wrong, json={})).status == 401
    assert (await client.get("/api/nodes", headers=HEADERS)).status == 200


async def test_the_page_needs_the_secret_in_its_url(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/")).status == 401
    page = await client.get(f"/?s={SECRET}")
    assert page.status == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the URL holds the secret
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


async def test_other_origins_and_hosts_are_refused(client: TestClient[Any, Any]) -> None:
    evil = {**HEADERS, "Origin": "http://evil.example"}
    response = await client.post("/api/run", headers=evil, json={})
    assert response.status == 403
    assert "evil.example" in (await response.json())["error"]
    rebound = {**HEADERS, "Host": "attacker.example:80"}
    assert (await client.get("/api/nodes", headers=rebound)).status == 403
    same = {**HEADERS, "Origin": f"http://127.0.0.1:{client.port}"}
    assert (await client.get("/api/nodes", headers=same)).status == 200


# --- what the page is given --------------------------------------------------------------------


async def test_nodes_list_every_registered_type_with_its_description(
    client: TestClient[Any, Any],
) -> None:
    nodes = (await (await client.get("/api/nodes", headers=HEADERS)).json())["nodes"]
    by_name = {node["name"]: node for node in nodes}
    assert set(by_name) == set(NodeRegistry().names())
    assert by_name["if"]["description"]["outputNames"] == ["true", "false"]
    assert by_name["manualTrigger"]["trigger"] is True
    assert by_name["plivo"]["credentials"][0]["name"] == "plivoApi"


async def test_the_document_opens_with_its_input_items(client: TestClient[Any, Any]) -> None:
    document = await _document(client)
    assert document["format"] == "yaml"
    assert document["pipeline"]["steps"][0]["name"] == "Send reminder"
    assert [item["name"] for item in document["items"]][:2] == ["Ada Quill", "Ben Marlow"]


# --- runs ---------------------------------------------------------------------------------


async def test_a_sandbox_run_pairs_each_output_with_its_input_item(
    client: TestClient[Any, Any],
) -> None:
    pipeline = (await _document(client))["pipeline"]
    response = await client.post(
        "/api/run", headers=HEADERS, json={"pipeline": pipeline, "items": CONTACTS}
    )
    assert response.status == 200, await response.text()
    report = await response.json()
    assert report["mode"] == "sandbox"
    assert report["summary"]["succeeded"] == 3
    rows = report["steps"]["Send reminder"]
    assert [row["index"] for row in rows] == [0, 1, 2]
    for row, contact in zip(rows, CONTACTS, strict=True):
        assert row["input"] == contact
        (output,) = row["outputs"]
        assert output["json"]["to"] == contact["phone"].lstrip("+")
        assert output["json"]["message_uuid"]


async def test_a_run_up_to_a_node_stops_there_and_pairs_through_the_graph(
    client: TestClient[Any, Any],
) -> None:
    opened = await client.post(
        "/api/open",
        headers=HEADERS,
        json={
            "text": (EXAMPLES / "n8n_opt_in_sms.json").read_text(encoding="utf-8"),
            "filename": "n8n_opt_in_sms.json",
        },
    )
    document = await opened.json()
    assert document["format"] == "n8n"
    assert document["positions"]["Opted in?"] == [660.0, 0.0]
    pipeline = document["pipeline"]
    whole = await (
        await client.post("/api/run", headers=HEADERS, json={"pipeline": pipeline, "items": []})
    ).json()
    sent = whole["steps"]["Send SMS"]
    assert [row["input"]["name"] for row in sent] == ["Ada Quill", "Chloé Vidal"]
    assert all(row["outputs"][0]["json"]["message_uuid"] for row in sent)
    branch = {
        row["input"]["name"]: row["outputs"][0]["output"] for row in whole["steps"]["Opted in?"]
    }
    assert branch == {
        "Ada Quill": "true",
        "Ben Marlow": "false",
        "Chloé Vidal": "true",
        "Dana Reyes": "false",
    }
    partial = await (
        await client.post(
            "/api/run",
            headers=HEADERS,
            json={"pipeline": pipeline, "items": [], "upTo": "Split Out"},
        )
    ).json()
    trigger = "When clicking \u2018Execute workflow\u2019"  # n8n's default name, curly quotes
    assert set(partial["steps"]) == {trigger, "Edit Fields", "Split Out"}


async def test_parameter_problems_are_located_by_step_and_field(
    client: TestClient[Any, Any],
) -> None:
    pipeline = (await _document(client))["pipeline"]
    parameters = pipeline["steps"][0]["parameters"]
    for change, field in (({"from": "12"}, "from"), ({"bogus": 1}, "bogus")):
        pipeline["steps"][0]["parameters"] = {**parameters, **change}
        for route in ("/api/validate", "/api/run"):
            response = await client.post(
                route, headers=HEADERS, json={"pipeline": pipeline, "items": CONTACTS}
            )
            assert response.status == 400
            problems = (await response.json())["problems"]
            assert [(p["step"], p["field"]) for p in problems] == [("Send reminder", field)]


async def test_expression_previews_use_the_runtime_evaluator(client: TestClient[Any, Any]) -> None:
    async def preview(expression: str) -> dict[str, Any]:
        body = {"expression": expression, "item": CONTACTS[1], "itemIndex": 1}
        return dict(await (await client.post("/api/preview", headers=HEADERS, json=body)).json())

    assert await preview("=Hi {{ $json.name.toUpperCase() }} #{{ $itemIndex }}") == {
        "value": "Hi BEN #1"
    }
    assert await preview("plain") == {"value": "plain"}
    assert "error" in await preview("={{ $json.name.nope() }}")


async def test_items_load_through_the_run_input_reader(client: TestClient[Any, Any]) -> None:
    body = {"text": "name,phone\nAda,+14155550101\n", "filename": "c.csv"}
    loaded = await (await client.post("/api/items", headers=HEADERS, json=body)).json()
    assert loaded == {"items": [{"name": "Ada", "phone": "+14155550101"}]}
    bad = {"text": "name,phone\nAda\n", "filename": "c.csv"}
    response = await client.post("/api/items", headers=HEADERS, json=bad)
    assert response.status == 400


# --- live runs and credentials ------------------------------------------------------------


async def _set_credentials(client: TestClient[Any, Any], sandbox: Sandbox) -> None:
    fields = {
        "authId": sandbox.config.auth_id,
        "authToken": sandbox.config.auth_token,
        "baseUrl": sandbox.url.rstrip("/"),
    }
    response = await client.put(
        "/api/credentials", headers=HEADERS, json={"type": "plivoApi", "fields": fields}
    )
    assert response.status == 200, await response.text()


async def test_a_live_run_is_refused_without_a_dry_runs_confirmation(
    client: TestClient[Any, Any],
) -> None:
    async with Sandbox(SandboxConfig()) as account:
        await _set_credentials(client, account)
        pipeline = (await _document(client))["pipeline"]
        body = {"pipeline": pipeline, "items": CONTACTS, "mode": "live"}
        refused = await client.post("/api/run", headers=HEADERS, json=body)
        assert refused.status == 400
        assert "confirmation" in (await refused.json())["error"]
        forged = await client.post(
            "/api/run", headers=HEADERS, json={**body, "confirmation": "made-up"}
        )
        assert forged.status == 400
        assert await _messages(account) == 0

        dry = await (
            await client.post(
                "/api/dry-run", headers=HEADERS, json={"pipeline": pipeline, "items": CONTACTS}
            )
        ).json()
        assert dry["mode"] == "dry-run"
        assert any("segments: 3" in line for line in dry["summary"]["lines"])
        assert await _messages(account) == 0  # the dry run sends nothing
        other = [*CONTACTS, CONTACTS[0]]
        changed = await client.post(
            "/api/run",
            headers=HEADERS,
            json={**body, "items": other, "confirmation": dry["confirmation"]},
        )
        assert changed.status == 400  # confirmed figures were for other items
        assert await _messages(account) == 0

        again = await (
            await client.post(
                "/api/dry-run", headers=HEADERS, json={"pipeline": pipeline, "items": CONTACTS}
            )
        ).json()
        live = await client.post(
            "/api/run", headers=HEADERS, json={**body, "confirmation": again["confirmation"]}
        )
        assert live.status == 200, await live.text()
        assert (await live.json())["mode"] == "live"
        assert await _messages(account) == 3
        reused = await client.post(
            "/api/run", headers=HEADERS, json={**body, "confirmation": again["confirmation"]}
        )
        assert reused.status == 400  # a confirmation allows one run: nothing is sent twice
        assert await _messages(account) == 3


async def test_the_auth_token_never_reaches_a_response_or_an_export(
    client: TestClient[Any, Any],
) -> None:
    seen: list[str] = []

    async def call(method: str, path: str, body: Any = None) -> Any:
        response = await client.request(method, path, headers=HEADERS, json=body)
        seen.append(await response.text())
        return json.loads(seen[-1])

    fields = {
        "authId": "MAABCDEFGHIJKLMNOPQR",
        "authToken": TOKEN,
        "baseUrl": "http://127.0.0.1:9/v1",
    }
    await call("PUT", "/api/credentials", {"type": "plivoApi", "fields": fields})
    listed = await call("GET", "/api/credentials")
    assert listed["credentials"]["plivoApi"]["authToken"] == {"set": True}
    assert listed["credentials"]["plivoApi"]["authId"] == {"value": "MAABCDEFGHIJKLMNOPQR"}
    pipeline = (await call("GET", "/api/document"))["pipeline"]
    yaml_export = await call("POST", "/api/export", {"pipeline": pipeline, "format": "yaml"})
    assert "${PLIVO_AUTH_TOKEN}" in yaml_export["text"]
    await call("POST", "/api/export", {"pipeline": pipeline, "positions": {}, "format": "n8n"})
    # A dry run against an unreachable account fails: its error must not carry the token either.
    await call("POST", "/api/dry-run", {"pipeline": pipeline, "items": CONTACTS})
    # An expression that reads a field holding the token, as a careless user might.
    await call("POST", "/api/preview", {"expression": "={{ $json.t }}", "item": {"t": TOKEN}})
    b64 = base64.b64encode(TOKEN.encode()).decode()
    for text in seen:
        assert TOKEN not in text
        assert b64 not in text


async def test_exports_round_trip_and_save_writes_the_files_format(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    document = await _document(client)
    pipeline, positions = document["pipeline"], {"Send reminder": [100, 200]}
    n8n = await (
        await client.post(
            "/api/export",
            headers=HEADERS,
            json={"pipeline": pipeline, "positions": positions, "format": "n8n"},
        )
    ).json()
    workflow = json.loads(n8n["text"])
    assert workflow["nodes"][0]["type"] == "n8n-nodes-base.plivo"
    assert workflow["nodes"][0]["position"] == [100, 200]
    saved = await client.post(
        "/api/save", headers=HEADERS, json={"pipeline": pipeline, "positions": positions}
    )
    assert saved.status == 200
    text = (tmp_path / "send_sms.yaml").read_text(encoding="utf-8")
    assert "Send reminder" in text
    assert "credentials" not in text  # none set in the editor: the file keeps using env/sandbox


async def test_an_n8n_workflow_saves_back_as_an_n8n_workflow(tmp_path: Path) -> None:
    registry = NodeRegistry()
    path = tmp_path / "opt_in.json"
    path.write_text((EXAMPLES / "n8n_opt_in_sms.json").read_text(encoding="utf-8"), "utf-8")
    document = open_file(path, registry)
    assert document.format == "n8n"
    port = _free_port()
    app = build_app(new_state(registry, path, document), SECRET, port)
    async with TestClient(TestServer(app, port=port)) as client:
        body = {"pipeline": document.pipeline, "positions": document.positions}
        saved = await client.post("/api/save", headers=HEADERS, json=body)
        assert (await saved.json())["format"] == "n8n"
    written = json.loads(path.read_text(encoding="utf-8"))
    assert {node["name"] for node in written["nodes"]} == {
        step["name"] for step in document.pipeline["steps"]
    }
    assert written["connections"]["Opted in?"]["main"][1][0]["node"] == "No Operation, do nothing"
    reopened = open_file(path, registry)
    assert reopened.pipeline["steps"] == document.pipeline["steps"]
    assert reopened.positions == document.positions


async def test_a_schedule_trigger_renders_runs_and_round_trips(
    client: TestClient[Any, Any],
) -> None:
    nodes = (await (await client.get("/api/nodes", headers=HEADERS)).json())["nodes"]
    schedule = next(node for node in nodes if node["name"] == "scheduleTrigger")
    assert schedule["trigger"] is True
    rule = next(p for p in schedule["description"]["properties"] if p["name"] == "rule")
    # The panel edits a fixedCollection as JSON text; its groups and values come along.
    assert rule["type"] == "fixedCollection"
    assert rule["options"][0]["name"] == "interval"
    assert [v["name"] for v in rule["options"][0]["values"]][:3] == [
        "field",
        "secondsInterval",
        "minutesInterval",
    ]
    text = (EXAMPLES / "scheduled_balance_check.yaml").read_text(encoding="utf-8")
    opened = await client.post(
        "/api/open", headers=HEADERS, json={"text": text, "filename": "scheduled.yaml"}
    )
    pipeline = (await opened.json())["pipeline"]
    rules = {"interval": [{"field": "days", "triggerAtHour": 9}]}
    assert pipeline["steps"][0]["parameters"]["rule"] == rules
    report = await (
        await client.post("/api/run", headers=HEADERS, json={"pipeline": pipeline, "items": []})
    ).json()
    ((tick,),) = [row["outputs"] for row in report["steps"]["Every morning"]]
    # The editor's runs open no run scopes, so the tick is stamped in this machine's zone.
    assert set(tick["json"]) >= {"timestamp", "Readable date", "Day of week", "Timezone"}
    exported = await (
        await client.post(
            "/api/export", headers=HEADERS, json={"pipeline": pipeline, "format": "n8n"}
        )
    ).json()
    node = json.loads(exported["text"])["nodes"][0]
    assert node["type"] == "n8n-nodes-base.scheduleTrigger"
    assert node["parameters"]["rule"] == rules
    reopened = await client.post(
        "/api/open", headers=HEADERS, json={"text": exported["text"], "filename": "wf.json"}
    )
    assert (await reopened.json())["pipeline"]["steps"][0]["parameters"]["rule"] == rules
    pipeline["steps"][0]["parameters"]["rule"] = {
        "interval": [{"field": "minutes", "minutesInterval": 90}]
    }
    problems = (
        await (
            await client.post(
                "/api/validate", headers=HEADERS, json={"pipeline": pipeline, "items": []}
            )
        ).json()
    )["problems"]
    assert [(p["step"], p["field"]) for p in problems] == [
        ("Every morning", "rule.interval[0].minutesInterval")
    ]
    assert problems[0]["message"].startswith("90 is above the maximum of 59")


async def test_editor_runs_skip_a_number_on_the_suppression_list(
    client: TestClient[Any, Any],
) -> None:
    with opened() as listed:
        listed.add("14155550102", reason="keyword STOP", source=Source.KEYWORD)
    pipeline = (await _document(client))["pipeline"]
    async with Sandbox(SandboxConfig()) as account:
        await _set_credentials(client, account)
        dry = await (
            await client.post(
                "/api/dry-run", headers=HEADERS, json={"pipeline": pipeline, "items": CONTACTS}
            )
        ).json()
        assert any("would skip 1 items" in line for line in dry["summary"]["lines"])
        body = {"pipeline": pipeline, "items": CONTACTS, "mode": "live"}
        live = await client.post(
            "/api/run", headers=HEADERS, json={**body, "confirmation": dry["confirmation"]}
        )
        assert live.status == 200, await live.text()
        report = await live.json()
        assert await _messages(account) == 2  # Ben texted STOP: nothing went to him
    rows = report["steps"]["Send reminder"]
    assert rows[1]["outputs"][0]["error"]["code"] == "suppressed"
    assert any("skipped 1 items" in line for line in report["summary"]["lines"])
