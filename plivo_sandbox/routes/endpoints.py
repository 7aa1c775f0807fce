"""Endpoint/ (SIP endpoints): create (201), get, list, update (202), delete (204).

The username gains a 12-digit suffix (a ``yyMMddHHmmss`` stamp, bumped when taken);
``sip_registered`` is the string ``"true"``/``"false"``. Passwords are kept in a separate
table of the state and never appear in any answer.
"""

from __future__ import annotations

import re
import time

from aiohttp import web

from plivo_sandbox.state import JsonDict, SandboxState
from plivo_sandbox.wire import (
    RejectedError,
    changed,
    deleted,
    paged,
    params,
    reference_param,
    required_text_param,
    respond,
    state_of,
    stored,
    text_param,
)

_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
MIN_PASSWORD_LENGTH = 5


def add_routes(router: web.UrlDispatcher, base: str) -> None:
    router.add_post(base + "Endpoint/", create_endpoint)
    router.add_get(base + "Endpoint/", list_endpoints)
    router.add_get(base + "Endpoint/{endpoint_id}/", get_endpoint)
    router.add_post(base + "Endpoint/{endpoint_id}/", update_endpoint)
    router.add_delete(base + "Endpoint/{endpoint_id}/", delete_endpoint)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        # Never echo the password itself.
        raise RejectedError(400, f"password must be at least {MIN_PASSWORD_LENGTH} characters long")


def _application_uri(state: SandboxState, values: JsonDict) -> str | None:
    app_id = reference_param(values, "app_id", state.applications)
    return None if app_id is None else str(state.applications[app_id]["resource_uri"])


def _default_endpoint_app(state: SandboxState) -> str | None:
    for application in state.applications.values():
        if application["default_endpoint_app"]:
            return str(application["resource_uri"])
    return None


def _sip_username(state: SandboxState, username: str) -> str:
    taken = {endpoint["username"] for endpoint in state.endpoints.values()}
    stamp = int(time.strftime("%y%m%d%H%M%S", time.gmtime()))
    while f"{username}{stamp:012d}" in taken:
        stamp += 1
    return f"{username}{stamp:012d}"


async def create_endpoint(request: web.Request) -> web.StreamResponse:
    values = params(request)
    state = state_of(request)
    username = required_text_param(values, "username")
    if not _USERNAME.fullmatch(username):
        raise RejectedError(
            400, f"username {username!r} must be letters and digits, starting with a letter"
        )
    password = required_text_param(values, "password")
    _check_password(password)
    alias = required_text_param(values, "alias")
    application = _application_uri(state, values) or _default_endpoint_app(state)
    endpoint_id = state.new_endpoint_id()
    sip_username = _sip_username(state, username)
    state.endpoints[endpoint_id] = {
        "endpoint_id": endpoint_id,
        "alias": alias,
        "username": sip_username,
        "sip_uri": f"sip:{sip_username}@phone.plivo.com",
        "sip_registered": "false",
        "sub_account": None,
        "application": application,
        "resource_uri": f"{state.base_path}Endpoint/{endpoint_id}/",
    }
    state.endpoint_passwords[endpoint_id] = password
    body = {
        "alias": alias,
        "endpoint_id": endpoint_id,
        "message": "created",
        "username": sip_username,
    }
    return respond(body, 201)


def _endpoint(request: web.Request) -> JsonDict:
    return stored(state_of(request).endpoints, request.match_info["endpoint_id"])


async def get_endpoint(request: web.Request) -> web.StreamResponse:
    return respond(_endpoint(request))


async def list_endpoints(request: web.Request) -> web.StreamResponse:
    return paged(request, list(state_of(request).endpoints.values()), "Endpoint/")


async def update_endpoint(request: web.Request) -> web.StreamResponse:
    endpoint = _endpoint(request)
    state = state_of(request)
    values = params(request)
    password = text_param(values, "password")
    alias = text_param(values, "alias")
    application = _application_uri(state, values)
    if password is not None:
        _check_password(password)
        state.endpoint_passwords[endpoint["endpoint_id"]] = password
    if alias is not None:
        endpoint["alias"] = alias
    if application is not None:
        endpoint["application"] = application
    return changed()


async def delete_endpoint(request: web.Request) -> web.StreamResponse:
    state_of(request).remove_endpoint(_endpoint(request)["endpoint_id"])
    return deleted()
