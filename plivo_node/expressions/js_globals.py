"""The JavaScript globals (``Math JSON Object String Number Boolean parseInt parseFloat isNaN
isFinite NaN Infinity undefined``), the operators, and the helpers the translated code calls for
``?.``, ``??``, ``||`` and ``&&``.

Values are the same for every item; :data:`CONSTANTS` holds them under their Jinja names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Final

from plivo_node.core.errors import ExpressionError
from plivo_node.expressions import json_text, operators
from plivo_node.expressions.coercion import (
    JS_WHITESPACE,
    is_nullish,
    number_value,
    to_double,
    to_float,
    to_string,
    truthy,
    whole,
)
from plivo_node.expressions.limits import reserve
from plivo_node.expressions.members import member
from plivo_node.expressions.values import UNDEFINED, JsFunction, JsObject, kind


class _Namespace(JsObject):
    """A global such as ``Math`` or ``JSON``: a fixed table of functions and constants."""

    def __init__(
        self,
        label: str,
        functions: Mapping[str, Callable[..., object]],
        constants: Mapping[str, object] | None = None,
    ) -> None:
        self.label = label
        self.members: dict[str, object] = {
            name: JsFunction(f"{label}.{name}", f) for name, f in functions.items()
        }
        self.members.update(constants or {})

    def js_get(self, key: str) -> object:
        if key not in self.members:
            raise ExpressionError(f"{self.label}.{key} is not available")
        return self.members[key]


# --- Math --------------------------------------------------------------------------------------


def _whole_part(function: Callable[[float], int]) -> Callable[[object], object]:
    """Math.floor/ceil/trunc/round: NaN and infinities pass, a zero keeps the input's sign."""

    def apply(value: object = UNDEFINED) -> object:
        number = to_double(value)
        if not math.isfinite(number) or number == 0:
            return number_value(number)
        result = function(number)
        return -0.0 if result == 0 and number < 0 else number_value(float(result))

    return apply


def _round_half_up(number: float) -> int:
    """Math.round: the nearest integer, halves toward +Infinity (exact: no number + 0.5)."""
    low = math.floor(number)
    return low + 1 if number - low >= 0.5 else low


def _extreme(*, largest: bool) -> Callable[..., object]:
    """Math.max/min: NaN if any argument is NaN; +0 is larger than -0."""

    def choose(*values: object) -> object:
        best = -math.inf if largest else math.inf
        for value in values:
            number = to_double(value)
            if math.isnan(number):
                return math.nan
            key = (number, math.copysign(1, number))
            best_key = (best, math.copysign(1, best))
            if (key > best_key) if largest else (key < best_key):
                best = number
        return number_value(best)

    return choose


def _sqrt(value: object = UNDEFINED) -> object:
    number = to_double(value)
    return math.nan if number < 0 or math.isnan(number) else number_value(math.sqrt(number))


def _sign(value: object = UNDEFINED) -> object:
    number = to_double(value)
    if math.isnan(number) or number == 0:
        return number_value(number)
    return 1 if number > 0 else -1


_MATH: Final = _Namespace(
    "Math",
    {
        "round": _whole_part(_round_half_up),
        "floor": _whole_part(math.floor),
        "ceil": _whole_part(math.ceil),
        "trunc": _whole_part(math.trunc),
        "abs": lambda value=UNDEFINED: number_value(abs(to_double(value))),
        "sign": _sign,
        "sqrt": _sqrt,
        "pow": lambda base=UNDEFINED, exponent=UNDEFINED: operators.power(base, exponent),
        "min": _extreme(largest=False),
        "max": _extreme(largest=True),
    },
    {"PI": math.pi, "E": math.e},
)

# --- parsing numbers from text -----------------------------------------------------------------

_FLOAT_PREFIX: Final = re.compile(
    r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
)
_BITS_OF_THE_LARGEST_DOUBLE: Final = 1025


_ALPHANUMERIC: Final = re.compile(r"[0-9a-zA-Z]*")


def _leading_digits(text: str, radix: int) -> str:
    run = _ALPHANUMERIC.match(text).group()  # type: ignore[union-attr]  # always matches
    for end, char in enumerate(run):
        if int(char, 36) >= radix:
            return run[:end]
    return run


def parse_int(value: object = UNDEFINED, radix: object = UNDEFINED) -> object:
    """parseInt: the leading integer of the text, in base 2-36 (0x means 16), else NaN.

    Any number of digits is read without Python's int-from-text digit limit: base 10 goes
    through float(), which rounds correctly, and other bases are Infinity past the double range.
    """
    text = to_string(value).lstrip(JS_WHITESPACE)
    sign = -1.0 if text.startswith("-") else 1.0
    if text[:1] in ("+", "-"):
        text = text[1:]
    base = whole(radix) % 2**32
    if base != 0 and not 2 <= base <= 36:
        return math.nan
    if base in (0, 16) and text[:2] in ("0x", "0X"):
        text, base = text[2:], 16
    digits = _leading_digits(text, base or 10).lstrip("0") or ("0" if text[:1] == "0" else "")
    if not digits:
        return math.nan
    if base in (0, 10):
        number = float(digits)
    elif (len(digits) - 1) * math.log2(base) > _BITS_OF_THE_LARGEST_DOUBLE:
        number = math.inf
    else:
        number = to_float(int(digits, base))
    return number_value(sign * number)


