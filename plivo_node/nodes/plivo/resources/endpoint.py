"""endpoint create / delete / get / getAll / update: SIP endpoints, Endpoint/ (PLIVO_API.md §14).

The password is write-only: it goes to Plivo and nowhere else. It is registered with the
redaction guard as soon as it is read, never quoted in an error, and a ``password`` key is
stripped from every answer before it becomes an output item.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from plivo_node.core.api import ApiResponse
from plivo_node.core.errors import ParameterError
from plivo_node.core.items import JsonObject
from plivo_node.core.node import OperationContext
from plivo_node.core.redaction import register_secret
from plivo_node.nodes.plivo.resources._common import (
    body_of,
    collection,
    put_text,
    require_update,
    without_keys,
)
from plivo_node.nodes.plivo.resources._paging import list_all
from plivo_node.nodes.plivo.validation.fields import check_numeric_id, require_text, text_value

ENDPOINT_PATH = "Endpoint/"
MIN_PASSWORD_LENGTH = 5
WRITE_ONLY_KEYS = ("password",)
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def endpoint_path(endpoint_id: str) -> str:
    return f"{ENDPOINT_PATH}{endpoint_id}/"


def _endpoint_id(params: Mapping[str, Any]) -> str:
    return check_numeric_id(params.get("endpoint_id"), parameter="endpoint_id", label="Endpoint ID")


def _password(raw: object, *, parameter: str) -> str:
    # Not stripped: spaces may be part of a password. Never put the value in a message.
    password = "" if raw is None else str(raw)
    register_secret(password)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ParameterError(
            f"Password has {len(password)} characters; Plivo needs at least {MIN_PASSWORD_LENGTH}",
            hint=f"use a password of {MIN_PASSWORD_LENGTH} or more characters",
            parameter=parameter,
        )
    return password


def _username(raw: object) -> str:
    username = require_text(raw, parameter="username", label="Username")
    if not _USERNAME.fullmatch(username):
        raise ParameterError(
            f"Username '{username}' must be letters and digits, starting with a letter",
            hint="use something like alice01 (Plivo appends 12 digits to make it unique)",
            parameter="username",
        )
    return username


def _app_id(raw: object, *, parameter: str) -> str:
    return check_numeric_id(raw, parameter=parameter, label="Application ID")


def public_view(response: ApiResponse) -> JsonObject:
    """Plivo's answer without any write-only field."""
    return without_keys(body_of(response), WRITE_ONLY_KEYS)


async def create(ctx: OperationContext) -> list[JsonObject]:
    params = ctx.params
    password = _password(params.get("password"), parameter="password")
    body: dict[str, Any] = {
        "username": _username(params.get("username")),
        "password": password,
        "alias": require_text(params.get("alias"), parameter="alias", label="Alias"),
    }
    extra = collection(params, "additionalFields")
    if text_value(extra.get("app_id")):
        body["app_id"] = _app_id(extra["app_id"], parameter="additionalFields.app_id")
    response = await ctx.client.request("POST", ENDPOINT_PATH, body=body)
    return [public_view(response)]


async def delete(ctx: OperationContext) -> list[JsonObject]:
    endpoint_id = _endpoint_id(ctx.params)
    await ctx.client.request("DELETE", endpoint_path(endpoint_id))
    return [{"success": True, "id": endpoint_id}]


async def get(ctx: OperationContext) -> list[JsonObject]:
    endpoint_id = _endpoint_id(ctx.params)
    response = await ctx.client.request("GET", endpoint_path(endpoint_id))
    return [public_view(response)]


async def get_all(ctx: OperationContext) -> list[JsonObject]:
    endpoints = await list_all(ctx, ENDPOINT_PATH)
    return [without_keys(endpoint, WRITE_ONLY_KEYS) for endpoint in endpoints]


async def update(ctx: OperationContext) -> list[JsonObject]:
    endpoint_id = _endpoint_id(ctx.params)
    fields = collection(ctx.params, "updateFields")
    body: dict[str, Any] = {}
    if fields.get("password") is not None:
        body["password"] = _password(fields["password"], parameter="updateFields.password")
    put_text(body, "alias", fields.get("alias"))
    if text_value(fields.get("app_id")):
        body["app_id"] = _app_id(fields["app_id"], parameter="updateFields.app_id")
    require_update(body, label="endpoint")
    response = await ctx.client.request("POST", endpoint_path(endpoint_id), body=body)
    return [{**public_view(response), "id": endpoint_id}]
