"""Call/: make a call (201), its call detail record, the list of CDRs, hang up.

Every sandbox call is "answered" 5 s after it starts and lasts 30 s, so its record reads as a
finished call at once (no real clock is involved). Its voice callbacks (ring, answer, hangup,
V3-signed) go to local URLs over ``SandboxConfig.delivery_seconds``.
"""

from __future__ import annotations

import re
import time
import uuid

from aiohttp import web

from plivo_sandbox import magic
from plivo_sandbox.callbacks import Callback
from plivo_sandbox.destinations import (
    MAX_BULK_DESTINATIONS,
    is_valid_number,
    normalize_number,
    split_destinations,
)
from plivo_sandbox.seed import FALLBACK_VOICE_RATE, VOICE_RATES, country_of
from plivo_sandbox.state import JsonDict
from plivo_sandbox.wire import (
    CALLBACKS_KEY,
    RejectedError,
    bool_param,
    config_of,
    deleted,
    format_time,
    int_param,
    method_param,
    not_found,
    paged,
    params,
    required_text_param,
    respond,
    state_of,
    text_param,
    url_param,
)

RING_SECONDS = 5
TALK_SECONDS = 30
_SIP_HEADERS = re.compile(r"[A-Za-z0-9]+=[A-Za-z0-9]+(,[A-Za-z0-9]+=[A-Za-z0-9]+)*")
_URL_PARAMS = ("answer_url", "ring_url", "hangup_url", "fallback_url", "machine_detection_url")
_METHOD_PARAMS = (
    "answer_method",
    "ring_method",
    "hangup_method",
    "fallback_method",
    "machine_detection_method",
)
_SIP_RATE = "0.00300"


def add_routes(router: web.UrlDispatcher, base: str) -> None:
    router.add_post(base + "Call/", make_call)
    router.add_get(base + "Call/", list_calls)
    router.add_get(base + "Call/{call_uuid}/", get_call)
    router.add_delete(base + "Call/{call_uuid}/", hang_up)


async def make_call(request: web.Request) -> web.StreamResponse:
    values = params(request)
    caller = required_text_param(values, "from")
    source = normalize_number(caller)
    if not is_valid_number(source):
        raise RejectedError(400, f"'{caller}' is not a valid caller ID (from).")
    to = required_text_param(values, "to")
    destinations = split_destinations(to, allow_sip=True)
    if destinations.invalid:
        bad = ", ".join(f"'{entry}'" for entry in destinations.invalid)
        raise RejectedError(400, f"{bad} is not a valid phone number or SIP URI.")
    if len(destinations.valid) > MAX_BULK_DESTINATIONS:
        raise RejectedError(
            400,
            f"to has {len(destinations.valid)} unique destinations; "
            f"at most {MAX_BULK_DESTINATIONS} are allowed",
        )
    if source in destinations.valid:
        raise RejectedError(400, f"from and to cannot overlap: remove {caller!r} from to")
    options = _call_options(values)

    behaviour = magic.first_magic(destinations.valid)
    refusal = await magic.before_acting(request, behaviour)
    if refusal is not None:
        return refusal

    state = state_of(request)
    accepted_at = time.time()
    request_uuids: list[str] = []
    for destination in destinations.valid:
        request_uuid = str(uuid.uuid4())
        call = {
            **options,
            "request_uuid": request_uuid,
            "call_uuid": request_uuid,
            "from": source,
            "to": destination,
            "accepted_at": accepted_at,
        }
        state.record_call(call)
        request_uuids.append(request_uuid)
        callbacks = voice_callbacks(call, state.auth_id, config_of(request).delivery_seconds)
        request.app[CALLBACKS_KEY].send_in_order(callbacks)
    request_uuid_field: str | list[str] = request_uuids if destinations.bulk else request_uuids[0]
    body = {"message": "call fired", "request_uuid": request_uuid_field}
    return magic.after_acting(request, behaviour, respond(body, 201))


def voice_callbacks(call: JsonDict, auth_id: str, call_seconds: float) -> list[Callback]:
    """The V3-signed callbacks of a call (PLIVO_API.md §17.3): ring, answer, hangup.

    The ring URL hears ``ringing`` at once; an answered call fetches its answer URL
    (``in-progress``) a moment later and ends ``completed`` after ``call_seconds``; a call to a
    never-answering magic number skips the answer and ends with its own status and cause.
    """
    started = format_time(call["accepted_at"])
    common = {
        "CallUUID": call["call_uuid"],
        "RequestUUID": call["request_uuid"],
        "ALegUUID": call["call_uuid"],
        "ALegRequestUUID": call["request_uuid"],
        "From": call["from"],
        "To": call["to"],
        "Direction": "outbound",
        "BillRate": _rate(call["to"]),
        "ParentAuthID": auth_id,
        "SessionStart": started,
    }
    unanswered = magic.call_outcome(call["to"])
    steps: list[tuple[str, float, dict[str, str]]] = []
    if call["ring_url"]:
        steps.append(("ring", 0.0, {"Event": "Ring", "CallStatus": "ringing"}))
    if unanswered is None:
        steps.append(
            ("answer", call_seconds / 2, {"Event": "StartApp", "CallStatus": "in-progress"})
        )
        ending = {"CallStatus": "completed", "HangupCause": "NORMAL_CLEARING"}
        duration = str(TALK_SECONDS)
    else:
        ending = {"CallStatus": unanswered[0], "HangupCause": unanswered[1]}
        duration = "0"
    steps.append(
        (
            "hangup",
            call_seconds,
            {"Event": "Hangup", **ending, "Duration": duration, "BillDuration": duration},
        )
    )
    return [
        Callback(
            call[f"{kind}_url"], call[f"{kind}_method"], {**common, **fields}, "v3", delay=delay
        )
        for kind, delay, fields in steps
        if call[f"{kind}_url"]
    ]


