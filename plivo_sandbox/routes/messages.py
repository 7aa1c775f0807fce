"""Message/: send (202), get, list (paged, filtered) and a message's media."""

from __future__ import annotations

import mimetypes
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp import web

from plivo_sandbox import lifecycle, magic
from plivo_sandbox.callbacks import Callback
from plivo_sandbox.destinations import MAX_BULK_DESTINATIONS, split_destinations
from plivo_sandbox.faults import retry_after_value
from plivo_sandbox.seed import FALLBACK_MESSAGE_RATE, MESSAGE_RATES, country_of
from plivo_sandbox.state import JsonDict, SandboxState
from plivo_sandbox.text import measure
from plivo_sandbox.wire import (
    CALLBACKS_KEY,
    MESSAGE_LIST_LIMITER_KEY,
    RejectedError,
    bool_param,
    config_of,
    format_time,
    int_param,
    is_http_url,
    list_param,
    method_param,
    paged,
    params,
    required_text_param,
    respond,
    state_of,
    stored,
    text_param,
    url_param,
)

MAX_MEDIA = 10
MMS_RATE = "0.02000"
LOG_VALUES = frozenset({"true", "false", "number_only", "content_only"})
_NOT_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]")


def add_routes(router: web.UrlDispatcher, base: str) -> None:
    router.add_post(base + "Message/", send_message)
    router.add_get(base + "Message/", list_messages)
    router.add_get(base + "Message/{message_uuid}/", get_message)
    router.add_get(base + "Message/{message_uuid}/Media/", list_message_media)


# --- send -------------------------------------------------------------------------------------


async def send_message(request: web.Request) -> web.StreamResponse:
    values = params(request)
    state = state_of(request)
    src, powerpack_uuid = _sender(values)
    dst = required_text_param(values, "dst")
    destinations = split_destinations(dst, allow_sip=False)
    if not destinations.valid:
        raise RejectedError(400, f"'{dst}' is not a valid phone number.")
    if len(destinations.valid) > MAX_BULK_DESTINATIONS:
        raise RejectedError(
            400,
            f"dst has {len(destinations.valid)} unique numbers; "
            f"at most {MAX_BULK_DESTINATIONS} are allowed",
        )
    if src is not None and src in destinations.valid:
        raise RejectedError(400, "destination number cannot be same as source number")
    message_type = text_param(values, "type") or "sms"
    if message_type not in {"sms", "mms"}:
        raise RejectedError(400, f"type must be sms or mms, not {message_type!r}")
    text = text_param(values, "text")
    options = _send_options(values)
    media: list[JsonDict] = []
    if message_type == "sms" and not text:
        raise RejectedError(400, "text is a required parameter for an SMS and was not given")
    if message_type == "mms":
        media = _media(state, options["media_urls"], options["media_ids"])
        _check_mms(text, media, destinations.valid)
    measured = measure(text or "")
    if measured.too_long:
        raise RejectedError(
            400,
            f"text is {measured.length} {measured.encoding} characters long; "
            f"the limit is {measured.limit}",
        )

    behaviour = magic.first_magic(destinations.valid)
    refusal = await magic.before_acting(request, behaviour)
    if refusal is not None:
        return refusal

    accepted_at = time.time()
    common: JsonDict = {
        "src": src,
        "powerpack_uuid": powerpack_uuid,
        "text": text,
        "type": message_type,
        **options,
        "media": media,
        "encoding": measured.encoding,
        "units": measured.segments if message_type == "sms" else 1,
        "accepted_at": accepted_at,
        "message_time": format_time(accepted_at),
    }
    uuids: list[str] = []
    for destination in destinations.valid:
        country = country_of(destination)
        final_state, final_error_code = magic.delivery_outcome(destination)
        message = {
            **common,
            "message_uuid": str(uuid.uuid4()),
            "dst": destination,
            "country_iso": country,
            "total_rate": _rate(message_type, country),
            "final_state": final_state,
            "final_error_code": final_error_code,
        }
        state.record_message(message)
        uuids.append(message["message_uuid"])
        if message["url"]:
            callbacks = status_callbacks(message, state, config_of(request).delivery_seconds)
            request.app[CALLBACKS_KEY].send_in_order(callbacks)

    body: JsonDict = {"message": "message(s) queued"}
    if destinations.invalid:
        body["invalid_number"] = destinations.invalid
    body["message_uuid"] = uuids
    return magic.after_acting(request, behaviour, respond(body, 202))


