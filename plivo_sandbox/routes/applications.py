"""Application/: create (201), get, list, partial update (202), delete (204).

An update changes only the fields it carries (Plivo's documented behaviour); the request
param ``default_number_app`` is stored and answered as ``default_app``.
"""

from __future__ import annotations

import re

from aiohttp import web

from plivo_sandbox.seed import add_application
from plivo_sandbox.state import JsonDict, SandboxState
from plivo_sandbox.wire import (
    RejectedError,
    bool_param,
    changed,
    deleted,
    method_param,
    paged,
    params,
    reference_param,
    required_text_param,
    respond,
    state_of,
    stored,
    text_param,
    url_param,
)

_APP_NAME = re.compile(r"[A-Za-z0-9_-]+")
_URL_FIELDS = ("answer_url", "hangup_url", "fallback_answer_url", "message_url")
_METHOD_FIELDS = ("answer_method", "hangup_method", "fallback_method", "message_method")
# request param -> response field
_BOOL_FIELDS = {
    "default_number_app": "default_app",
    "default_endpoint_app": "default_endpoint_app",
    "log_incoming_messages": "log_incoming_messages",
    "public_uri": "public_uri",
}


def add_routes(router: web.UrlDispatcher, base: str) -> None:
    router.add_post(base + "Application/", create_application)
    router.add_get(base + "Application/", list_applications)
    router.add_get(base + "Application/{app_id}/", get_application)
    router.add_post(base + "Application/{app_id}/", update_application)
    router.add_delete(base + "Application/{app_id}/", delete_application)


def _fields(values: JsonDict, state: SandboxState) -> JsonDict:
    """The response-named fields a create or update request sets (only those it carries)."""
    fields: JsonDict = {}
    app_name = text_param(values, "app_name")
    if app_name is not None:
        if not _APP_NAME.fullmatch(app_name):
            raise RejectedError(
                400, f"app_name {app_name!r} may only contain letters, digits, '-' and '_'"
            )
        fields["app_name"] = app_name
    for name in _URL_FIELDS:
        if name in values:  # an empty value clears the URL
            fields[name] = url_param(values, name) or ""
    for name in _METHOD_FIELDS:
        method = method_param(values, name)
        if method is not None:
            fields[name] = method
    for param, field in _BOOL_FIELDS.items():
        flag = bool_param(values, param)
        if flag is not None:
            fields[field] = flag
    subaccount = reference_param(values, "subaccount", state.subaccounts)
    if subaccount is not None:
        fields["sub_account"] = subaccount
    return fields


def _keep_single_defaults(state: SandboxState, app_id: str, fields: JsonDict) -> None:
    """Only one application can be the default for numbers, and one for endpoints."""
    for flag in ("default_app", "default_endpoint_app"):
        if fields.get(flag):
            for other_id, other in state.applications.items():
                if other_id != app_id:
                    other[flag] = False


async def create_application(request: web.Request) -> web.StreamResponse:
    values = params(request)
    required_text_param(values, "app_name")
    state = state_of(request)
    fields = _fields(values, state)
    app_id = add_application(state, fields)
    _keep_single_defaults(state, app_id, fields)
    return respond({"app_id": app_id, "message": "created"}, 201)


def _application(request: web.Request) -> JsonDict:
    return stored(state_of(request).applications, request.match_info["app_id"])


async def get_application(request: web.Request) -> web.StreamResponse:
    return respond(_application(request))


async def list_applications(request: web.Request) -> web.StreamResponse:
    query = request.query
    items = list(state_of(request).applications.values())
    if query.get("app_name"):
        items = [app for app in items if app["app_name"] == query["app_name"]]
    if query.get("subaccount"):
        items = [app for app in items if app["sub_account"] == query["subaccount"]]
    return paged(request, items, "Application/")


async def update_application(request: web.Request) -> web.StreamResponse:
    application = _application(request)
    state = state_of(request)
    fields = _fields(params(request), state)
    application.update(fields)
    _keep_single_defaults(state, application["app_id"], fields)
    return changed()


async def delete_application(request: web.Request) -> web.StreamResponse:
    application = _application(request)
    state = state_of(request)
    values = params(request)
    cascade = bool_param(values, "cascade")
    successor_id = reference_param(values, "new_endpoint_application", state.applications)
    if successor_id == application["app_id"]:
        raise RejectedError(
            400, "new_endpoint_application must name another application than the one deleted"
        )
    uri = application["resource_uri"]
    for endpoint_id, endpoint in list(state.endpoints.items()):
        if endpoint["application"] != uri:
            continue
        if successor_id is not None:
            endpoint["application"] = state.applications[successor_id]["resource_uri"]
        elif cascade is None or cascade:
            # Plivo's default: deleting an application deletes its endpoints too.
            state.remove_endpoint(endpoint_id)
        else:
            endpoint["application"] = None
    for number in state.numbers.values():
        if number["application"] == uri:
            number["application"] = None
    del state.applications[application["app_id"]]
    return deleted()
