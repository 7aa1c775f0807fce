"""Starting and stopping, the module entry point, and message status callbacks."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
from aiohttp import web
from plivo.utils import validate_signature

from plivo_node.core.errors import ConfigurationError
from plivo_sandbox import Sandbox, SandboxConfig
from plivo_sandbox.__main__ import main as sandbox_main
from plivo_sandbox.callbacks import is_local_url
from plivo_sandbox.server import _serve

from .conftest import Api, basic_auth


def test_only_loopback_hosts_are_allowed() -> None:
    with pytest.raises(ConfigurationError, match="loopback"):
        Sandbox(host="0.0.0.0")


def test_url_needs_a_running_sandbox() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = Sandbox().url


async def test_url_shape_and_state_survives_a_restart() -> None:
    sandbox = Sandbox()
    async with sandbox:
        assert sandbox.url == f"http://127.0.0.1:{sandbox.port}/v1/"
        assert sandbox.account_url.endswith(f"/v1/Account/{sandbox.config.auth_id}/")
        header = basic_auth(sandbox.config.auth_id, sandbox.config.auth_token)
        async with aiohttp.ClientSession(headers={"Authorization": header}) as http:
            api = Api(http, sandbox.account_url)
            await api.post("Message/", {"src": "14155550100", "dst": "14155550101", "text": "x"})
    async with sandbox:
        assert sandbox.state.count_for("14155550101") == 1


async def test_busy_port_is_a_configuration_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigurationError, match="cannot listen"):
            await Sandbox(port=port).start()


async def test_serve_reports_the_url_and_stops_when_cancelled() -> None:
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(_serve(Sandbox(), ready.set_result))
    url = await asyncio.wait_for(ready, timeout=5)
    header = basic_auth("MASANDBOX00000000000", "sandbox-auth-token")
    async with (
        aiohttp.ClientSession(headers={"Authorization": header}) as http,
        http.get(url + "Account/MASANDBOX00000000000/") as response,
    ):
        assert response.status == 200
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_module_main_rejects_a_bad_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox_main(["--fault-rate", "2"]) == 2
    assert "outside 0..1" in capsys.readouterr().err


# --- status callbacks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080/cb", True),
        ("http://localhost/cb", True),
        ("http://[::1]:9/cb", True),
        ("https://example.com/cb", False),
        ("http://127.0.0.1.example.com/cb", False),
        ("ftp://127.0.0.1/cb", False),
    ],
)
def test_callbacks_only_go_to_the_local_machine(url: str, local: bool) -> None:
    assert is_local_url(url) is local


async def test_status_callbacks_are_posted_and_signed() -> None:
    received: list[dict[str, str]] = []
    done = asyncio.Event()
    config = SandboxConfig()

    async def receive(request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        signed = validate_signature(
            str(request.url),
            request.headers["X-Plivo-Signature-V2-Nonce"],
            request.headers["X-Plivo-Signature-V2"],
            config.auth_token,
        )
        received.append({**form, "signed": str(signed)})
        if len(received) == 2:
            done.set()
        return web.Response(text="ok")

    receiver = web.Application()
    receiver.router.add_post("/status", receive)
    runner = web.AppRunner(receiver, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with Sandbox(config) as sandbox:
            header = basic_auth(config.auth_id, config.auth_token)
            async with aiohttp.ClientSession(headers={"Authorization": header}) as http:
                api = Api(http, sandbox.account_url)
                sent = await api.post(
                    "Message/",
                    {
                        "src": "14155550100",
                        "dst": "13075550200",
                        "text": "x",
                        "url": f"http://127.0.0.1:{port}/status",
                    },
                )
                await api.post(
                    "Message/",
                    {"src": "14155550100", "dst": "14155550101", "text": "x",
                     "url": "https://example.com/status"},
                )  # fmt: skip
                await asyncio.wait_for(done.wait(), timeout=5)
                # The last callback counts as sent once its answer is read: let that finish.
                for _ in range(500):
                    if sandbox.state.callbacks_sent == 2:
                        break
                    await asyncio.sleep(0.01)
    finally:
        await runner.cleanup()
    # An opted-out destination fails before it is sent: queued, then failed (not charged).
    assert [event["Status"] for event in received] == ["queued", "failed"]
    assert [event["Sequence"] for event in received] == ["1", "2"]
    assert {event["MessageUUID"] for event in received} == {sent.body["message_uuid"][0]}
    assert received[1]["ErrorCode"] == "200"
    assert received[1]["TotalAmount"] == "0.00000"
    assert all(event["signed"] == "True" for event in received)
    assert sandbox.state.callbacks_sent == 2
    assert sandbox.state.callbacks_skipped == 1