def parse_float(value: object = UNDEFINED) -> object:
    """parseFloat: the longest leading decimal number of the text ("1.5e3x" is 1500), else NaN."""
    match = _FLOAT_PREFIX.match(to_string(value).lstrip(JS_WHITESPACE))
    if match is None:
        return math.nan
    return number_value(float(match.group().replace("Infinity", "inf")))


# --- Object, Number, String, Boolean -----------------------------------------------------------


def _object_entries(value: object) -> list[list[object]]:
    if not isinstance(value, Mapping):
        raise ExpressionError(f"Object.keys/values/entries need an object, not {kind(value)}")
    reserve(items=len(value) * 3)
    return [[key, item] for key, item in value.items()]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: object) -> bool:
    number = to_double(value)
    return _is_number(value) and math.isfinite(number) and number.is_integer()


def _first(args: tuple[object, ...], default: object) -> object:
    return args[0] if args else default


_NUMBER: Final = JsFunction(
    "Number",
    lambda *args: number_value(to_double(_first(args, 0))),
    properties={
        "isInteger": JsFunction("Number.isInteger", _is_integer),
        "isSafeInteger": JsFunction(
            "Number.isSafeInteger",
            lambda value: _is_integer(value) and abs(value) <= 2**53 - 1,
        ),
        "isFinite": JsFunction(
            "Number.isFinite",
            lambda value: _is_number(value) and math.isfinite(to_float(value)),
        ),
        "isNaN": JsFunction(
            "Number.isNaN",
            lambda value: isinstance(value, float) and math.isnan(value),
        ),
        "parseInt": JsFunction("Number.parseInt", parse_int),
        "parseFloat": JsFunction("Number.parseFloat", parse_float),
        "MAX_SAFE_INTEGER": 2**53 - 1,
        "MIN_SAFE_INTEGER": -(2**53 - 1),
    },
)

_JS_GLOBALS: Final[dict[str, object]] = {
    "Math": _MATH,
    "JSON": _Namespace("JSON", {"stringify": json_text.stringify, "parse": json_text.parse}),
    "Object": _Namespace(
        "Object",
        {
            "keys": lambda value: [key for key, _ in _object_entries(value)],
            "values": lambda value: [item for _, item in _object_entries(value)],
            "entries": _object_entries,
        },
    ),
    "String": JsFunction("String", lambda *args: to_string(_first(args, ""))),
    "Number": _NUMBER,
    "Boolean": JsFunction("Boolean", lambda *args: truthy(_first(args, UNDEFINED))),
    "parseInt": JsFunction("parseInt", parse_int),
    "parseFloat": JsFunction("parseFloat", parse_float),
    "isNaN": JsFunction("isNaN", lambda value=UNDEFINED: math.isnan(to_double(value))),
    "isFinite": JsFunction("isFinite", lambda value=UNDEFINED: math.isfinite(to_double(value))),
    "NaN": math.nan,
    "Infinity": math.inf,
    "undefined": UNDEFINED,
}


class _Operator(JsFunction):
    """An operator the translator calls with its operands: no arity check, no result check
    (its builders reserve their own sizes), as it runs for every operator of every item."""

    __slots__ = ()

    def __call__(self, *args: object) -> object:
        return self.function(*args)


_NOTHING: Final = JsFunction("?.()", lambda *_args: UNDEFINED)


class _Truth:
    """A value whose JavaScript truthiness differs from Python's ([], {}, NaN), for ``||``/``&&``.

    The translator writes ``a || b`` as ``js_unwrap(js_truth(a) or (b))``: Jinja's ``or`` keeps
    its short circuit and returns an operand, and this wrapper gives it JavaScript's answer.
    ``a ?? b`` is ``js_unwrap(js_present(a) or (b))`` the same way.
    """

    __slots__ = ("is_truthy", "value")

    def __init__(self, value: object, *, is_truthy: bool) -> None:
        self.value = value
        self.is_truthy = is_truthy

    def __bool__(self) -> bool:
        return self.is_truthy


def _truth(value: object) -> object:
    is_truthy = truthy(value)
    return value if bool(value) == is_truthy else _Truth(value, is_truthy=is_truthy)


def _present(value: object) -> object:
    return _Truth(value, is_truthy=not is_nullish(value))


def _unwrap(value: object) -> object:
    return value.value if isinstance(value, _Truth) else value


# JavaScript name -> the Jinja name the translator writes for it.
GLOBAL_NAMES: Final = {name: f"js_{name}" for name in _JS_GLOBALS}

# Jinja name -> its value, the same for every item.
CONSTANTS: Final[dict[str, object]] = {
    **{GLOBAL_NAMES[name]: value for name, value in _JS_GLOBALS.items()},
    **{
        f"js_op_{name}": _Operator(symbol, function)
        for table in (operators.BINARY, operators.UNARY)
        for symbol, (name, function) in table.items()
    },
    "js_opt": JsFunction("?.", lambda target, key: member(target, key, optional=True)),
    # a?.() and calls later in an optional chain: calling a missing function gives undefined.
    "js_optcall": JsFunction(
        "?.()", lambda function: _NOTHING if is_nullish(function) else function
    ),
    "js_present": JsFunction("??", _present),
    "js_truth": JsFunction("||", _truth),
    "js_unwrap": JsFunction("||", _unwrap),
}
