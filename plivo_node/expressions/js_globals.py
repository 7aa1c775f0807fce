"""The JavaScript globals (``Math JSON Object String Number Boolean parseInt parseFloat``) and
the helpers the translated code calls for ``?.`` and ``??``.

Values are the same for every item; :data:`CONSTANTS` holds them under their Jinja names.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Final

from plivo_node.errors import ExpressionError
from plivo_node.expressions.members import member
from plivo_node.expressions.values import (
    JsFunction,
    JsObject,
    kind,
    to_number,
    to_text,
    truthy,
    whole,
)


class _Namespace(JsObject):
    """A global such as ``Math`` or ``JSON``: a fixed table of functions."""

    def __init__(self, label: str, functions: Mapping[str, Callable[..., object]]) -> None:
        self.label = label
        self.functions = {name: JsFunction(name, f) for name, f in functions.items()}

    def js_get(self, key: str) -> object:
        found = self.functions.get(key)
        if found is None:
            raise ExpressionError(f"{self.label}.{key} is not available")
        return found


def _math_round(value: object) -> float | int:
    number = to_number(value)
    return math.floor(number + 0.5) if math.isfinite(number) else number


def _math_min_max(
    pick: Callable[[list[float | int]], float | int], empty: float
) -> Callable[..., object]:
    def choose(*values: object) -> object:
        numbers = [to_number(value) for value in values]
        return pick(numbers) if numbers else empty

    return choose


def _json_parse(text: object) -> object:
    try:
        return json.loads(to_text(text))
    except ValueError as exc:
        raise ExpressionError(f"JSON.parse: the text is not valid JSON ({exc.args[0]})") from None


def _parse_int(value: object, radix: object = 10) -> object:
    """The leading whole number of the text, like JavaScript's parseInt ("42px" is 42)."""
    base = whole(radix, "The radix")
    if not 2 <= base <= 36:
        return math.nan
    text = to_text(value).strip()
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    digits = ""
    for char in text:
        if not char.isascii() or not char.isalnum() or int(char, 36) >= base:
            break
        digits += char
    return sign * int(digits, base) if digits else math.nan


def _parse_float(value: object) -> object:
    match = re.match(r"\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)", to_text(value))
    return float(match.group(1)) if match else math.nan


def _object_entries(value: object) -> list[list[object]]:
    if not isinstance(value, Mapping):
        raise ExpressionError(f"Object.keys/values/entries need an object, not {kind(value)}")
    return [[key, item] for key, item in value.items()]


_JS_GLOBALS: Final[dict[str, object]] = {
    "Math": _Namespace(
        "Math",
        {
            "round": _math_round,
            "floor": lambda x: math.floor(to_number(x)),
            "ceil": lambda x: math.ceil(to_number(x)),
            "abs": lambda x: abs(to_number(x)),
            "min": _math_min_max(min, math.inf),
            "max": _math_min_max(max, -math.inf),
        },
    ),
    "JSON": _Namespace(
        "JSON",
        {
            "stringify": lambda value: None if value is None else to_text(value),
            "parse": _json_parse,
        },
    ),
    "Object": _Namespace(
        "Object",
        {
            "keys": lambda value: [key for key, _ in _object_entries(value)],
            "values": lambda value: [item for _, item in _object_entries(value)],
            "entries": _object_entries,
        },
    ),
    "String": JsFunction("String", lambda value=None: to_text(value)),
    "Number": JsFunction("Number", to_number),
    "Boolean": JsFunction("Boolean", truthy),
    "parseInt": JsFunction("parseInt", _parse_int),
    "parseFloat": JsFunction("parseFloat", _parse_float),
}

_NOTHING: Final = JsFunction("?.()", lambda *_args: None)


class _Truth:
    """A value whose JavaScript truthiness differs from Python's ([], {}, NaN), for ``||``/``&&``.

    The translator writes ``a || b`` as ``js_unwrap(js_truth(a) or (b))``: Jinja's ``or`` keeps
    its short circuit and returns an operand, and this wrapper gives it JavaScript's answer.
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


def _unwrap(value: object) -> object:
    return value.value if isinstance(value, _Truth) else value


# JavaScript name -> the Jinja name the translator writes for it.
GLOBAL_NAMES: Final = {name: f"js_{name}" for name in _JS_GLOBALS}

# Jinja name -> its value, the same for every item.
CONSTANTS: Final[dict[str, object]] = {
    **{GLOBAL_NAMES[name]: value for name, value in _JS_GLOBALS.items()},
    "js_opt": JsFunction("?.", lambda target, key: member(target, key, optional=True)),
    # a?.() and calls later in an optional chain: calling a missing function gives null.
    "js_optcall": JsFunction("?.()", lambda function: _NOTHING if function is None else function),
    "js_coalesce": JsFunction("??", lambda left, right: right if left is None else left),
    "js_truth": JsFunction("||", _truth),
    "js_unwrap": JsFunction("||", _unwrap),
}
