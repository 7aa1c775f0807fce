"""Number/ (rented numbers): list with Plivo's filters, get, update (202), unrent (204)."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

from aiohttp import web

from plivo_sandbox.destinations import normalize_number
from plivo_sandbox.state import JsonDict
from plivo_sandbox.wire import (
    RejectedError,
    changed,
    deleted,
    paged,
    params,
    reference_param,
    respond,
    state_of,
    stored,
    text_param,
)

NUMBER_TYPES = frozenset({"local", "mobile", "fixed", "national", "tollfree"})
SERVICES = frozenset({"voice", "sms", "mms"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "renewal_date": operator.eq,
    "renewal_date__gt": operator.gt,
    "renewal_date__gte": operator.ge,
    "renewal_date__lt": operator.lt,
    "renewal_date__lte": operator.le,
}
# Filters compared as-is (case-insensitively) with the field of the same name.
_EXACT_FILTERS = (
    "alias",
    "tendlc_registration_status",
    "tendlc_campaign_id",
    "toll_free_sms_verification",
    "cnam_lookup",
)

NumberCheck = Callable[[JsonDict], bool]


def add_routes(router: web.UrlDispatcher, base: str) -> None:
    router.add_get(base + "Number/", list_numbers)
    router.add_get(base + "Number/{number}/", get_number)
    router.add_post(base + "Number/{number}/", update_number)
    router.add_delete(base + "Number/{number}/", unrent_number)


def _filters(query: dict[str, str]) -> list[NumberCheck]:
    checks: list[NumberCheck] = []
    number_type = query.get("type")
    if number_type:
        if number_type not in NUMBER_TYPES:
            raise RejectedError(
                400, f"type must be one of {sorted(NUMBER_TYPES)}, not {number_type!r}"
            )
        checks.append(lambda n: n["number_type"] == number_type)
    prefix = normalize_number(query.get("number_startswith", ""))
    if prefix:
        checks.append(lambda n: str(n["number"]).startswith(prefix))
    if query.get("services"):
        wanted = [s.strip() for s in query["services"].split(",") if s.strip()]
        unknown = [s for s in wanted if s not in SERVICES]
        if unknown:
            raise RejectedError(400, f"services may only list voice, sms and mms, not {unknown}")
        checks.append(lambda n: all(n[f"{service}_enabled"] for service in wanted))
    if query.get("subaccount"):
        subaccount = query["subaccount"]
        checks.append(lambda n: n["sub_account"] == subaccount)
    for name in _EXACT_FILTERS:
        if query.get(name):
            value = query[name].lower()
            checks.append(lambda n, f=name, v=value: str(n[f]).lower() == v)  # type: ignore[misc]
    for name, compare in _DATE_OPERATORS.items():
        if query.get(name):
            bound = query[name]
            if not _DATE.fullmatch(bound):
                raise RejectedError(400, f"{name} must look like YYYY-MM-DD, not {bound!r}")
            checks.append(lambda n, c=compare, b=bound: c(n["renewal_date"], b))  # type: ignore[misc]
    return checks


async def list_numbers(request: web.Request) -> web.StreamResponse:
    checks = _filters(dict(request.query))
    items = [n for n in state_of(request).numbers.values() if all(c(n) for c in checks)]
    return paged(request, items, "Number/")


def _number(request: web.Request) -> JsonDict:
    return stored(state_of(request).numbers, normalize_number(request.match_info["number"]))


async def get_number(request: web.Request) -> web.StreamResponse:
    return respond(_number(request))


async def update_number(request: web.Request) -> web.StreamResponse:
    number = _number(request)
    state = state_of(request)
    values = params(request)
    updates: JsonDict = {}
    alias = text_param(values, "alias")
    if alias is not None:
        updates["alias"] = alias
    app_id = reference_param(values, "app_id", state.applications)
    if app_id is not None:
        updates["application"] = state.applications[app_id]["resource_uri"]
    subaccount = reference_param(values, "subaccount", state.subaccounts)
    if subaccount is not None:
        updates["sub_account"] = subaccount
    cnam_lookup = text_param(values, "cnam_lookup")
    if cnam_lookup is not None:
        if cnam_lookup not in {"enabled", "disabled"}:
            raise RejectedError(
                400, f"cnam_lookup must be 'enabled' or 'disabled', not {cnam_lookup!r}"
            )
        updates["cnam_lookup"] = cnam_lookup
    number.update(updates)
    return changed()


async def unrent_number(request: web.Request) -> web.StreamResponse:
    number = _number(request)
    del state_of(request).numbers[number["number"]]
    return deleted()
