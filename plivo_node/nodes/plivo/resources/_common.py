"""Small helpers every resource module uses to read parameters and shape output items."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from plivo_node.core.api import ApiResponse
from plivo_node.core.errors import ParameterError
from plivo_node.core.items import JsonObject
from plivo_node.nodes.plivo.validation.fields import check_choice, check_http_url, text_value

HTTP_METHODS = ("GET", "POST")


def collection(params: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A collection parameter (``additionalFields``, ``updateFields``): only the user's fields."""
    value = params.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ParameterError(
            f"{name} must be an object of fields, got {type(value).__name__}", parameter=name
        )
    return dict(value)


def body_of(response: ApiResponse) -> JsonObject:
    """The response's JSON object as a fresh dict ({} for 204 No Content)."""
    return dict(response.body) if response.body else {}


def without_keys(obj: Mapping[str, Any], keys: Iterable[str]) -> JsonObject:
    """A copy of ``obj`` without ``keys`` (secrets, write-only or repeated fields)."""
    dropped = set(keys)
    return {key: value for key, value in obj.items() if key not in dropped}


def http_method(raw: object, *, parameter: str, label: str) -> str:
    """GET or POST; case-insensitive, since expressions often produce lower case."""
    return check_choice(
        text_value(raw).upper() or "POST", parameter=parameter, label=label, choices=HTTP_METHODS
    )


def put_url_with_method(
    body: dict[str, Any],
    fields: Mapping[str, Any],
    *,
    url_key: str,
    method_key: str,
    label: str,
    prefix: str = "",
) -> None:
    """Put a callback URL and its method on the wire, both only when the URL is given.

    A method without its URL means nothing to Plivo, and sending the default ``POST`` for it
    would only add noise, so the method rides along with the URL.
    """
    if not text_value(fields.get(url_key)):
        return
    body[url_key] = check_http_url(fields[url_key], parameter=prefix + url_key, label=label)
    if method_key in fields:
        body[method_key] = http_method(
            fields[method_key], parameter=prefix + method_key, label=f"{label} method"
        )


def put_text(body: dict[str, Any], key: str, raw: object) -> None:
    """Put an optional text field on the wire only when it is non-empty."""
    text = text_value(raw)
    if text:
        body[key] = text


def require_update(body: Mapping[str, Any], *, label: str) -> None:
    """An update with nothing to send is a mistake the node can see before calling Plivo."""
    if not body:
        raise ParameterError(
            f"nothing to update: no {label} field has a value",
            hint="add at least one field under Update Fields",
            parameter="updateFields",
        )