def _sender(values: JsonDict) -> tuple[str | None, str | None]:
    """``(src, powerpack_uuid)``: exactly one is given; ``src`` comes back stripped."""
    src = text_param(values, "src")
    powerpack_uuid = text_param(values, "powerpack_uuid")
    if src and powerpack_uuid:
        raise RejectedError(400, "give either src or powerpack_uuid, not both")
    if not src and not powerpack_uuid:
        raise RejectedError(400, "src or powerpack_uuid is required to send a message")
    if src is None:
        return None, powerpack_uuid
    cleaned = _NOT_ALPHANUMERIC.sub("", src)
    is_number = cleaned.isdigit() and 3 <= len(cleaned) <= 14
    is_sender_id = 1 <= len(cleaned) <= 11 and not cleaned.isdigit()
    if not (is_number or is_sender_id):
        raise RejectedError(400, f"'{src}' is not a valid source number or sender ID.")
    return cleaned, None


def _media(state: SandboxState, urls: list[str], ids: list[str]) -> list[JsonDict]:
    """The media objects of an MMS: one per URL, then the uploaded ones named by id."""
    if len(urls) + len(ids) > MAX_MEDIA:
        raise RejectedError(
            400, f"an MMS can carry at most {MAX_MEDIA} media (media_urls + media_ids)"
        )
    media: list[JsonDict] = []
    for url in urls:
        if not is_http_url(url):
            raise RejectedError(400, f"media_urls entry {url!r} is not an http(s) URL")
        content_type = mimetypes.guess_type(url.split("?")[0])[0] or "application/octet-stream"
        media.append(
            {
                "content_type": content_type,
                "media_id": str(uuid.uuid4()),
                "media_url": url,
                "size": 0,
            }
        )
    for media_id in ids:
        uploaded = state.media.get(media_id)
        if uploaded is None:
            raise RejectedError(
                400,
                f"media_ids entry {media_id!r} is not an uploaded media id; "
                "upload the file to Media/ first",
            )
        media.append(
            {key: uploaded[key] for key in ("content_type", "media_id", "media_url", "size")}
        )
    return media


def _check_mms(text: str | None, media: list[JsonDict], destinations: list[str]) -> None:
    if not text and not media:
        raise RejectedError(400, "an MMS needs text, media_urls or media_ids")
    for destination in destinations:
        if country_of(destination) not in {"US", "CA"}:
            raise RejectedError(
                400, f"MMS can only be sent to US and Canadian numbers, not '{destination}'"
            )


def _send_options(values: JsonDict) -> JsonDict:
    log = text_param(values, "log") or "true"
    if log not in LOG_VALUES:
        raise RejectedError(400, f"log must be one of {sorted(LOG_VALUES)}, not {log!r}")
    expiry = int_param(values, "message_expiry")
    if expiry is not None and not 5 <= expiry <= 10800:
        raise RejectedError(400, f"message_expiry must be 5-10800 seconds, not {expiry}")
    return {
        "url": url_param(values, "url"),
        "method": method_param(values, "method") or "POST",
        "log": log,
        "trackable": bool_param(values, "trackable") or False,
        "media_urls": list_param(values, "media_urls"),
        "media_ids": list_param(values, "media_ids"),
        "message_expiry": expiry,
        "dlt_entity_id": text_param(values, "dlt_entity_id"),
        "dlt_template_id": text_param(values, "dlt_template_id"),
        "dlt_template_category": text_param(values, "dlt_template_category"),
    }


def _rate(message_type: str, country: str | None) -> str:
    if message_type == "mms":
        return MMS_RATE
    return MESSAGE_RATES.get(country or "", FALLBACK_MESSAGE_RATE)


def status_callbacks(
    message: JsonDict, state: SandboxState, delivery_seconds: float
) -> list[Callback]:
    """The callbacks Plivo sends for an accepted message, one per state of its timeline."""
    common = {
        "MessageUUID": message["message_uuid"],
        "ParentMessageUUID": message["message_uuid"],
        "From": message["src"] or _powerpack_number(state),
        "To": message["dst"],
        "Type": message["type"],
        "Units": str(message["units"]),
        "TotalRate": message["total_rate"],
        "PowerpackUUID": message["powerpack_uuid"] or "",
        "MessageTime": message["message_time"],
    }
    callbacks: list[Callback] = []
    steps = lifecycle.timeline(message["final_state"], delivery_seconds)
    for sequence, (delay, status) in enumerate(steps, start=1):
        fields = {
            **common,
            "Status": status,
            "Sequence": str(sequence),
            "TotalAmount": _amount(message) if lifecycle.charged(status) else "0.00000",
        }
        if status in {"failed", "undelivered", "rejected"}:
            fields["ErrorCode"] = message["final_error_code"]
        callbacks.append(
            Callback(message["url"], message["method"] or "POST", fields, "v2", delay=delay)
        )
    return callbacks


def _amount(message: JsonDict) -> str:
    return f"{message['units'] * float(message['total_rate']):.5f}"


def _powerpack_number(state: SandboxState) -> str:
    """The number a powerpack send goes out from: the first SMS-enabled rented number."""
    for number in state.numbers.values():
        if number["sms_enabled"]:
            return str(number["number"])
    return ""


