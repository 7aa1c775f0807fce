"""Sandbox-only: someone calls one of the sandbox's numbers.

``POST Sandbox/InboundCall/`` (under the account, same auth) with ``from`` (the caller), ``to``
(a rented sandbox number) and optionally ``duration`` (seconds the call lasted, default 0:
nobody picked up) and ``hangup_cause`` (default ``ORIGINATOR_CANCEL`` when the duration is 0,
the caller giving up, else ``NORMAL_CLEARING``). As Plivo does for a call to a number
(PLIVO_API.md §17.3), the sandbox requests the answer_url of the number's application
(``Direction`` inbound, ``CallStatus`` ringing, ``Event`` StartApp), then notifies its
hangup_url (``Event`` Hangup, ``CallStatus`` completed, ``HangupCause``, ``Duration``,
``BillDuration``), both V3-signed, each with its method, only when the URL is on this machine.
What the answer_url returned (its status, content type and body: the call's XML) is kept in
``state.callback_replies``. The sandbox does not play the XML: the call lasts ``duration``.

An inbound call is kept in ``state.inbound_calls``, not in the call list (which holds the calls
the account made) and it counts for no destination: nothing was sent.
"""

from __future__ import annotations

import time
import uuid

from aiohttp import web

from plivo_sandbox.callbacks import Callback, is_local_url
from plivo_sandbox.routes.inbound import injected_parties, number_app
from plivo_sandbox.wire import (
    CALLBACKS_KEY,
    RejectedError,
    format_time,
    int_param,
    params,
    respond,
    state_of,
    text_param,
)

INBOUND_CALL_PATH = "Sandbox/InboundCall/"
INBOUND_VOICE_RATE = "0.00850"  # a US local number's inbound rate (the seeded pricing)
MAX_DURATION = 4 * 3600  # Plivo's call time limit


def add_routes(router: web.UrlDispatcher, base: str) -> None:
    router.add_post(base + INBOUND_CALL_PATH, inject_inbound_call)


async def inject_inbound_call(request: web.Request) -> web.StreamResponse:
    values = params(request)
    state = state_of(request)
    caller, to, number = injected_parties(values, state)
    duration = int_param(values, "duration") or 0
    if not 0 <= duration <= MAX_DURATION:
        raise RejectedError(400, f"duration must be 0-{MAX_DURATION} seconds, not {duration}")
    cause = text_param(values, "hangup_cause") or (
        "NORMAL_CLEARING" if duration else "ORIGINATOR_CANCEL"
    )
    call_uuid = str(uuid.uuid4())
    started = time.time()
    state.inbound_calls.append(
        {"call_uuid": call_uuid, "from": caller, "to": to, "duration": duration, "at": started}
    )
    app = number_app(state, number) or {}
    common = {
        "CallUUID": call_uuid,
        "RequestUUID": call_uuid,
        "ALegUUID": call_uuid,
        "ALegRequestUUID": call_uuid,
        "From": caller,
        "To": to,
        "Direction": "inbound",
        "BillRate": INBOUND_VOICE_RATE,
        "ParentAuthID": state.auth_id,
        "SessionStart": format_time(started),
    }
    callbacks = []
    answer_url = str(app.get("answer_url") or "")
    if answer_url:
        answer = {"Event": "StartApp", "CallStatus": "ringing"}
        method = str(app.get("answer_method") or "POST")
        callbacks.append(Callback(answer_url, method, {**common, **answer}, "v3"))
    hangup_url = str(app.get("hangup_url") or answer_url)
    if hangup_url:
        ending = {
            "Event": "Hangup",
            "CallStatus": "completed",
            "HangupCause": cause,
            "Duration": str(duration),
            "BillDuration": str(duration),
        }
        method = str(app.get("hangup_method") or "POST")
        callbacks.append(Callback(hangup_url, method, {**common, **ending}, "v3"))
    scheduled = request.app[CALLBACKS_KEY].send_in_order(callbacks)
    body = {
        "message": "inbound call received",
        "call_uuid": call_uuid,
        "answer_url": answer_url or None,
        "hangup_url": hangup_url or None,
        # False when the number has no application with local voice URLs.
        "callback_scheduled": scheduled and any(is_local_url(c.url) for c in callbacks),
    }
    return respond(body, 202)
