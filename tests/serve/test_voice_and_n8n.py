"""End to end on the sandbox: the missed-call example texts a caller once (a retried callback
too), its answer_url answers with Plivo XML; n8n's Plivo Trigger vocabulary (event names,
_eventType, validateSignature) and an n8n workflow that starts with it, served."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from plivo_sandbox import Sandbox
from tests.serve.conftest import (
    AUTH_ID,
    AUTH_TOKEN,
    OUR_NUMBER,
    inbound,
    post,
    start_serve,
    v2_headers,
    v3_headers,
)

pytestmark = pytest.mark.slow  # each test starts a plivo-node process

MISSED_CALL = Path(__file__).resolve().parents[2] / "examples" / "missed_call_text.yaml"
CALLER = "14155559000"


async def inject_call(
    session: aiohttp.ClientSession, sandbox: Sandbox, caller: str, duration: int
) -> dict[str, Any]:
    url = f"{sandbox.url}Account/{AUTH_ID}/Sandbox/InboundCall/"
    auth = "Basic " + base64.b64encode(f"{AUTH_ID}:{AUTH_TOKEN}".encode()).decode()
    body = {"from": caller, "to": OUR_NUMBER, "duration": str(duration)}
    async with session.post(url, json=body, headers={"Authorization": auth}) as response:
        assert response.status == 202
        reply: dict[str, Any] = await response.json()
    return reply


async def test_a_missed_call_is_texted_back_once(
    sandbox: Sandbox, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    assert "--attach +14155550100" in MISSED_CALL.read_text()
    # No --public-url: the sandbox is on this machine, so it reaches serve's loopback webhook.
    serve = await start_serve(
        sandbox, tmp_path / "state", MISSED_CALL, args=("--attach", OUR_NUMBER)
    )
    url = serve.urls["missed-call"]
    try:
        missed = await inject_call(session, sandbox, CALLER, duration=0)
        talked = await inject_call(session, sandbox, "14155559001", duration=45)
        async with asyncio.timeout(30):  # four callbacks: two answers, two hangups
            while sandbox.state.callbacks_sent < 4:  # noqa: ASYNC110 - the sandbox's own task
                await asyncio.sleep(0.02)
        await serve.wait_output(1, path="missed-call")
        # Plivo retries the hangup callback (a new nonce): acknowledged, nobody texted twice.
        retry = {
            "CallUUID": missed["call_uuid"],
            "Event": "Hangup",
            "CallStatus": "completed",
            "Direction": "inbound",
            "From": CALLER,
            "To": OUR_NUMBER,
            "Duration": "0",
            "HangupCause": "ORIGINATOR_CANCEL",
        }
        status, body = await post(session, url, retry, v3_headers(url, retry))
        assert (status, body) == (200, '<Response><Hangup reason="busy"/></Response>')
        await asyncio.sleep(0.5)
    finally:
        assert await serve.stop() == 0
    texts = [(m["src"], m["dst"], m["text"]) for m in sandbox.state.messages]
    assert texts == [
        (
            OUR_NUMBER,
            CALLER,
            "Sorry we missed your call! Reply to this text and we will get back to you.",
        )
    ]
    # Each call's answer_url got the example's Plivo XML, as text/xml.
    answers = [r for r in sandbox.state.callback_replies if r.params["Event"] == "StartApp"]
    assert sorted(r.params["CallUUID"] for r in answers) == sorted(
        [missed["call_uuid"], talked["call_uuid"]]
    )
    assert {(r.status, r.content_type, r.body) for r in answers} == {
        (200, "text/xml", '<Response><Hangup reason="busy"/></Response>')
    }
    (line,) = serve.output("missed-call")
    assert line["json"]["to"] == CALLER


TRIGGER_ONLY = """
version: 1
steps:
  - name: Plivo Trigger
    node: plivoTrigger
    parameters:
      events: [incomingSms, smsStatus, incomingCall]
      path: n8n-names
      validateSignature: false
"""


async def test_n8n_event_names_event_type_and_unsigned_requests(
    sandbox: Sandbox, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    pipeline = tmp_path / "n8n_names.yaml"
    pipeline.write_text(TRIGGER_ONLY, encoding="utf-8")
    serve = await start_serve(sandbox, tmp_path / "state", pipeline)
    url = serve.urls["n8n-names"]
    ringing = {
        "CallUUID": "c-9",
        "Direction": "inbound",
        "CallStatus": "ringing",
        "Event": "StartApp",
        "From": CALLER,
        "To": OUR_NUMBER,
    }
    status = {"MessageUUID": "m-s", "Status": "delivered", "To": CALLER, "From": OUR_NUMBER}
    try:
        # validateSignature: false: an unsigned callback is accepted...
        assert await post(session, url, inbound("m-1"), {}) == (200, "OK")
        assert await post(session, url, ringing, {}) == (200, "<Response/>")
        # ...a signed one too, and a wrong signature is still refused.
        assert await post(session, url, status, v2_headers(url)) == (200, "OK")
        forged = v2_headers(url, token="not-the-token-but-long-enough-0001")
        assert (await post(session, url, inbound("m-2"), forged))[0] == 403
        await serve.wait_output(3, path="n8n-names")
    finally:
        assert await serve.stop() == 0
    types = sorted(line["json"]["_eventType"] for line in serve.output("n8n-names"))
    assert types == ["incomingCall", "incomingSms", "smsStatus"]
    assert b"validateSignature is false" in serve.stderr


def workflow(tmp_path: Path) -> Path:
    nodes = [
        {
            "parameters": {"events": ["incomingSms"], "validateSignature": True},
            "type": "n8n-nodes-base.plivoTrigger",
            "typeVersion": 1,
            "position": [0, 0],
            "id": "6b0f7a52-2c1e-4d8a-9f3b-1a2b3c4d5e6f",
            "name": "Plivo Trigger",
            "webhookId": "0d5c2e4f-8a9b-4c1d-b2e3-f4a5b6c7d8e9",
            "credentials": {"plivoApi": {"id": "Xk3pQ9rT2vW8yZ1a", "name": "Plivo account"}},
        },
        {
            "parameters": {
                "from": "={{ $json.To }}",
                "to": "={{ $json.From }}",
                "message": "=Got it ({{ $json._eventType }})",
            },
            "type": "n8n-nodes-base.plivo",
            "typeVersion": 1,
            "position": [220, 0],
            "id": "e2b85f0c-9d64-4a17-b3e8-7c1f6a2d9b50",
            "name": "Reply",
            "credentials": {"plivoApi": {"id": "Xk3pQ9rT2vW8yZ1a", "name": "Plivo account"}},
        },
    ]
    connections = {"Plivo Trigger": {"main": [[{"node": "Reply", "type": "main", "index": 0}]]}}
    file = tmp_path / "n8n_auto_reply.json"
    file.write_text(json.dumps({"name": "Auto-reply", "nodes": nodes, "connections": connections}))
    return file


async def test_an_n8n_workflow_starting_with_plivo_trigger_is_served(
    sandbox: Sandbox, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    serve = await start_serve(sandbox, tmp_path / "state", workflow(tmp_path))
    url = serve.urls["n8n_auto_reply"]
    try:
        assert (await post(session, url, inbound("m-u"), {}))[0] == 403  # signatures required
        assert await post(session, url, inbound("m-w"), v2_headers(url)) == (200, "OK")
        await serve.wait_output(1, path="n8n_auto_reply")
    finally:
        assert await serve.stop() == 0
    assert [(m["dst"], m["text"]) for m in sandbox.state.messages] == [
        ("14155559000", "Got it (incomingSms)")
    ]
