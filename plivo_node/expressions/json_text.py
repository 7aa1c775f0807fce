"""JSON as JavaScript writes and reads it (``JSON.stringify``/``JSON.parse``), and the two
boundaries where an expression's value leaves: spliced into text, or given to a parameter.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Final

from plivo_node.core.errors import ExpressionError
from plivo_node.core.items import BinaryData
from plivo_node.expressions.coercion import (
    is_nullish,
    number_value,
    refuse_non_finite,
    to_primitive,
    to_string,
    whole,
)
from plivo_node.expressions.limits import (
    MAX_DATA_DEPTH,
    MAX_TEXT_CHARS,
    check_text_size,
    reserve,
)
from plivo_node.expressions.values import UNDEFINED, JsFunction, iso, json_value

_TOO_DEEP: Final = f"The value is nested more than {MAX_DATA_DEPTH} levels deep"


class _Writer:
    """JSON.stringify's SerializeJSONProperty, refusing text past MAX_TEXT_CHARS as it grows."""

    def __init__(self, indent: str) -> None:
        self.indent = indent
        self.parts: list[str] = []
        self.size = 0

    def emit(self, text: str) -> None:
        self.size += len(text)
        check_text_size(self.size)
        self.parts.append(text)

    def value(self, value: object, depth: int) -> bool:
        """Write ``value``; False (nothing written) when JSON has no text for it."""
        if value is UNDEFINED or isinstance(value, JsFunction):
            return False
        if isinstance(value, datetime):
            value = iso(value)  # toJSON()
        elif isinstance(value, date | BinaryData):
            value = json_value(value)
        if value is None:
            self.emit("null")
        elif isinstance(value, str):
            self.emit(json.dumps(value, ensure_ascii=False))
        elif isinstance(value, bool | int | float):
            finite = isinstance(value, int) or math.isfinite(value)
            self.emit(to_string(value) if finite else "null")
        elif isinstance(value, list | tuple | Mapping):
            if depth >= MAX_DATA_DEPTH:
                raise ExpressionError(_TOO_DEEP)
            self.container(value, depth + 1)
        else:
            to_primitive(value)  # raises: a $input or step reference is no JSON value
        return True

    def container(
        self, value: list[object] | tuple[object, ...] | Mapping[object, object], depth: int
    ) -> None:
        is_array = not isinstance(value, Mapping)
        opening, closing = ("[", "]") if is_array else ("{", "}")
        inner = f"\n{self.indent * depth}" if self.indent else ""
        separator = "," + inner
        self.emit(opening)
        first = True
        if isinstance(value, Mapping):
            colon = ": " if self.indent else ":"
            for key, item in value.items():
                mark, size = len(self.parts), self.size
                self.emit(inner if first else separator)
                self.emit(json.dumps(str(key), ensure_ascii=False) + colon)
                if self.value(item, depth):
                    first = False
                else:  # undefined properties are left out
                    del self.parts[mark:]
                    self.size = size
        else:
            for item in value:
                self.emit(inner if first else separator)
                if not self.value(item, depth):
                    self.emit("null")
                first = False
        if not first and inner:
            self.emit(f"\n{self.indent * (depth - 1)}")
        self.emit(closing)


def stringify(value: object = UNDEFINED, _replacer: object = None, space: object = None) -> object:
    """``JSON.stringify(value, null, space)``: text, or undefined for undefined and functions."""
    if isinstance(space, int | float) and not isinstance(space, bool):
        indent = " " * min(max(whole(space), 0), 10)
    else:
        indent = space[:10] if isinstance(space, str) else ""
    if not indent and isinstance(value, list | dict) and (size := _plain_size(value)) is not None:
        check_text_size(size)  # a lower bound, known before anything is built
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        reserve(chars=len(text))
        return text
    writer = _Writer(indent)
    if not writer.value(value, 0):
        return UNDEFINED
    reserve(chars=writer.size)
    return "".join(writer.parts)


def _plain_size(value: object) -> int | None:
    """A lower bound of the JSON size of data whose JSON Python's encoder writes exactly as
    JavaScript does (the usual input item), or None when the JavaScript writer is needed:
    undefined, dates, whole-valued or exponent-formatted floats, deep nesting."""
    size = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending and size <= MAX_TEXT_CHARS:
        current, depth = pending.pop()
        if current is None or isinstance(current, bool):
            size += 4
        elif isinstance(current, str):
            size += len(current) + 2
        elif isinstance(current, int):
            if not -(10**21) < current < 10**21:
                return None
            size += 1
        elif isinstance(current, float):
            if current.is_integer() or not 1e-4 <= abs(current) < 1e16:
                return None
            size += 3
        elif isinstance(current, list | dict) and type(current) in (list, dict):
            if depth >= MAX_DATA_DEPTH:
                return None
            if isinstance(current, dict):
                if not all(isinstance(key, str) for key in current):
                    return None
                items: list[object] = list(current.values())
            else:
                items = current
            size += 2 + len(items)
            pending.extend((item, depth + 1) for item in items)
        else:
            return None
    return size
    return size


def _json_number(text: str) -> int | float:
    return number_value(float(text))  # a double, as JavaScript reads it: no digit limit


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def parse(text: object) -> object:
    """``JSON.parse(text)``: numbers as doubles; NaN and Infinity are not JSON."""
    source = to_string(text)
    try:
        parsed = json.loads(
            source,
            parse_int=_json_number,
            parse_float=_json_number,
            parse_constant=_no_constant,
        )
    except RecursionError:
        raise ExpressionError(f"JSON.parse: {_TOO_DEEP}") from None
    except ValueError as exc:
        raise ExpressionError(f"JSON.parse: the text is not valid JSON ({exc.args[0]})") from None
    _reserve_parsed(parsed)
    return parsed


def _reserve_parsed(value: object) -> None:
    """Charge what JSON.parse built; its text was bounded, so this only finds the arrays and
    objects that are too large."""
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, list):
            reserve(items=len(current))
            pending.extend(current)
        elif isinstance(current, dict):
            reserve(items=len(current))
            pending.extend(current.values())
        elif isinstance(current, str):
            reserve(chars=len(current))


def to_text(value: object) -> str:
    """A value as a ``{{ }}`` segment splices it into text, n8n's rule: null and undefined are
    empty, arrays and objects are JSON, everything else is ``String(value)``."""
    if is_nullish(value):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | Mapping | BinaryData):
        return str(stringify(value))  # containers always have JSON text
    if isinstance(value, float):
        refuse_non_finite(value)
    return to_string(value)


def parameter_value(value: object, depth: int = 0) -> object:
    """A value as a parameter receives it: JSON only (undefined is null, dates ISO text, whole
    numbers ints); NaN and Infinity, which JSON cannot hold, are refused."""
    if value is UNDEFINED:
        return None
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        refuse_non_finite(value)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if depth >= MAX_DATA_DEPTH:
        raise ExpressionError(_TOO_DEEP)
    if isinstance(value, list | tuple):
        return [parameter_value(item, depth + 1) for item in value]
    if isinstance(value, Mapping):
        return {
            str(key): parameter_value(item, depth + 1)
            for key, item in value.items()
            if item is not UNDEFINED
        }
    if isinstance(value, datetime | date | BinaryData):
        return json_value(value)
    return to_primitive(value)  # raises with a message fit for functions and references
