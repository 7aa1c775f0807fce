"""n8n's value types and conversions (packages/workflow/src/type-validation.ts).

``validateFieldType`` is the one place where n8n turns a value into a string, number, boolean,
dateTime, array or object; Edit Fields (assignment types) and the If/Filter conditions both
use it. :func:`convert` follows it:

==========  =====================================================================================
string      text as it is; with ``parse_strings``: numbers and booleans as JavaScript prints
            them, arrays and objects as JSON; ``strict`` refuses anything but text
number      ``Number(value)``: "12" -> 12, " 1.5 " -> 1.5, "" -> 0, "0x1f" -> 31, true -> 1,
            [7] -> 7; "abc" and {} fail; ``strict`` refuses anything but a number
boolean     true/false; "true"/"false" in any case; anything whose ``Number()`` is 1 or 0
            ("1", "0", 1, 0, [], [1]); "" and "yes" fail; ``strict`` refuses all but booleans
dateTime    ISO 8601, RFC 2822, HTTP and SQL dates (see :mod:`.date_text`); no strict check
array       an array; text that is a JSON array, also with single quotes ("['a','b']")
object      an object; text that is a JSON object or a JavaScript object literal
==========  =====================================================================================

Values are JSON plus :data:`~.field_paths.MISSING` (undefined). n8n lets null and undefined
through every type unchanged; so does :func:`convert`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Literal

from plivo_node.expressions.coercion import JS_WHITESPACE, to_number, to_string
from plivo_node.expressions.json_text import stringify
from plivo_node.nodes.core.date_text import parse_date_time
from plivo_node.nodes.core.field_paths import MISSING
from plivo_node.nodes.core.lenient_json import parse_js_object

FieldType = Literal["string", "number", "boolean", "dateTime", "array", "object"]
FIELD_TYPES: Final[tuple[FieldType, ...]] = (
    "string",
    "number",
    "boolean",
    "dateTime",
    "array",
    "object",
)


class ConversionError(ValueError):
    """The value cannot be read as the type."""


def type_of(value: object) -> str:
    """JavaScript's ``typeof`` for a JSON value ("object" for null, lists and dicts)."""
    if value is MISSING:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def js_text(value: object) -> str:
    """JavaScript's ``String(value)``: arrays joined with commas, objects "[object Object]"."""
    return to_string(value)


def value_description(value: object) -> str:
    """n8n's ``getValueDescription``: 'text' quoted, or "array", "object", "'null'"."""
    if value is None:
        return "'null'"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return f"'{js_text(value)}'"


def _json_text(value: object) -> str:
    text = stringify(value)
    return text if isinstance(text, str) else "undefined"


def _to_string(value: object) -> str:
    """``tryToParseString``."""
    if isinstance(value, list | Mapping):
        return _json_text(value)
    return js_text(value)


def _to_number(value: object) -> int | float:
    """``tryToParseNumber``: JavaScript's ``Number(value)``, NaN refused."""
    number = to_number(value)
    if isinstance(number, float) and math.isnan(number):
        raise ConversionError("not a number")
    return number


def to_boolean(value: object) -> bool:
    """``tryToParseBoolean``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not (isinstance(value, str) and not value.strip(JS_WHITESPACE)):
        number = to_number(value)
        if number == 0:
            return False
        if number == 1:
            return True
    raise ConversionError("not a boolean")


def _json_parse(text: str) -> Any:
    """``JSON.parse``: JSON numbers are doubles, so NaN and Infinity are not JSON."""

    def refuse(name: str) -> Any:
        raise ConversionError(f"{name} is not JSON")

    def double(digits: str) -> int | float:
        number = float(digits)  # "1.0" is the number 1, as JavaScript reads it
        if not math.isfinite(number):
            raise ConversionError(f"{digits} is too large")
        return int(number) if number.is_integer() and abs(number) < 2**53 else number

    try:
        return json.loads(text, parse_constant=refuse, parse_float=double)
    except (ValueError, RecursionError) as error:
        raise ConversionError("not JSON") from error


def _to_array(value: object) -> list[Any]:
    """``tryToParseArray``: an array, or JSON text of one (single quotes read as double)."""
    if isinstance(value, list):
        return value
    text = js_text(value)
    try:
        parsed = _json_parse(text)
    except ConversionError:
        parsed = _json_parse(text.replace("'", '"'))
    if not isinstance(parsed, list):
        raise ConversionError("not an array")
    return parsed


def _to_object(value: object) -> dict[str, Any] | None:
    """``tryToParseObject``: an object, or JSON or JavaScript-literal text of one."""
    if isinstance(value, Mapping):
        return dict(value)
    text = js_text(value)
    try:
        parsed = _json_parse(text)
    except ConversionError:
        try:
            parsed = parse_js_object(text)
        except ValueError as error:
            raise ConversionError("not an object") from error
    if parsed is None:  # JSON.parse("null"): typeof null is "object", and n8n lets it through
        return None
    if not isinstance(parsed, dict):
        raise ConversionError("not an object")
    return parsed


def _to_date_time(value: object) -> datetime:
    try:
        return parse_date_time(js_text(value))
    except ValueError as error:
        raise ConversionError("not a date") from error


def convert(
    value: Any, field_type: FieldType, *, strict: bool = False, parse_strings: bool = False
) -> Any:
    """``validateFieldType``: ``value`` as ``field_type``, or :class:`ConversionError`."""
    if value is None or value is MISSING:
        return value
    if field_type == "string":
        if not parse_strings:
            return value
        if strict and not isinstance(value, str):
            raise ConversionError("not a string")
        return _to_string(value)
    if field_type == "number":
        if strict and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConversionError("not a number")
        return _to_number(value)
    if field_type == "boolean":
        if strict and not isinstance(value, bool):
            raise ConversionError("not a boolean")
        return to_boolean(value)
    if field_type == "dateTime":
        return _to_date_time(value)
    if field_type == "array":
        if strict and not isinstance(value, list):
            raise ConversionError("not an array")
        return _to_array(value)
    # "object": lodash's isObject, which arrays pass too (and then fail the conversion).
    if strict and not isinstance(value, Mapping | list):
        raise ConversionError("not an object")
    return _to_object(value)