# --- read -------------------------------------------------------------------------------------


def render_message(message: JsonDict, request: web.Request) -> JsonDict:
    """A stored message as Plivo's message detail record (MDR), as it stands now."""
    state = state_of(request)
    delivery_seconds = config_of(request).delivery_seconds
    accepted_at = message["accepted_at"]
    message_state, error_code = lifecycle.state_at(message, time.time(), delivery_seconds)
    inbound = message.get("direction") == lifecycle.INBOUND
    return {
        "message_uuid": message["message_uuid"],
        "from_number": message["src"] or _powerpack_number(state),
        "to_number": message["dst"],
        "message_direction": "inbound" if inbound else "outbound",
        "message_state": message_state,
        "message_type": message["type"],
        "error_code": error_code,
        "error_message": "",
        "units": message["units"],
        "total_amount": _amount(message) if lifecycle.charged(message_state) else "0.00000",
        "total_rate": message["total_rate"],
        "message_time": message["message_time"],
        "message_sent_time": format_time(accepted_at, micro=True),
        "message_updated_time": format_time(
            accepted_at + (0 if inbound else delivery_seconds), micro=True
        ),
        "powerpack_id": message["powerpack_uuid"],
        "destination_country_iso2": message["country_iso"],
        "is_domestic": message["country_iso"] == "US",
        "log": message["log"],
        "requester_ip": "127.0.0.1",
        "resource_uri": f"{state.base_path}Message/{message['message_uuid']}/",
    }


async def get_message(request: web.Request) -> web.StreamResponse:
    message = stored(state_of(request).messages_by_uuid, request.match_info["message_uuid"])
    return respond(render_message(message, request))


async def list_message_media(request: web.Request) -> web.StreamResponse:
    message_uuid = request.match_info["message_uuid"]
    message = stored(state_of(request).messages_by_uuid, message_uuid)
    items = [{**entry, "message_uuid": message_uuid} for entry in message["media"]]
    return paged(
        request, items, f"Message/{message_uuid}/Media/", extra={"message_uuid": message_uuid}
    )


def _within_list_limit(request: web.Request) -> None:
    """Plivo allows 20 message-list requests a minute; past that, its 429."""
    limiter = request.app.get(MESSAGE_LIST_LIMITER_KEY)
    if limiter is None:
        return
    wait = limiter.acquire()
    if wait is not None:
        headers = (
            {"Retry-After": retry_after_value(wait)}
            if config_of(request).retry_after_header
            else None
        )
        raise RejectedError(429, "too many requests", headers=headers)


async def list_messages(request: web.Request) -> web.StreamResponse:
    _within_list_limit(request)
    checks = _message_filters(request)
    # Newest first, as Plivo lists them; only the page's messages are rendered.
    matching = [
        message
        for message in reversed(state_of(request).messages)
        if all(check(message) for check in checks)
    ]
    return paged(request, matching, "Message/", render=lambda m: render_message(m, request))


MessageCheck = Callable[[JsonDict], bool]

# Exact-match filters and the MDR field each compares with.
_EXACT_FILTERS = (
    "message_direction",
    "message_type",
    "message_state",
    "from_number",
    "to_number",
    "error_code",
    "powerpack_id",
    "destination_country_iso2",
)
_TIME_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "message_time__gt": lambda value, bound: value > bound,
    "message_time__gte": lambda value, bound: value >= bound,
    "message_time__lt": lambda value, bound: value < bound,
    "message_time__lte": lambda value, bound: value <= bound,
}


def _message_filters(request: web.Request) -> list[MessageCheck]:
    query = request.query
    checks: list[MessageCheck] = []
    exact = {name: query[name] for name in _EXACT_FILTERS if query.get(name)}
    if exact:

        def matches_exactly(message: JsonDict) -> bool:
            record = render_message(message, request)
            return all(str(record[name]) == value for name, value in exact.items())

        checks.append(matches_exactly)
    if query.get("message_time"):
        _parse_filter_time("message_time", query["message_time"])
        moment = query["message_time"]
        checks.append(lambda m: str(m["message_time"]).startswith(moment))
    if query.get("subaccount"):
        # Every sandbox message is sent by the main account.
        checks.append(lambda _message: False)
    for name, operator in _TIME_OPERATORS.items():
        if query.get(name):
            bound = _parse_filter_time(name, query[name])
            checks.append(
                lambda m, op=operator, b=bound: op(m["accepted_at"], b)  # type: ignore[misc]
            )
    return checks


def _parse_filter_time(name: str, raw: str) -> float:
    for layout in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(raw, layout).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise RejectedError(400, f"{name} must look like 'YYYY-MM-DD HH:MM[:ss[.uuuuuu]]', not {raw!r}")
