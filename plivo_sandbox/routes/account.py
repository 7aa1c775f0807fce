"""The account itself (the base path) and Subaccount/."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from plivo_sandbox.seed import add_subaccount
from plivo_sandbox.state import JsonDict
from plivo_sandbox.wire import (
    RejectedError,
    bool_param,
    changed,
    deleted,
    paged,
    params,
    required_text_param,
    respond,
    state_of,
    stored,
    text_param,
)


def add_routes(router: web.UrlDispatcher, base: str) -> None:
    router.add_get(base, get_account)
    router.add_post(base, update_account)
    router.add_get(base + "Subaccount/", list_subaccounts)
    router.add_post(base + "Subaccount/", create_subaccount)
    router.add_get(base + "Subaccount/{subaccount_id}/", get_subaccount)
    router.add_post(base + "Subaccount/{subaccount_id}/", update_subaccount)
    router.add_delete(base + "Subaccount/{subaccount_id}/", delete_subaccount)


async def get_account(request: web.Request) -> web.StreamResponse:
    return respond(state_of(request).account)


async def update_account(request: web.Request) -> web.StreamResponse:
    values = params(request)
    updates = {name: text_param(values, name) for name in ("name", "city", "address")}
    updates = {name: value for name, value in updates.items() if value is not None}
    if not updates:
        raise RejectedError(400, "give at least one of name, city and address")
    state_of(request).account.update(updates)
    return changed()


async def list_subaccounts(request: web.Request) -> web.StreamResponse:
    return paged(request, list(state_of(request).subaccounts.values()), "Subaccount/")


def _subaccount(request: web.Request) -> JsonDict:
    return stored(state_of(request).subaccounts, request.match_info["subaccount_id"])


async def get_subaccount(request: web.Request) -> web.StreamResponse:
    return respond(_subaccount(request))


async def create_subaccount(request: web.Request) -> web.StreamResponse:
    values = params(request)
    name = required_text_param(values, "name")
    enabled = bool_param(values, "enabled") or False
    today = dt.datetime.now(dt.UTC).date().isoformat()
    subaccount = add_subaccount(state_of(request), name, enabled=enabled, created=today)
    body = {
        "auth_id": subaccount["auth_id"],
        "auth_token": subaccount["auth_token"],
        "message": "created",
    }
    return respond(body, 201)


async def update_subaccount(request: web.Request) -> web.StreamResponse:
    subaccount = _subaccount(request)
    values = params(request)
    name = required_text_param(values, "name")
    enabled = bool_param(values, "enabled")
    subaccount["name"] = name
    if enabled is not None:
        subaccount["enabled"] = enabled
    subaccount["modified"] = dt.datetime.now(dt.UTC).date().isoformat()
    return changed()


async def delete_subaccount(request: web.Request) -> web.StreamResponse:
    _subaccount(request)
    del state_of(request).subaccounts[request.match_info["subaccount_id"]]
    return deleted()
