"""application create / delete / get / getAll / update: Application/ (PLIVO_API.md §12).

An update sends only the fields the user named: Plivo keeps the others, whereas re-sending
defaults (as Plivo's Python SDK does) would silently reset them.
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
    http_method,
    put_text,
    require_update,
    without_keys,
)
from plivo_node.nodes.plivo.resources._paging import list_all
from plivo_node.nodes.plivo.validation.fields import (
    check_bool,
    check_http_url,
    check_numeric_id,
    require_text,
    text_value,
)

APPLICATION_PATH = "Application/"
_APP_NAME = re.compile(r"[A-Za-z0-9_-]+")

URL_FIELDS = {
    "answer_url": "Answer URL",
    "hangup_url": "Hangup URL",
    "fallback_answer_url": "Fallback Answer URL",
    "message_url": "Message URL",
}
METHOD_FIELDS = {
    "answer_method": "Answer Method",
    "hangup_method": "Hangup Method",
    "fallback_method": "Fallback Method",
    "message_method": "Message Method",
}
BOOL_FIELDS = {
    "default_number_app": "Default Number App",
    "default_endpoint_app": "Default Endpoint App",
    "log_incoming_messages": "Log Incoming Messages",
    "public_uri": "Public URI",
}


def application_path(app_id: str) -> str:
    return f"{APPLICATION_PATH}{app_id}/"


def _app_id(params: Mapping[str, Any]) -> str:
    return check_numeric_id(params.get("app_id"), parameter="app_id", label="Application ID")


def _app_name(raw: object) -> str:
    name = require_text(raw, parameter="app_name", label="Application Name")
    if not _APP_NAME.fullmatch(name):
        raise ParameterError(
            f"Application Name '{name}' has characters Plivo does not allow",
            hint="use only letters, digits, '-' and '_', like my-app_2",
            parameter="app_name",
        )
    return name


def application_fields(fields: Mapping[str, Any], *, collection_name: str) -> dict[str, Any]:
    """The wire form of the application fields present in ``fields``; empty text is left out."""
    body: dict[str, Any] = {}
    for key, label in URL_FIELDS.items():
        if text_value(fields.get(key)):
            body[key] = check_http_url(
                fields[key], parameter=f"{collection_name}.{key}", label=label
            )
    for key, label in METHOD_FIELDS.items():
        if text_value(fields.get(key)):
            body[key] = http_method(fields[key], parameter=f"{collection_name}.{key}", label=label)
    for key, label in BOOL_FIELDS.items():
        if fields.get(key) is not None:
            body[key] = check_bool(fields[key], parameter=f"{collection_name}.{key}", label=label)
    put_text(body, "subaccount", fields.get("subaccount"))
    return body


async def create(ctx: OperationContext) -> list[JsonObject]:
    params = ctx.params
    body: dict[str, Any] = {
        "app_name": _app_name(params.get("app_name")),
        "answer_url": check_http_url(
            params.get("answer_url"), parameter="answer_url", label="Answer URL"
        ),
        "answer_method": http_method(
            params.get("answer_method", "POST"), parameter="answer_method", label="Answer Method"
        ),
    }
    # answer_url and answer_method are main parameters here, never additional fields.
    extra = without_keys(collection(params, "additionalFields"), body)
    body.update(application_fields(extra, collection_name="additionalFields"))
    response = await ctx.client.request("POST", APPLICATION_PATH, body=body)
    return [body_of(response)]


async def delete(ctx: OperationContext) -> list[JsonObject]:
    app_id = _app_id(ctx.params)
    extra = collection(ctx.params, "additionalFields")
    body: dict[str, Any] = {}
    if extra.get("cascade") is not None:
        body["cascade"] = check_bool(
            extra["cascade"], parameter="additionalFields.cascade", label="Cascade"
        )
    if text_value(extra.get("new_endpoint_application")):
        body["new_endpoint_application"] = check_numeric_id(
            extra["new_endpoint_application"],
            parameter="additionalFields.new_endpoint_application",
            label="New Endpoint Application",
        )
    await ctx.client.request("DELETE", application_path(app_id), body=body or None)
    return [{"success": True, "id": app_id}]


async def get(ctx: OperationContext) -> list[JsonObject]:
    app_id = _app_id(ctx.params)
    response = await ctx.client.request("GET", application_path(app_id))
    return [body_of(response)]


async def get_all(ctx: OperationContext) -> list[JsonObject]:
    return await list_all(ctx, APPLICATION_PATH)


async def update(ctx: OperationContext) -> list[JsonObject]:
    app_id = _app_id(ctx.params)
    fields = collection(ctx.params, "updateFields")
    body = application_fields(fields, collection_name="updateFields")
    require_update(body, label="application")
    response = await ctx.client.request("POST", application_path(app_id), body=body)
    return [{**body_of(response), "id": app_id}]
