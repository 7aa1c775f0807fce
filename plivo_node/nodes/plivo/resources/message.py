"""message get / getAll: message detail records, Message/ (PLIVO_API.md §6.2, §6.3, §19).

Each record keeps Plivo's fields as returned and gains ``error_meaning`` when it carries an
error code, so a report can say why a message was not delivered without a lookup table.
Plivo allows 20 list requests a minute; the client paces ``GET Message/`` for that (see
:data:`plivo_node.nodes.plivo.client.ENDPOINT_RATE_LIMITS`), so getAll here just pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from plivo_node.core.errors import ParameterError
from plivo_node.core.items import JsonObject
from plivo_node.core.node import OperationContext
from plivo_node.nodes.plivo.error_codes import error_meaning
from plivo_node.nodes.plivo.resources._common import body_of, collection, put_text
from plivo_node.nodes.plivo.resources._paging import list_all
from plivo_node.nodes.plivo.validation.fields import check_choice, require_text, text_value
from plivo_node.nodes.plivo.validation.phone import strip_separators

MESSAGE_PATH = "Message/"
DIRECTIONS = ("inbound", "outbound")
STATES = ("queued", "sent", "failed", "delivered", "undelivered", "read", "rejected", "received")
TYPES = ("sms", "mms", "whatsapp")
TIME_FILTERS = tuple(f"message_time{suffix}" for suffix in ("", "__gt", "__gte", "__lt", "__lte"))
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DIGITS = re.compile(r"[0-9]{1,15}")
# Plivo's filter layout is "YYYY-MM-DD HH:MM[:ss[.uuuuuu]]" in UTC.
_WIRE_TIME = "%Y-%m-%d %H:%M:%S"


def message_path(message_uuid: str) -> str:
    return f"{MESSAGE_PATH}{message_uuid}/"


def check_message_uuid(raw: object, *, parameter: str = "message_uuid") -> str:
    """A message UUID as Plivo returns it in ``message_uuid`` (lower-cased)."""
    text = require_text(raw, parameter=parameter, label="Message UUID")
    if not _UUID.fullmatch(text):
        raise ParameterError(
            f"Message UUID '{text}' is not a UUID",
            hint="copy a message_uuid from a send's output (8-4-4-4-12 hex digits)",
            parameter=parameter,
        )
    return text.lower()


def with_meaning(record: Mapping[str, Any]) -> JsonObject:
    """A message record plus ``error_meaning`` when it has an error code."""
    output = dict(record)
    meaning = error_meaning(record.get("error_code"))
    if meaning is not None:
        output["error_meaning"] = meaning
    return output


def filter_time(raw: object, *, parameter: str, label: str) -> str:
    """A time filter in Plivo's UTC layout; ISO 8601 with an offset is converted to UTC.

    A date alone means its midnight (UTC); a time without an offset is taken as UTC already.
    """
    text = require_text(raw, parameter=parameter, label=label)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ParameterError(
            f"{label} '{text}' is not a date and time",
            hint="use YYYY-MM-DD HH:MM[:SS] in UTC, or ISO 8601 with an offset",
            parameter=parameter,
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    wire = moment.strftime(_WIRE_TIME)
    return f"{wire}.{moment.microsecond:06d}" if moment.microsecond else wire


def list_filters(fields: Mapping[str, Any], *, prefix: str = "additionalFields.") -> dict[str, Any]:
    """The query of a message listing from the user's filter fields (only those given)."""
    query: dict[str, Any] = {}
    choices = (
        ("message_direction", "Direction", DIRECTIONS),
        ("message_state", "Message State", STATES),
        ("message_type", "Message Type", TYPES),
    )
    for name, label, allowed in choices:
        if text_value(fields.get(name)):
            query[name] = check_choice(
                text_value(fields[name]).lower(),
                parameter=prefix + name,
                label=label,
                choices=allowed,
            )
    for name in TIME_FILTERS:
        if text_value(fields.get(name)):
            query[name] = filter_time(fields[name], parameter=prefix + name, label=name)
    for name in ("from_number", "to_number"):
        number = strip_separators(text_value(fields.get(name))).removeprefix("+")
        if number:
            if not _DIGITS.fullmatch(number):
                raise ParameterError(
                    f"{name} '{fields[name]}' is not a phone number",
                    hint="use the number with its country code, like 14155550100",
                    parameter=prefix + name,
                )
            query[name] = number
    put_text(query, "subaccount", fields.get("subaccount"))
    put_text(query, "error_code", fields.get("error_code"))
    return query


async def get(ctx: OperationContext) -> list[JsonObject]:
    message_uuid = check_message_uuid(ctx.params.get("message_uuid"))
    response = await ctx.client.request("GET", message_path(message_uuid))
    return [with_meaning(body_of(response))]


async def get_all(ctx: OperationContext) -> list[JsonObject]:
    query = list_filters(collection(ctx.params, "additionalFields"))
    return [with_meaning(record) for record in await list_all(ctx, MESSAGE_PATH, query=query)]
