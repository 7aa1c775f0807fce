"""Sandbox-only: make one of the sandbox's numbers receive an SMS, as if someone texted it.

``POST Sandbox/InboundMessage/`` (under the account, same auth) with ``from`` (the texter),
``to`` (a rented sandbox number) and ``text``. The sandbox records the message (inbound,
``received``, so ``message.get`` and the message list find it) and delivers Plivo's inbound
message parameters (PLIVO_API.md §17.2), V2-signed, to the ``message_url`` of the application
linked to that number, with its ``message_method``: only when that URL is on this machine.
Plivo has no such endpoint; this is how an offline test plays the person replying "STOP".
"""

from __future__ import annotations

import time
import uuid

from aiohttp import web

from plivo_sandbox import lifecycle
from plivo_sandbox.callbacks import Callback, is_local_url
from plivo_sandbox.destinations import is_valid_number, normalize_number
from plivo_sandbox.seed import country_of
from plivo_sandbox.state import JsonDict, SandboxState
from plivo_sandbox.text import measure
from plivo_sandbox.wire import (
    CALLBACKS_KEY,
    RejectedError,
    format_time,
    params,
    required_text_param,
    respond,
    state_of,
)

INBOUND_PATH = "Sandbox/InboundMessage/"
INBOUND_RATE = "0.00000"  # inbound SMS are free on Plivo's US numbers
OPT_OUT = frozenset({"STOP", "END", "QUIT", "CANCEL", "UNSUB", "STOP ALL", "UNSUBSCRIBE"})
OPT_IN = frozenset({"START", "YES", "RESUME", "RESUME ALL", "UNSTOP", "GO"})
HELP = frozenset({"HELP", "INFO"})


def add_routes(router: web.UrlDispatcher, base: str) -> None:
    router.add_post(base + INBOUND_PATH, inject_inbound_message)


def message_intent(text: str) -> str:
    """Plivo's ``MessageIntent``: the whole message, case-insensitive, is a keyword (§20)."""
    keyword = " ".join(text.split()).upper()
    if keyword in OPT_OUT:
        return "optout"
    if keyword in OPT_IN:
        return "optin"
    if keyword in HELP:
        return "help"
    return ""


def number_app(state: SandboxState, number: JsonDict) -> JsonDict | None:
    """The application a number routes to (its ``application`` is the app's resource URI)."""
    uri = number.get("application")
    if not uri:
        return None
    app_id = str(uri).rstrip("/").rpartition("/")[2]
    return state.applications.get(app_id)


def injected_parties(values: JsonDict, state: SandboxState) -> tuple[str, str, JsonDict]:
    """An injected message's or call's ``from`` (any valid number) and ``to`` (one of the
    account's numbers): the two numbers, and the rented number's record."""
    sender = normalize_number(required_text_param(values, "from"))
    if not is_valid_number(sender):
        raise RejectedError(400, f"from '{values['from']}' is not a valid phone number.")
    to = normalize_number(required_text_param(values, "to"))
    number = state.numbers.get(to)
    if number is None:
        raise RejectedError(404, f"to '{values['to']}' is not a number of this account")
    return sender, to, number


async def inject_inbound_message(request: web.Request) -> web.StreamResponse:
    values = params(request)
    state = state_of(request)
    sender, to, number = injected_parties(values, state)
    text = required_text_param(values, "text")
    measured = measure(text)
    accepted_at = time.time()
    message: JsonDict = {
        "message_uuid": str(uuid.uuid4()),
        "direction": lifecycle.INBOUND,
        "src": sender,
        "dst": to,
        "text": text,
        "type": "sms",
        "powerpack_uuid": None,
        "url": None,
        "method": None,
        "log": "true",
        "media": [],
        "encoding": measured.encoding,
        "units": measured.segments,
        "accepted_at": accepted_at,
        "message_time": format_time(accepted_at),
        "country_iso": country_of(sender),
        "total_rate": INBOUND_RATE,
        "final_state": lifecycle.RECEIVED,
        "final_error_code": None,
    }
    state.record_inbound(message)
    app = number_app(state, number)
    message_url = (app or {}).get("message_url")
    delivered = False
    if message_url:
        fields = {
            "From": sender,
            "To": to,
            "MessageUUID": message["message_uuid"],
            "Type": "sms",
            "Text": text,
            "Units": str(measured.segments),
            "TotalRate": INBOUND_RATE,
            "TotalAmount": INBOUND_RATE,
            "MessageIntent": message_intent(text),
            "PowerpackUUID": "",
        }
        method = str((app or {}).get("message_method") or "POST")
        callback = Callback(str(message_url), method, fields, "v2")
        delivered = request.app[CALLBACKS_KEY].send_in_order([callback])
    body: JsonDict = {
        "message": "inbound message received",
        "message_uuid": [message["message_uuid"]],
        "message_url": message_url,
        # False when the number has no application with a message URL, or it is not local.
        "callback_scheduled": delivered and is_local_url(str(message_url)),
    }
    return respond(body, 202)
