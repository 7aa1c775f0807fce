"""The sandbox plays Plivo's part: message lifecycle, V3 voice callbacks, injected inbound SMS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from plivo.utils import validate_signature
from plivo.utils.signature_v3 import validate_v3_signature

from plivo_sandbox import Sandbox, SandboxConfig
from plivo_sandbox.lifecycle import state_at, timeline
from plivo_sandbox.routes.inbound import message_intent

from .conftest import Api, basic_auth

FROM = "14155550100"


@dataclass
class Receiver:
    """A local webhook receiver that checks each request's signature with Plivo's SDK."""

    token: str
    url: str = ""
    received: list[tuple[str, dict[str, str], bool]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        params = {k: str(v) for k, v in (await request.post()).items()}
        url = str(request.url)
        if "X-Plivo-Signature-V3" in request.headers:
            nonce = request.headers["X-Plivo-Signature-V3-Nonce"]
            valid = validate_v3_signature(
                request.method, url, nonce, self.token, request.headers["X-Plivo-Signature-V3"],
                dict(params),
            )  # fmt: skip
            valid = valid and validate_v3_signature(
                request.method, url, nonce, self.token, request.headers["X-Plivo-Signature-Ma-V3"],
                dict(params),
            )  # fmt: skip
        else:
            nonce = request.headers["X-Plivo-Signature-V2-Nonce"]
            valid = validate_signature(
                url, nonce, request.headers["X-Plivo-Signature-V2"], self.token
            )
        self.received.append((request.path, params, valid))
        self.arrived.set()
        return web.Response(text="<Response/>", content_type="application/xml")

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver(token=SandboxConfig().auth_token)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", found.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield found
    await runner.cleanup()


async def api_for(sandbox: Sandbox, session: aiohttp.ClientSession) -> Api:
    return Api(session, sandbox.account_url)


def test_the_timeline_of_each_outcome() -> None:
    assert timeline("delivered", 4) == [(0, "queued"), (2, "sent"), (4, "delivered")]
    assert timeline("undelivered", 0) == [(0, "queued"), (0, "sent"), (0, "undelivered")]
    assert timeline("failed", 4) == [(0, "queued"), (4, "failed")]
    message = {"accepted_at": 100.0, "final_state": "undelivered", "final_error_code": "30"}
    assert state_at(message, 100.5, 4) == ("queued", None)
    assert state_at(message, 102.0, 4) == ("sent", None)
    assert state_at(message, 104.0, 4) == ("undelivered", "30")


@pytest.mark.parametrize(
    ("text", "intent"),
    [("STOP", "optout"), (" stop all\n", "optout"), ("Stop it!", ""), ("start", "optin"),
     ("HELP", "help"), ("hello", "")],
)  # fmt: skip
def test_message_intent_matches_whole_keywords(text: str, intent: str) -> None:
    assert message_intent(text) == intent


async def test_records_move_through_the_lifecycle_with_delivery_seconds() -> None:
    config = SandboxConfig(delivery_seconds=0.4)
    async with Sandbox(config) as sandbox:
        header = basic_auth(config.auth_id, config.auth_token)
        async with aiohttp.ClientSession(headers={"Authorization": header}) as session:
            api = await api_for(sandbox, session)
            sent = await api.post("Message/", {"src": FROM, "dst": "13075550030", "text": "x"})
            uuid = sent.body["message_uuid"][0]
            first = (await api.get(f"Message/{uuid}/")).body
            await asyncio.sleep(0.25)
            middle = (await api.get(f"Message/{uuid}/")).body
            await asyncio.sleep(0.25)
            last = (await api.get(f"Message/{uuid}/")).body
    assert (first["message_state"], first["error_code"]) == ("queued", None)
    assert (middle["message_state"], middle["error_code"]) == ("sent", None)
    assert (last["message_state"], last["error_code"]) == ("undelivered", "30")


async def test_calls_send_v3_signed_ring_answer_and_hangup_callbacks(
    receiver: Receiver, sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    api = Api(http, sandbox.account_url)
    await api.post(
        "Call/",
        {
            "from": FROM,
            "to": "14155550123",
            "answer_url": f"{receiver.url}/answer?run=7",
            "ring_url": f"{receiver.url}/ring",
            "hangup_url": f"{receiver.url}/hangup",
        },
    )
    await receiver.wait_for(3)
    paths = [path for path, _, _ in receiver.received]
    assert paths == ["/ring", "/answer", "/hangup"]
    assert all(valid for _, _, valid in receiver.received)
    statuses = [params["CallStatus"] for _, params, _ in receiver.received]
    assert statuses == ["ringing", "in-progress", "completed"]
    hangup = receiver.received[2][1]
    assert (hangup["Event"], hangup["HangupCause"], hangup["Duration"]) == (
        "Hangup", "NORMAL_CLEARING", "30",
    )  # fmt: skip


async def test_an_unanswered_magic_number_hangs_up_with_its_cause(
    receiver: Receiver, sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    api = Api(http, sandbox.account_url)
    await api.post(
        "Call/",
        {
            "from": FROM,
            "to": "13075550480",
            "answer_url": f"{receiver.url}/answer",
            "hangup_url": f"{receiver.url}/hangup",
        },
    )
    await receiver.wait_for(1)
    await asyncio.sleep(0.05)  # nothing else follows
    [(path, params, valid)] = receiver.received
    assert (path, valid) == ("/hangup", True)
    assert (params["CallStatus"], params["HangupCause"], params["Duration"]) == (
        "no-answer", "NO_ANSWER", "0",
    )  # fmt: skip


async def test_an_injected_inbound_message_reaches_the_numbers_application(
    receiver: Receiver, sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    api = Api(http, sandbox.account_url)
    app = await api.post(
        "Application/",
        {"app_name": "inbound", "answer_url": f"{receiver.url}/answer",
         "message_url": f"{receiver.url}/webhook/sms"},
    )  # fmt: skip
    await api.post(f"Number/{FROM}/", {"app_id": app.body["app_id"]})
    injected = await api.post(
        "Sandbox/InboundMessage/", {"from": "+1 415 555 0199", "to": FROM, "text": "Stop"}
    )
    assert injected.status == 202
    assert injected.body["callback_scheduled"] is True
    await receiver.wait_for(1)
    [(path, params, valid)] = receiver.received
    assert (path, valid) == ("/webhook/sms", True)
    [uuid] = injected.body["message_uuid"]
    assert params["MessageUUID"] == uuid
    assert (params["From"], params["To"], params["Text"]) == ("14155550199", FROM, "Stop")
    assert params["MessageIntent"] == "optout"
    record = (await api.get(f"Message/{uuid}/")).body
    assert (record["message_direction"], record["message_state"]) == ("inbound", "received")
    listed = (await api.get("Message/", message_direction="inbound")).body
    assert [m["message_uuid"] for m in listed["objects"]] == [uuid]
    assert sandbox.state.count_for("14155550199") == 0  # nothing was sent to the texter


async def test_injecting_to_a_number_the_account_does_not_have_is_a_404(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    api = Api(http, sandbox.account_url)
    reply = await api.post(
        "Sandbox/InboundMessage/", {"from": "14155550199", "to": "19995550100", "text": "hi"}
    )
    assert reply.status == 404
    assert "not a number of this account" in reply.body["error"]


async def test_an_injected_inbound_call_requests_the_answer_url_then_the_hangup_url(
    receiver: Receiver, sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    api = Api(http, sandbox.account_url)
    app = await api.post(
        "Application/",
        {"app_name": "calls", "answer_url": f"{receiver.url}/answer",
         "hangup_url": f"{receiver.url}/hangup"},
    )  # fmt: skip
    await api.post(f"Number/{FROM}/", {"app_id": app.body["app_id"]})
    injected = await api.post(
        "Sandbox/InboundCall/", {"from": "+1 415 555 0199", "to": FROM, "duration": "12"}
    )
    assert injected.status == 202
    assert injected.body["callback_scheduled"] is True
    await receiver.wait_for(2)
    [(answer_path, answer, answer_valid), (hangup_path, hangup, hangup_valid)] = receiver.received
    assert (answer_path, hangup_path, answer_valid, hangup_valid) == (
        "/answer", "/hangup", True, True
    )  # fmt: skip
    call_uuid = injected.body["call_uuid"]
    assert answer["CallUUID"] == hangup["CallUUID"] == call_uuid
    assert (answer["Direction"], answer["CallStatus"], answer["Event"]) == (
        "inbound", "ringing", "StartApp"
    )  # fmt: skip
    assert (answer["From"], answer["To"]) == ("14155550199", FROM)
    assert (hangup["Event"], hangup["CallStatus"], hangup["HangupCause"]) == (
        "Hangup", "completed", "NORMAL_CLEARING"
    )  # fmt: skip
    assert (hangup["Duration"], hangup["BillDuration"]) == ("12", "12")
    # What the answer_url returned is kept (it is the call's XML); nothing was sent or listed.
    replies = [r for r in sandbox.state.callback_replies if r.params["Event"] == "StartApp"]
    assert [(r.status, r.content_type, r.body) for r in replies] == [
        (200, "application/xml", "<Response/>")
    ]
    assert sandbox.state.count_for("14155550199") == 0
    assert (await api.get("Call/")).body["objects"] == []


async def test_an_unanswered_inbound_call_is_cancelled_by_its_caller_and_needs_a_number(
    receiver: Receiver, sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    api = Api(http, sandbox.account_url)
    app = await api.post("Application/", {"app_name": "c", "answer_url": f"{receiver.url}/a"})
    await api.post(f"Number/{FROM}/", {"app_id": app.body["app_id"]})
    await api.post("Sandbox/InboundCall/", {"from": "14155550199", "to": FROM})
    await receiver.wait_for(2)
    hangup = receiver.received[1][1]
    # The application's hangup_url defaults to its answer_url.
    assert receiver.received[1][0] == "/a"
    assert (hangup["HangupCause"], hangup["Duration"]) == ("ORIGINATOR_CANCEL", "0")
    missing = await api.post("Sandbox/InboundCall/", {"from": "14155550199", "to": "19995550100"})
    assert missing.status == 404
    bad = await api.post("Sandbox/InboundCall/", {"from": "1", "to": FROM})
    assert bad.status == 400
