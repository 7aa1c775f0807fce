"""`plivo-node serve` as a subprocess on loopback, against a sandbox the test owns: signed
callbacks run the pipeline (the auto-reply reaches the sandbox), unsigned / tampered / replayed
ones are refused and run nothing, retries run once, and status callbacks the sandbox signs are
accepted."""

from __future__ import annotations

import asyncio
import base64
import sys
from pathlib import Path

import aiohttp
import pytest

from plivo_sandbox import Sandbox
from tests.serve.conftest import (
    AUTH_ID,
    AUTH_TOKEN,
    OUR_NUMBER,
    auto_reply,
    inbound,
    post,
    serve_env,
    start_serve,
    v2_headers,
    v3_headers,
)

pytestmark = pytest.mark.slow  # each test starts a plivo-node process

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "auto_reply.yaml"


def replies(sandbox: Sandbox) -> list[str]:
    return [message["text"] for message in sandbox.state.messages]


async def test_a_signed_inbound_message_runs_the_pipeline_once(
    sandbox: Sandbox, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    serve = await start_serve(sandbox, tmp_path / "state", auto_reply(tmp_path))
    url = serve.urls["sms"]
    try:
        params = inbound("m-1")
        assert await post(session, url, params, v2_headers(url)) == (200, "OK")
        # Plivo retries (a new nonce, the same message): acknowledged, not run again.
        assert await post(session, url, params, v2_headers(url)) == (200, "OK")
        await serve.wait_output(1)
        await asyncio.sleep(0.3)
    finally:
        assert await serve.stop() == 0
    assert replies(sandbox) == ["re m-1"]
    (line,) = serve.output()
    assert line["event"] == 1
    assert line["json"]["to"] == "14155559000"
    assert line["json"]["from"] == OUR_NUMBER
    assert AUTH_TOKEN.encode() not in serve.stderr


async def test_bad_signatures_are_refused_and_run_nothing(
    sandbox: Sandbox, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    serve = await start_serve(sandbox, tmp_path / "state", auto_reply(tmp_path))
    url = serve.urls["sms"]
    try:
        params = inbound("m-2")
        status, _ = await post(session, url, params, {})
        assert status == 403
        other_url = url.replace("/webhook/sms", "/webhook/other")
        status, text = await post(session, url, params, v2_headers(other_url))
        assert status == 403
        assert "signature does not match" in text
        rotated = v2_headers(url, token="the-old-token-before-rotation-000")
        assert (await post(session, url, params, rotated))[0] == 403
        # A captured request sent again (same nonce) is refused, even with another body.
        headers = v2_headers(url)
        assert (await post(session, url, params, headers))[0] == 200
        replayed = await post(session, url, inbound("m-forged", text="forged"), headers)
        assert replayed[0] == 403
        # A request to a path nothing is served at.
        assert (await post(session, other_url, params, v2_headers(other_url)))[0] == 404
        await serve.wait_output(1)
        await asyncio.sleep(0.3)
    finally:
        await serve.stop()
    assert replies(sandbox) == ["re m-2"]


async def test_events_not_selected_are_acknowledged_and_ignored_and_v3_is_checked(
    sandbox: Sandbox, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    serve = await start_serve(sandbox, tmp_path / "state", auto_reply(tmp_path))
    url = serve.urls["sms"]
    call = {
        "CallUUID": "c-1",
        "CallStatus": "completed",
        "Event": "Hangup",
        "From": "14155559001",
        "To": OUR_NUMBER,
        "Direction": "inbound",
    }
    try:
        # A voice callback signed with V2 only: refused (voice callbacks are V3).
        assert (await post(session, url, call, v2_headers(url)))[0] == 403
        # Acknowledged with Plivo XML (a voice URL must return call instructions), not "OK".
        assert await post(session, url, call, v3_headers(url, call)) == (200, "<Response/>")
        tampered = {**call, "CallStatus": "busy"}
        assert (await post(session, url, tampered, v3_headers(url, call)))[0] == 403
        status = {
            "MessageUUID": "m-9",
            "Status": "delivered",
            "To": "14155559002",
            "From": OUR_NUMBER,
        }
        assert await post(session, url, status, v2_headers(url)) == (200, "OK")
        params = inbound("m-3")
        assert await post(session, url, params, v2_headers(url)) == (200, "OK")
        await serve.wait_output(1)
        await asyncio.sleep(0.3)
    finally:
        await serve.stop()
    assert replies(sandbox) == ["re m-3"]
    assert [line["event"] for line in serve.output()] == [3]


async def test_the_sandbox_status_callbacks_are_accepted(
    sandbox: Sandbox, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    pipeline = tmp_path / "status.yaml"
    pipeline.write_text(
        """
version: 1
steps:
  - name: Status
    node: plivoTrigger
    parameters: {events: [messageStatus], path: status}
""",
        encoding="utf-8",
    )
    serve = await start_serve(sandbox, tmp_path / "state", pipeline)
    url = serve.urls["status"]
    try:
        account = f"{sandbox.url}Account/{AUTH_ID}/Message/"
        auth = "Basic " + base64.b64encode(f"{AUTH_ID}:{AUTH_TOKEN}".encode()).decode()
        body = {"src": OUR_NUMBER, "dst": "14155559003", "text": "hi", "url": url}
        async with session.post(account, json=body, headers={"Authorization": auth}) as response:
            assert response.status == 202
        await serve.wait_output(2, path="status")
    finally:
        await serve.stop()
    statuses = [line["json"]["Status"] for line in serve.output("status")]
    assert statuses[:2] == ["queued", "sent"]
    assert all(line["json"]["To"] == "14155559003" for line in serve.output("status"))


async def test_serve_refuses_a_pipeline_without_a_trigger_and_run_refuses_a_trigger(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text(
        "version: 1\nsteps:\n  - {name: Account, node: plivo, parameters: "
        "{resource: account, operation: get}}\n",
        encoding="utf-8",
    )
    env = serve_env(sandbox, tmp_path / "state")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "plivo_node.cli",
        "serve",
        str(plain),
        "--port",
        "0",
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await process.communicate()
    assert process.returncode == 2
    assert f"{plain}: its first step 'Account' (plivo) is not a webhook or schedule trigger" in (
        err.decode()
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "plivo_node.cli",
        "run",
        str(auto_reply(tmp_path)),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await process.communicate()
    assert process.returncode == 2
    assert "use `plivo-node serve" in err.decode() or "serve it with" in err.decode()
    assert not sandbox.state.messages


async def test_signatures_cover_the_public_url_and_output_goes_to_the_output_dir(
    sandbox: Sandbox, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    public = "https://abc.tunnel.example"
    serve = await start_serve(
        sandbox,
        tmp_path / "state",
        auto_reply(tmp_path),
        args=("--public-url", public, "--output", str(tmp_path / "out")),
    )
    assert serve.urls == {"sms": f"{public}/webhook/sms"}
    local = f"{serve.local}/webhook/sms?tag=1"
    try:
        # Signed for the local URL: not what Plivo called, refused.
        assert (await post(session, local, inbound("m-p"), v2_headers(local)))[0] == 403
        signed_for = f"{public}/webhook/sms?tag=1"
        assert await post(session, local, inbound("m-p"), v2_headers(signed_for)) == (200, "OK")
        async with asyncio.timeout(30):
            while not (tmp_path / "out" / "sms.jsonl").exists():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            while not (tmp_path / "out" / "sms.jsonl").read_text():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    finally:
        await serve.stop()
    assert replies(sandbox) == ["re m-p"]


async def test_the_auto_reply_example_answers_a_signed_inbound_sms(
    sandbox: Sandbox, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    assert "plivo-node serve examples/auto_reply.yaml" in EXAMPLE.read_text()
    serve = await start_serve(sandbox, tmp_path / "state", EXAMPLE)
    url = serve.urls["auto-reply"]
    try:
        params = inbound("m-example", text="Do you open on Sunday?")
        assert await post(session, url, params, v2_headers(url)) == (200, "OK")
        await serve.wait_output(1, path="auto-reply")
    finally:
        await serve.stop()
    (message,) = sandbox.state.messages
    assert message["dst"] == "14155559000"
    assert message["text"] == "Thanks for your message! We got: Do you open on Sunday?"
