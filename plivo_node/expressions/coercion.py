"""JavaScript's type conversions and comparisons, in one place.

Expressions see plain Python values (dict, list, str, int, float, bool, None, datetime) plus
:data:`~plivo_node.expressions.values.UNDEFINED`, and treat them as their JavaScript
counterparts. Every operator, method and global converts through the functions here, which
follow the ECMAScript abstract operations: ToPrimitive, ToNumber, ToString, IsLooselyEqual
(``==``), IsStrictlyEqual (``===``), IsLessThan (``<``) and ToBoolean.

Numbers: JavaScript has one number type, the double. Arithmetic is done in floats; a whole
result within 2**53 is returned as an ``int`` (exactly the same value) so it prints and is
written as ``5``, not ``5.0``. Whole numbers read from the input are kept as they are until
arithmetic touches them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Final

from plivo_node.core.errors import ExpressionError
from plivo_node.core.items import BinaryData
from plivo_node.expressions.limits import reserve
from plivo_node.expressions.values import (
    UNDEFINED,
    JsFunction,
    JsObject,
    capitalized,
    iso,
    kind,
)

# ECMAScript's WhiteSpace and LineTerminator characters (what trim() and Number() skip).
JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_SAFE_INTEGER: Final = 2**53
_DECIMAL: Final = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_PREFIXED: Final = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
_RADIX: Final = {"x": 16, "o": 8, "b": 2}
_PRIMITIVE_TYPES: Final = frozenset({str, int, float, bool})


def is_nullish(value: object) -> bool:
    return value is None or value is UNDEFINED


def type_of(value: object) -> str:
    """JavaScript's ``typeof``."""
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, JsFunction):
        return "function"
    return "object"  # null too, as in JavaScript


def _category(value: object) -> str:
    """typeof, with null apart: the "type" ``==`` and ``===`` compare."""
    return "null" if value is None else type_of(value)


# --- numbers -----------------------------------------------------------------------------------


def number_value(number: float) -> int | float:
    """A computed double as expressions hold it: whole values within 2**53 as ``int``."""
    if number.is_integer() and abs(number) <= _SAFE_INTEGER and math.copysign(1, number) > 0:
        return int(number)
    return number  # fractions, NaN, infinities, -0 and huge values stay floats


def to_float(value: int | float) -> float:
    """A number as a double; whole numbers beyond the double range are infinite."""
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def to_number(value: object) -> int | float:
    """ToNumber: ``Number(value)``. NaN for text that is not a number."""
    if value is UNDEFINED:
        return math.nan
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return string_to_number(value)
    return to_number(to_primitive(value, "number"))


def to_double(value: object) -> float:
    """ToNumber as a float, for arithmetic."""
    if type(value) is float:  # the common cases first: this runs for every operand
        return value
    if type(value) is int:
        return to_float(value)
    return to_float(to_number(value))


def string_to_number(text: str) -> int | float:
    """JavaScript's StringToNumber: no underscores, no "inf"/"nan", 0x/0o/0b without a sign."""
    text = text.strip(JS_WHITESPACE)
    if not text:
        return 0
    if _DECIMAL.fullmatch(text):
        return number_value(float(text.replace("Infinity", "inf")))
    if _PREFIXED.fullmatch(text):
        # A power-of-two base: int() is linear and has no digit limit here.
        return number_value(to_float(int(text[2:], _RADIX[text[1].lower()])))
    return math.nan


def number_to_string(number: float) -> str:
    """Number::toString: the shortest digits that round-trip, laid out as JavaScript does."""
    if math.isnan(number):
        return "NaN"
    if number == 0:
        return "0"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    sign = "-" if number < 0 else ""
    mantissa, _, exponent = repr(abs(number)).partition("e")
    whole_part, _, fraction = mantissa.partition(".")
    digits = whole_part + fraction
    point = len(whole_part) + int(exponent or 0)  # value = 0.DIGITS * 10**point
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    count = len(digits)
    if count <= point <= 21:
        text = digits + "0" * (point - count)
    elif 0 < point <= 21:
        text = f"{digits[:point]}.{digits[point:]}"
    elif -6 < point <= 0:
        text = f"0.{'0' * -point}{digits}"
    else:
        power = point - 1
        shown = digits if count == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{shown}e{'+' if power >= 0 else '-'}{abs(power)}"
    return sign + text


def whole(value: object) -> int:
    """ToIntegerOrInfinity for an argument: NaN is 0, infinities are clamped."""
    number = to_double(value)
    if math.isnan(number):
        return 0
    if math.isinf(number):
        return 2**62 if number > 0 else -(2**62)
    return int(number)


# --- text --------------------------------------------------------------------------------------


def to_string(value: object) -> str:
    """ToString: ``String(value)`` ("null", "undefined", arrays joined with commas)."""
    if isinstance(value, str):
        return value
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) < 10**21:
        return str(value)  # an input's whole number keeps its digits
    if isinstance(value, int | float):
        return number_to_string(to_float(value))
    return to_string(to_primitive(value, "string"))


