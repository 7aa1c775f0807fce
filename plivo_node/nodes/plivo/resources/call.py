"""call.make: POST Call/ (PLIVO_API.md §10.1).

Only the fields the user gave go on the wire (a callback method only with its URL), so Plivo
applies its own defaults for the rest. The top-level Time Limit and Timeout default to Plivo's
own values and are sent only when set to something else (an n8n workflow saves no default
either). Every number's bounds come from the node's description.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from plivo_node.core.errors import ParameterError
from plivo_node.core.items import JsonObject
from plivo_node.core.node import OperationContext
from plivo_node.nodes.plivo.description import plivo_description
from plivo_node.nodes.plivo.resources._common import (
    body_of,
    collection,
    http_method,
    put_url_with_method,
)
from plivo_node.nodes.plivo.validation.fields import (
    check_bool,
    check_choice,
    check_http_url,
    check_int,
    text_value,
)
from plivo_node.nodes.plivo.validation.phone import (
    join_destinations,
    normalize_number,
    parse_destinations,
)

CALL_PATH = "Call/"
MAX_CALLER_NAME = 50
# DTMF digits, * and #, w (0.5 s pause) and W (1 s pause), then optionally @<tone length ms>.
_SEND_DIGITS = re.compile(r"^[0-9*#wW]+(@\d+)?$")
_SIP_HEADERS = re.compile(r"^[A-Za-z0-9]+=[A-Za-z0-9]+(,[A-Za-z0-9]+=[A-Za-z0-9]+)*$")
ADDITIONAL = "additionalFields."


async def make(ctx: OperationContext) -> list[JsonObject]:
    params = ctx.params
    extra = collection(params, "additionalFields")
    sender = normalize_number(params.get("from"), parameter="from")
    destinations = parse_destinations(params.get("to"), parameter="to", allow_sip=True)
    if sender in destinations:
        raise ParameterError(
            f"To includes the caller {sender}", hint="remove From from To", parameter="to"
        )
    to = join_destinations(destinations)
    body: dict[str, Any] = {
        "from": sender,
        "to": to,
        "answer_url": check_http_url(
            params.get("answer_url"), parameter="answer_url", label="Answer URL"
        ),
        "answer_method": http_method(
            params.get("answer_method", "POST"), parameter="answer_method", label="Answer Method"
        ),
    }
    body.update(_main_options(params))
    body.update(_additional_options(extra))

    response = await ctx.client.request("POST", CALL_PATH, body=body)
    answer = body_of(response)
    return [
        {
            "status": "fired",
            "request_uuid": answer.get("request_uuid"),
            "api_id": answer.get("api_id"),
            "message": answer.get("message"),
            "from": sender,
            "to": to,
        }
    ]


def _main_options(params: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    put_url_with_method(
        body, params, url_key="hangup_url", method_key="hangup_method", label="Hangup URL"
    )
    put_url_with_method(
        body, params, url_key="fallback_url", method_key="fallback_method", label="Fallback URL"
    )
    caller_name = text_value(params.get("caller_name"))
    if len(caller_name) > MAX_CALLER_NAME:
        raise ParameterError(
            f"Caller Name is {len(caller_name)} characters; Plivo allows at most {MAX_CALLER_NAME}",
            hint=f"shorten it to {MAX_CALLER_NAME} characters",
            parameter="caller_name",
        )
    if caller_name:
        body["caller_name"] = caller_name
    send_digits = text_value(params.get("send_digits"))
    if send_digits:
        if not _SEND_DIGITS.match(send_digits):
            raise ParameterError(
                f"Send Digits '{send_digits}' has characters Plivo cannot play",
                hint="use digits, * and #, w (half-second pause), W (one-second pause), "
                "optionally ending in @<tone length in ms>, like 1w2w3@1000",
                parameter="send_digits",
            )
        body["send_digits"] = send_digits
    if params.get("send_on_preanswer") is not None and check_bool(
        params["send_on_preanswer"], parameter="send_on_preanswer", label="Send On Preanswer"
    ):
        body["send_on_preanswer"] = True
    _put_number(body, params, "", "time_limit", "Time Limit", unless_default=True)
    _put_number(body, params, "", "ring_timeout", "Timeout", unless_default=True)
    return body


def _put_number(
    body: dict[str, Any],
    fields: Mapping[str, Any],
    prefix: str,
    key: str,
    label: str,
    *,
    unless_default: bool = False,
) -> None:
    """An optional whole number, checked against the description's bounds, only when given
    (and, for a top-level one, only when it differs from its default, which is Plivo's)."""
    if fields.get(key) is None:
        return
    parameter = prefix + key
    description = plivo_description()
    low, high = description.number_bounds("call", "make", parameter)
    value = check_int(fields[key], parameter=parameter, label=label, minimum=low, maximum=high)
    prop = description.parameter("call", "make", parameter)
    if unless_default and prop is not None and value == prop.default:
        return
    body[key] = value


def _additional_options(extra: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if text_value(extra.get("machine_detection")):
        raw = extra["machine_detection"]
        body["machine_detection"] = check_choice(
            "true" if raw is True else text_value(raw).lower(),
            parameter=ADDITIONAL + "machine_detection",
            label="Machine Detection",
            choices=("true", "hangup"),
        )
    _put_number(body, extra, ADDITIONAL, "machine_detection_time", "Machine Detection Time")
    put_url_with_method(
        body,
        extra,
        url_key="machine_detection_url",
        method_key="machine_detection_method",
        label="Machine Detection URL",
        prefix=ADDITIONAL,
    )
    put_url_with_method(
        body,
        extra,
        url_key="ring_url",
        method_key="ring_method",
        label="Ring URL",
        prefix=ADDITIONAL,
    )
    _put_number(body, extra, ADDITIONAL, "hangup_on_ring", "Hangup On Ring")
    sip_headers = text_value(extra.get("sip_headers"))
    if sip_headers:
        if not _SIP_HEADERS.match(sip_headers):
            raise ParameterError(
                f"SIP Headers '{sip_headers}' is not a list of name=value pairs",
                hint="use letters and digits only, like key1=value1,key2=value2 "
                "(Plivo adds the X-PH- prefix itself)",
                parameter=ADDITIONAL + "sip_headers",
            )
        body["sip_headers"] = sip_headers
    return body
