"""number get / getAll / update: the account's rented numbers, Number/ (PLIVO_API.md §15).

An update sends only the fields the user gave (alias, app_id, subaccount): a number's
application is what routes its inbound messages and calls, so nothing is reset by omission.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from plivo_node.core.errors import ParameterError
from plivo_node.core.items import JsonObject
from plivo_node.core.node import OperationContext
from plivo_node.nodes.plivo.resources._common import (
    body_of,
    collection,
    put_text,
    require_update,
)
from plivo_node.nodes.plivo.resources._paging import list_all
from plivo_node.nodes.plivo.validation.fields import (
    check_choice,
    check_date,
    check_names,
    check_numeric_id,
    text_value,
)
from plivo_node.nodes.plivo.validation.phone import FORMAT_HINT, strip_separators

NUMBER_PATH = "Number/"
NUMBER_TYPES = ("local", "mobile", "fixed", "national", "tollfree")
SERVICES = ("voice", "sms", "mms")
RENEWAL_DATE_FILTERS = tuple(
    f"renewal_date{suffix}" for suffix in ("", "__gt", "__gte", "__lt", "__lte")
)
_RENTED_NUMBER = re.compile(r"[0-9]{8,15}")
_DIGITS = re.compile(r"[0-9]+")


def number_path(number: str) -> str:
    return f"{NUMBER_PATH}{number}/"


def rented_number(raw: object) -> str:
    """A number as Plivo keys it: its E.164 digits (separators and "+" dropped).

    Only the shape is checked: the account's own numbers are whatever Plivo rented out, and
    Plivo answers 404 for one it does not hold.
    """
    text = text_value(raw)
    digits = strip_separators(text).removeprefix("+")
    if not _RENTED_NUMBER.fullmatch(digits):
        raise ParameterError(
            f"'{text}' is not a phone number" if text else "Number is empty",
            hint=FORMAT_HINT,
            parameter="number",
        )
    return digits


def _filters(params: Mapping[str, Any]) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if text_value(params.get("type")):
        query["type"] = check_choice(
            text_value(params["type"]).lower(), parameter="type", label="Type", choices=NUMBER_TYPES
        )
    prefix = strip_separators(text_value(params.get("number_startswith"))).removeprefix("+")
    if prefix:
        if not _DIGITS.fullmatch(prefix):
            raise ParameterError(
                f"Number Startswith '{params['number_startswith']}' must be digits",
                hint="give the leading digits with the country code, like 1415",
                parameter="number_startswith",
            )
        query["number_startswith"] = prefix
    extra = collection(params, "additionalFields")
    put_text(query, "alias", extra.get("alias"))
    put_text(query, "subaccount", extra.get("subaccount"))
    services = check_names(
        extra.get("services"),
        parameter="additionalFields.services",
        label="Services",
        choices=SERVICES,
    )
    if services:
        query["services"] = ",".join(services)
    for key in RENEWAL_DATE_FILTERS:
        if text_value(extra.get(key)):
            query[key] = check_date(extra[key], parameter=f"additionalFields.{key}", label=key)
    return query


async def get(ctx: OperationContext) -> list[JsonObject]:
    number = rented_number(ctx.params.get("number"))
    response = await ctx.client.request("GET", number_path(number))
    return [body_of(response)]


async def get_all(ctx: OperationContext) -> list[JsonObject]:
    return await list_all(ctx, NUMBER_PATH, query=_filters(ctx.params))


async def update(ctx: OperationContext) -> list[JsonObject]:
    number = rented_number(ctx.params.get("number"))
    fields = collection(ctx.params, "updateFields")
    body: dict[str, Any] = {}
    put_text(body, "alias", fields.get("alias"))
    if text_value(fields.get("app_id")):
        body["app_id"] = check_numeric_id(
            fields["app_id"], parameter="updateFields.app_id", label="Application ID"
        )
    put_text(body, "subaccount", fields.get("subaccount"))
    require_update(body, label="number")
    response = await ctx.client.request("POST", number_path(number), body=body)
    return [{**body_of(response), "number": number}]
