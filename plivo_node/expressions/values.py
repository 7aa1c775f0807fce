"""JavaScript-like values: type names, ``String()``/``Number()`` conversions, callables.

Expressions see plain Python values (dict, list, str, int, float, bool, None, datetime) and
treat them as their JavaScript counterparts. :class:`JsFunction` is the only thing an expression
may call, and :class:`JsObject` the base of the non-JSON objects it may read properties of.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime

from plivo_node.context import BinaryData
from plivo_node.errors import ExpressionError
from plivo_node.expressions.limits import MAX_TEXT_CHARS, check_text_size


class JsFunction:
    """The only kind of thing an expression may call; ``target`` is the method's receiver."""

    __slots__ = ("function", "name", "target")

    def __init__(self, name: str, function: Callable[..., object], target: object = None) -> None:
        self.name = name
        self.function = function
        self.target = target

    def __call__(self, *args: object) -> object:
        try:
            result = (
                self.function(*args) if self.target is None else self.function(self.target, *args)
            )
        except TypeError as exc:
            if "argument" in str(exc):  # arity is the only TypeError the tables raise here
                raise ExpressionError(f"Wrong number of arguments for {self.name}()") from None
            raise
        if isinstance(result, str):
            check_text_size(len(result))
        return result


class JsObject:
    """Base of the non-JSON objects an expression can read properties of."""

    label = "object"

    def js_get(self, key: str) -> object:
        raise ExpressionError(f"{self.label} has no property '{key}'")


def kind(value: object) -> str:
    """A value's type in the words an n8n user knows, with its article: "a string", "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, datetime | date):
        return "a date"
    if isinstance(value, JsFunction):
        return "a function"
    if isinstance(value, JsObject):
        return value.label
    return "a value"


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def _number_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", repr(value))


def json_value(value: object) -> object:
    """A non-JSON value (date, tuple, mapping, binary) as the JSON value it stands for."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, BinaryData):
        return {"data": value.data, "mimeType": value.mime_type, "fileName": value.file_name}
    raise ExpressionError(f"{capitalized(kind(value))} cannot be turned into JSON")


def _estimated_json_size(value: object) -> int:
    """A cheap lower bound of a container's JSON size, stopping once it is too big."""
    size = 0
    stack = [value]
    while stack and size <= MAX_TEXT_CHARS:
        current = stack.pop()
        if isinstance(current, str):
            size += len(current) + 2
        elif isinstance(current, Mapping):
            size += 2
            for key, item in current.items():
                size += len(str(key)) + 4
                stack.append(item)
        elif isinstance(current, list | tuple):
            size += 2
            stack.extend(current)
        else:
            size += 4
    return size


def to_text(value: object) -> str:
    """JavaScript's ``String(value)`` as n8n splices it: null is "", objects are JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping | list | tuple | BinaryData):
        check_text_size(_estimated_json_size(value))
        return json.dumps(value, default=json_value, ensure_ascii=False, separators=(",", ":"))
    raise ExpressionError(
        f"{capitalized(kind(value))} cannot be turned into text",
        hint="call it or read one of its properties, e.g. $input.item.json",
    )


def to_number(value: object) -> float | int:
    """JavaScript's ``Number(value)``, NaN for text that is not a number."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0
        try:
            number = float(text)
        except ValueError:
            return math.nan
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return math.nan


def truthy(value: object) -> bool:
    """JavaScript's truthiness: false, 0, NaN, "" and null are falsy; [] and {} are not."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def is_number(value: object) -> bool:
    return isinstance(value, int | float)


def whole(value: object, name: str) -> int:
    """An argument as a whole number (infinity clamped); ``name`` says which one is wrong."""
    number = to_number(value)
    if isinstance(number, float):
        if math.isnan(number):
            raise ExpressionError(f"{name} must be a number")
        if math.isinf(number):
            return 2**62 if number > 0 else -(2**62)
        return int(number)
    return number
