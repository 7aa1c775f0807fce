"""JavaScript's operators over expression values, all converting through :mod:`.coercion`.

The translator writes every operator as a call of one of these (``js_op_add(a, b)``), so
Jinja's and Python's own operator rules never apply and nothing is constant-folded with them.
Arithmetic is IEEE double arithmetic, as in JavaScript: ``1 / 0`` is Infinity and ``'a' * 2``
is NaN; a parameter then refuses a non-finite result (see ``json_text.parameter_value``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

from plivo_node.expressions.coercion import (
    implicit_text,
    less_than,
    loosely_equal,
    number_value,
    strictly_equal,
    to_double,
    to_primitive,
    type_of,
)
from plivo_node.expressions.limits import reserve


def add(left: object, right: object) -> object:
    """``+``: text if either side is text after ToPrimitive, else the sum of the numbers."""
    left, right = to_primitive(left), to_primitive(right)
    if isinstance(left, str) or isinstance(right, str):
        left_text, right_text = implicit_text(left), implicit_text(right)
        reserve(chars=len(left_text) + len(right_text))
        return left_text + right_text
    return number_value(to_double(left) + to_double(right))


def subtract(left: object, right: object) -> object:
    return number_value(to_double(left) - to_double(right))


def multiply(left: object, right: object) -> object:
    return number_value(to_double(left) * to_double(right))


def divide(left: object, right: object) -> object:
    dividend, divisor = to_double(left), to_double(right)
    if divisor == 0:
        if dividend == 0 or math.isnan(dividend):
            return math.nan
        return math.copysign(math.inf, dividend) * math.copysign(1, divisor)
    return number_value(dividend / divisor)


def remainder(left: object, right: object) -> object:
    dividend, divisor = to_double(left), to_double(right)
    if divisor == 0 or math.isinf(dividend) or math.isnan(dividend) or math.isnan(divisor):
        return math.nan
    if math.isinf(divisor):
        return number_value(dividend)
    return number_value(math.fmod(dividend, divisor))  # the sign follows the dividend


def _is_odd_integer(number: float) -> bool:
    return math.isfinite(number) and number.is_integer() and number % 2 == 1


def power(left: object, right: object) -> object:
    """``**``, with JavaScript's special cases (1 ** Infinity is NaN, 0 ** -1 is Infinity)."""
    base, exponent = to_double(left), to_double(right)
    if math.isnan(exponent):
        return math.nan
    if exponent == 0:
        return 1
    if math.isnan(base) or (abs(base) == 1 and math.isinf(exponent)):
        return math.nan
    negative = math.copysign(1, base) < 0 and _is_odd_integer(exponent)
    if base == 0 and exponent < 0:
        return -math.inf if negative else math.inf
    try:
        return number_value(math.pow(base, exponent))
    except OverflowError:
        return -math.inf if negative else math.inf
    except ValueError:  # a negative base and a fractional exponent
        return math.nan


def negate(value: object) -> object:
    return number_value(-to_double(value))


def plus(value: object) -> object:
    return number_value(to_double(value))


def greater(left: object, right: object) -> bool:
    return less_than(right, left) is True


def less(left: object, right: object) -> bool:
    return less_than(left, right) is True


def less_or_equal(left: object, right: object) -> bool:
    return less_than(right, left) is False


def greater_or_equal(left: object, right: object) -> bool:
    return less_than(left, right) is False


# The JavaScript operator -> its function; the translator calls them as js_op_<name>.
BINARY: Final[dict[str, tuple[str, Callable[[object, object], object]]]] = {
    "+": ("add", add),
    "-": ("sub", subtract),
    "*": ("mul", multiply),
    "/": ("div", divide),
    "%": ("mod", remainder),
    "**": ("pow", power),
    "===": ("seq", strictly_equal),
    "!==": ("sne", lambda left, right: not strictly_equal(left, right)),
    "==": ("eq", loosely_equal),
    "!=": ("ne", lambda left, right: not loosely_equal(left, right)),
    "<": ("lt", less),
    ">": ("gt", greater),
    "<=": ("le", less_or_equal),
    ">=": ("ge", greater_or_equal),
}
UNARY: Final[dict[str, tuple[str, Callable[[object], object]]]] = {
    "-": ("neg", negate),
    "+": ("pos", plus),
    "typeof": ("typeof", type_of),
}
