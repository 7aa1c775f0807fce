"""The lookup rule behind ``a.b`` and ``a["b"]``: JavaScript's semantics over an allowlist.

JSON objects answer with their keys; strings, arrays, numbers and dates with the methods in
:mod:`~plivo_node.expressions.methods` and :mod:`~plivo_node.expressions.dates`; nothing else,
and no Python attribute, is reachable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final

from plivo_node.core.errors import ExpressionError
from plivo_node.core.items import BinaryData
from plivo_node.expressions.coercion import is_nullish, to_string
from plivo_node.expressions.dates import DATE_METHODS, DATE_PROPERTIES
from plivo_node.expressions.methods import ARRAY_METHODS, NUMBER_METHODS, STRING_METHODS
from plivo_node.expressions.values import UNDEFINED, JsFunction, JsObject, capitalized, kind

_BINARY_PROPERTIES: Final[dict[str, Callable[[BinaryData], object]]] = {
    "data": lambda entry: entry.data,
    "mimeType": lambda entry: entry.mime_type,
    "fileName": lambda entry: entry.file_name,
}


def _position(key: object) -> int | None:
    """``key`` as an array/string index, or None when it names a property instead."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, float) and key.is_integer():
        return int(key)
    if isinstance(key, str) and key.isdigit() and key.isascii():
        return int(key)
    return None


def _method(table: Mapping[str, Callable[..., object]], key: str, target: object) -> object:
    function = table.get(key)
    if function is None:
        raise ExpressionError(f"{capitalized(kind(target))} has no property or method '{key}'")
    return JsFunction(key, function, target)


def member(target: object, key: object, *, optional: bool = False) -> object:
    """``target[key]`` with JavaScript's rules; ``optional`` is ``?.``, where null gives null."""
    if isinstance(key, str) and key.startswith("__"):
        raise ExpressionError(
            f"Access to '{key}' is refused: names starting with '__' are internal"
        )
    if is_nullish(target):
        if optional:
            return UNDEFINED
        raise ExpressionError(
            f"Cannot read '{to_string(key)}' of {kind(target)}",
            hint="the value before it is missing; use ?. to allow that, e.g. $json.a?.b",
        )
    if isinstance(target, Mapping):
        # A JSON object: every key is data, "_id" included; a missing key is undefined.
        return target.get(key if isinstance(key, str) else to_string(key), UNDEFINED)
    if isinstance(key, str) and key.startswith("_"):
        raise ExpressionError(f"Access to '{key}' is refused: names starting with '_' are private")
    if isinstance(target, str | list | tuple):
        position = _position(key)
        if position is not None:
            return target[position] if 0 <= position < len(target) else UNDEFINED
        if key == "length":
            return len(target)
        if not isinstance(key, str):
            return UNDEFINED  # a[-1], a[0.5]: no such element
        return _method(STRING_METHODS if isinstance(target, str) else ARRAY_METHODS, key, target)
    text_key = to_string(key)
    if isinstance(target, JsObject):
        return target.js_get(text_key)
    if isinstance(target, JsFunction):
        if text_key not in target.properties:
            raise ExpressionError(f"{target.name}.{text_key} is not available")
        return target.properties[text_key]
    if isinstance(target, datetime):
        reader = DATE_PROPERTIES.get(text_key)
        return reader(target) if reader else _method(DATE_METHODS, text_key, target)
    if isinstance(target, BinaryData):
        binary_reader = _BINARY_PROPERTIES.get(text_key)
        if binary_reader is None:
            raise ExpressionError(f"Binary data has no property '{text_key}'")
        return binary_reader(target)
    if isinstance(target, int | float) and not isinstance(target, bool):
        return _method(NUMBER_METHODS, text_key, target)
    if isinstance(target, bool) and text_key in ("toString", "valueOf"):
        return JsFunction(text_key, to_string if text_key == "toString" else bool, target)
    raise ExpressionError(f"{capitalized(kind(target))} has no property '{text_key}'")
