"""Sends made by serve's event runs honour the suppression list (a STOP heard by serve
included), and serve refuses what it cannot honour (a send window)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from plivo_node.cli import main
from plivo_node.nodes.plivo import suppression
from plivo_sandbox import Sandbox
from tests.serve.conftest import auto_reply, inbound, post, start_serve, v2_headers

STOPPED = "14155559001"
OTHER = "14155559002"


@pytest.mark.slow
async def test_a_stop_suppresses_its_sender_for_the_events_that_follow(
    sandbox: Sandbox, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    serve = await start_serve(sandbox, state, auto_reply(tmp_path))
    url = serve.urls["sms"]
    try:
        # The run's list is re-read at most once a second: let the first check pass.
        await asyncio.sleep(1.2)
        stop = inbound("m-stop", sender=STOPPED, text="STOP")
        assert await post(session, url, stop, v2_headers(url)) == (200, "OK")
        await serve.wait_output(1)
        await asyncio.sleep(1.2)
        again = inbound("m-again", sender=STOPPED, text="hello?")
        other = inbound("m-other", sender=OTHER, text="hello")
        assert await post(session, url, again, v2_headers(url)) == (200, "OK")
        assert await post(session, url, other, v2_headers(url)) == (200, "OK")
        await serve.wait_output(3)
    finally:
        assert await serve.stop() == 0
    assert [m["dst"] for m in sandbox.state.messages].count(STOPPED) == 0
    assert [m["text"] for m in sandbox.state.messages if m["dst"] == OTHER] == ["re m-other"]
    lines = serve.output()
    codes = [line.get("error", {}).get("code") for line in lines[:2]]
    assert codes == ["suppressed", "suppressed"]
    with suppression.opened(state / suppression.database_path().name) as listed:
        assert STOPPED in listed.numbers()


def test_serve_refuses_a_send_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = auto_reply(tmp_path)
    text = pipeline.read_text(encoding="utf-8")
    pipeline.write_text(
        text.replace(
            "timeoutSeconds: 5}", 'timeoutSeconds: 5, sendWindow: {from: "09:00", to: "20:00"}}'
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("PLIVO_NODE_STATE_DIR", str(tmp_path / "state"))
    assert main(["serve", str(pipeline), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "sendWindow" in err
    assert "Traceback" not in err