def _call_options(values: JsonDict) -> JsonDict:
    required_text_param(values, "answer_url")
    options: JsonDict = {name: url_param(values, name) for name in _URL_PARAMS}
    for name in _METHOD_PARAMS:
        options[name] = method_param(values, name) or "POST"
    caller_name = text_param(values, "caller_name")
    if caller_name is not None and len(caller_name) > 50:
        raise RejectedError(400, "caller_name must be at most 50 characters")
    time_limit = int_param(values, "time_limit")
    if time_limit is not None and not 0 < time_limit <= 86400:
        raise RejectedError(400, f"time_limit must be 1-86400 seconds, not {time_limit}")
    ring_timeout = int_param(values, "ring_timeout")
    if ring_timeout is not None and ring_timeout < 0:
        raise RejectedError(400, f"ring_timeout must be 0 or more, not {ring_timeout}")
    detection = text_param(values, "machine_detection")
    if detection is not None and detection not in {"true", "hangup"}:
        raise RejectedError(400, f"machine_detection must be 'true' or 'hangup', not {detection!r}")
    detection_time = int_param(values, "machine_detection_time")
    if detection_time is not None and not 2000 <= detection_time <= 10000:
        raise RejectedError(
            400, f"machine_detection_time must be 2000-10000 ms, not {detection_time}"
        )
    sip_headers = text_param(values, "sip_headers")
    if sip_headers is not None and not _SIP_HEADERS.fullmatch(sip_headers):
        raise RejectedError(400, "sip_headers must look like 'name1=value1,name2=value2'")
    options.update(
        {
            "caller_name": caller_name,
            "send_digits": text_param(values, "send_digits"),
            "send_on_preanswer": bool_param(values, "send_on_preanswer"),
            "time_limit": time_limit,
            "hangup_on_ring": int_param(values, "hangup_on_ring"),
            "ring_timeout": ring_timeout,
            "machine_detection": detection,
            "machine_detection_time": detection_time,
            "sip_headers": sip_headers,
            "parent_call_uuid": text_param(values, "parent_call_uuid"),
        }
    )
    return options


def _rate(destination: str) -> str:
    if destination.startswith("sip:"):
        return _SIP_RATE
    return VOICE_RATES.get(country_of(destination) or "", FALLBACK_VOICE_RATE)


def render_call(call: JsonDict, base_path: str) -> JsonDict:
    """A stored call as Plivo's call detail record."""
    started = call["accepted_at"]
    rate = _rate(call["to"])
    billed_minutes = -(-TALK_SECONDS // 60)
    return {
        "answer_time": format_time(started + RING_SECONDS),
        "bill_duration": TALK_SECONDS,
        "billed_duration": billed_minutes * 60,
        "call_direction": "outbound",
        "call_duration": TALK_SECONDS,
        "call_uuid": call["call_uuid"],
        "end_time": format_time(started + RING_SECONDS + TALK_SECONDS),
        "from_number": call["from"],
        "hangup_cause_code": 4000,
        "hangup_cause_name": "Normal Hangup",
        "hangup_source": "Callee",
        "initiation_time": format_time(started),
        "parent_call_uuid": call.get("parent_call_uuid"),
        "resource_uri": f"{base_path}Call/{call['call_uuid']}/",
        "stir_verification": "Not Applicable",
        "to_number": call["to"],
        "total_amount": f"{billed_minutes * float(rate):.5f}",
        "total_rate": rate,
    }


async def get_call(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    call = state.calls_by_uuid.get(request.match_info["call_uuid"])
    # Sandbox calls end at once, so none is ever live.
    if call is None or request.query.get("status") == "live":
        raise not_found()
    return respond(render_call(call, state.base_path))


_CALL_FILTERS = ("call_direction", "from_number", "to_number", "parent_call_uuid", "hangup_source")


async def list_calls(request: web.Request) -> web.StreamResponse:
    if request.query.get("subaccount"):
        return paged(request, [], "Call/")  # every sandbox call is made by the main account
    base_path = state_of(request).base_path
    wanted = {name: request.query[name] for name in _CALL_FILTERS if request.query.get(name)}
    records = (render_call(call, base_path) for call in reversed(state_of(request).calls))
    matching = [r for r in records if all(str(r[k]) == v for k, v in wanted.items())]
    return paged(request, matching, "Call/")


async def hang_up(request: web.Request) -> web.StreamResponse:
    if request.match_info["call_uuid"] not in state_of(request).calls_by_uuid:
        raise not_found()
    return deleted()
