"""The arithmetic operators with JavaScript's rules; the sandbox routes ``+ - * / % **`` here."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

from plivo_node.errors import ExpressionError
from plivo_node.expressions.limits import (
    MAX_NUMBER_BITS,
    NUMBER_TOO_LARGE,
    check_int,
    check_text_size,
)
from plivo_node.expressions.values import is_number, kind, to_text


def _add(left: object, right: object) -> object:
    if isinstance(left, str) or isinstance(right, str):
        left_text, right_text = to_text(left), to_text(right)
        check_text_size(len(left_text) + len(right_text))
        return left_text + right_text
    if is_number(left) and is_number(right):
        return check_int(left + right)  # type: ignore[operator]
    raise ExpressionError(
        f"Cannot add {kind(left)} and {kind(right)}",
        hint="'+' adds numbers or joins text; a null usually means a field is missing",
    )


def _numbers_only(operator: str, left: object, right: object) -> None:
    if not (is_number(left) and is_number(right)):
        hint = "to repeat text use .repeat(n)" if operator == "*" else None
        raise ExpressionError(
            f"'{operator}' works on numbers, not on {kind(left)} and {kind(right)}", hint=hint
        )


def _subtract(left: Any, right: Any) -> object:
    _numbers_only("-", left, right)
    return check_int(left - right)


def _multiply(left: Any, right: Any) -> object:
    _numbers_only("*", left, right)
    return check_int(left * right)


def _divide(left: Any, right: Any) -> object:
    _numbers_only("/", left, right)
    if right == 0:
        raise ExpressionError("Division by zero")
    return left / right


def _remainder(left: Any, right: Any) -> object:
    _numbers_only("%", left, right)
    if right == 0:
        raise ExpressionError("Remainder of a division by zero")
    if isinstance(left, int) and isinstance(right, int):
        magnitude = abs(left) % abs(right)  # JavaScript's sign follows the dividend
        return -magnitude if left < 0 else magnitude
    return math.fmod(left, right)


def _power(base: Any, exponent: Any) -> object:
    _numbers_only("**", base, exponent)
    whole = isinstance(base, int) and isinstance(exponent, int)
    # Refuse before computing: 10 ** 10 ** 9 would otherwise take minutes and gigabytes.
    if whole and exponent > 0 and (abs(base).bit_length() - 1) * exponent > MAX_NUMBER_BITS:
        raise ExpressionError(NUMBER_TOO_LARGE)
    try:
        return check_int(base**exponent)
    except OverflowError:
        raise ExpressionError("The number is too large") from None


BINARY_OPERATORS: Final[dict[str, Callable[[Any, Any], object]]] = {
    "+": _add,
    "-": _subtract,
    "*": _multiply,
    "/": _divide,
    "%": _remainder,
    "**": _power,
}