def refuse_non_finite(value: float) -> None:
    """NaN and Infinity leave no expression: JSON cannot hold them, and "NaN" in a message is
    a bug to report, not text to send. So they are refused where they would become a value or
    text implicitly (a parameter, splicing, ``+`` with text, join, toFixed); ``String(x)`` still
    gives "NaN" when asked for in words."""
    if math.isfinite(value):
        return
    cause = (
        "a value that is not a number was used as one"
        if math.isnan(value)
        else "a division by zero, or a number beyond about 1.8e308"
    )
    raise ExpressionError(
        f"The value is {to_string(value)} ({cause}), which cannot become text or a parameter",
        hint="check the fields it uses, or give a fallback, e.g. Number($json.x) || 0",
    )


def implicit_text(value: object) -> str:
    """ToString where JavaScript converts without being asked (``+``, join, concat): as
    ``String(value)``, but NaN and Infinity are refused (see :func:`refuse_non_finite`)."""
    if isinstance(value, float):
        refuse_non_finite(value)
    return to_string(value)


def array_to_string(items: list[object] | tuple[object, ...], separator: str = ",") -> str:
    """``Array.prototype.join``: null and undefined are empty, the rest through ToString."""
    texts = ["" if is_nullish(item) else implicit_text(item) for item in items]
    reserve(chars=sum(map(len, texts)) + len(separator) * max(len(texts) - 1, 0))
    return separator.join(texts)


def to_primitive(value: object, hint: str = "default") -> object:
    """ToPrimitive: arrays as their joined text, objects as "[object Object]", dates as their
    milliseconds for arithmetic ("number") and as ISO text otherwise."""
    if type(value) in _PRIMITIVE_TYPES or value is None or value is UNDEFINED:
        return value
    if isinstance(value, list | tuple):
        return array_to_string(value)
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000) if hint == "number" else iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping | BinaryData):
        return "[object Object]"
    if isinstance(value, JsFunction):
        raise ExpressionError(
            f"The expression uses the function {value.name} but does not call it",
            hint=f"add (), e.g. {value.name}()",
        )
    if isinstance(value, JsObject):
        raise ExpressionError(
            f"{capitalized(kind(value))} cannot be turned into a value",
            hint="read one of its properties, e.g. $input.item.json",
        )
    raise ExpressionError(f"{capitalized(kind(value))} cannot be turned into a value")


# --- truth and comparison ----------------------------------------------------------------------


def truthy(value: object) -> bool:
    """ToBoolean: false, 0, -0, NaN, "", null and undefined are falsy; [] and {} are not."""
    if value is None or value is UNDEFINED or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def strictly_equal(left: object, right: object) -> bool:
    """``===``: same type and value; NaN is not equal to itself; objects by identity."""
    category = _category(left)
    if category != _category(right):
        return False
    if category == "number":
        return to_float(left) == to_float(right)  # type: ignore[arg-type]
    if category in ("string", "boolean"):
        return left == right
    if category in ("null", "undefined"):
        return True
    return left is right


def same_value_zero(left: object, right: object) -> bool:
    """``includes()``'s equality: ``===``, except that NaN equals NaN."""
    if _category(left) == _category(right) == "number":
        a, b = to_float(left), to_float(right)  # type: ignore[arg-type]
        return a == b or (math.isnan(a) and math.isnan(b))
    return strictly_equal(left, right)


def loosely_equal(left: object, right: object) -> bool:
    """``==``: IsLooselyEqual, converting numbers, text, booleans and objects as JavaScript."""
    left_type, right_type = _category(left), _category(right)
    if left_type == right_type:
        return strictly_equal(left, right)
    if is_nullish(left) or is_nullish(right):
        return is_nullish(left) and is_nullish(right)
    if left_type == "boolean":
        return loosely_equal(to_number(left), right)
    if right_type == "boolean":
        return loosely_equal(left, to_number(right))
    if {left_type, right_type} == {"number", "string"}:
        return to_double(left) == to_double(right)
    if left_type in ("object", "function"):
        return loosely_equal(to_primitive(left), right)
    if right_type in ("object", "function"):
        return loosely_equal(left, to_primitive(right))
    return False


def less_than(left: object, right: object) -> bool | None:
    """IsLessThan: None when a side is NaN (every comparison with it is false)."""
    left, right = to_primitive(left, "number"), to_primitive(right, "number")
    if isinstance(left, str) and isinstance(right, str):
        if left.isascii() and right.isascii():
            return left < right
        # JavaScript compares UTF-16 code units; big-endian UTF-16 bytes sort the same way.
        return left.encode("utf-16-be", "surrogatepass") < right.encode(
            "utf-16-be", "surrogatepass"
        )
    a, b = to_double(left), to_double(right)
    if math.isnan(a) or math.isnan(b):
        return None
    return a < b
