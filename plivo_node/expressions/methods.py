"""The JavaScript methods of strings, arrays and numbers, e.g. ``'a'.toUpperCase()``.

Each table maps a method name to a function taking the receiver first; the member lookup wraps
the pair in a :class:`~plivo_node.expressions.values.JsFunction`. Arguments convert as in
JavaScript (a missing one is ``undefined``), and every method that builds text or an array
reserves its size (:func:`~plivo_node.expressions.limits.reserve`) before building it.

Strings are sequences of Unicode characters here, where JavaScript counts UTF-16 code units:
the two differ only for characters outside the Basic Multilingual Plane (most emoji).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Final

from plivo_node.core.errors import ExpressionError
from plivo_node.expressions.coercion import (
    JS_WHITESPACE,
    array_to_string,
    implicit_text,
    number_to_string,
    refuse_non_finite,
    same_value_zero,
    strictly_equal,
    to_double,
    to_float,
    to_string,
    whole,
)
from plivo_node.expressions.limits import reserve
from plivo_node.expressions.values import UNDEFINED

_U = UNDEFINED  # a missing argument


def _relative(position: object, length: int, default: int) -> int:
    """A slice()/at() position: negative counts from the end, clamped to [0, length]."""
    if position is UNDEFINED:
        return default
    index = whole(position)
    return max(length + index, 0) if index < 0 else min(index, length)


def _clamped(position: object, length: int, default: int) -> int:
    """A substring()/indexOf() position: clamped to [0, length]."""
    return default if position is UNDEFINED else min(max(whole(position), 0), length)


def _uint32(value: object) -> int:
    number = to_double(value)
    return int(number) % 2**32 if math.isfinite(number) else 0


# --- strings -----------------------------------------------------------------------------------


def _split(text: str, separator: object = _U, limit: object = _U) -> list[str]:
    most = 2**32 - 1 if limit is UNDEFINED else _uint32(limit)
    if most == 0:
        return []
    if separator is UNDEFINED:
        return [text]
    glue = to_string(separator)
    count = min(len(text) if glue == "" else text.count(glue) + 1, most)
    reserve(chars=len(text), items=count)
    if glue == "":
        return list(text[:count])
    return text.split(glue, count)[:count]


_SUBSTITUTION: Final = re.compile(r"\$([$&`'])")


def _substitute(text: str, search: str, replacement: str, positions: Sequence[int]) -> str:
    """``text`` with ``search`` at each position replaced, ``$$ $& $` $'`` read as JavaScript
    does; the result's size is reserved before it is built (``$``` alone can be quadratic)."""
    pieces = _SUBSTITUTION.split(replacement)  # literal, code, literal, code, ..., literal
    codes = pieces[1::2]
    literal = sum(len(piece) for piece in pieces[::2]) + codes.count("$")
    befores, afters = codes.count("`"), codes.count("'")
    size = len(text) + len(positions) * (literal + (codes.count("&") - 1) * len(search))
    size += befores * sum(positions)
    size += afters * sum(len(text) - position - len(search) for position in positions)
    reserve(chars=size)
    out: list[str] = []
    previous = 0
    for position in positions:
        out.append(text[previous:position])
        end = position + len(search)
        for index, piece in enumerate(pieces):
            if index % 2 == 0:
                out.append(piece)
            elif piece in "$&":
                out.append(search if piece == "&" else "$")
            else:
                out.append(text[:position] if piece == "`" else text[end:])
        previous = end
    out.append(text[previous:])
    return "".join(out)


def _replace(text: str, search: object = _U, replacement: object = _U) -> str:
    needle = to_string(search)
    position = text.find(needle)
    if position == -1:
        return text
    return _substitute(text, needle, to_string(replacement), [position])


def _replace_all(text: str, search: object = _U, replacement: object = _U) -> str:
    needle = to_string(search)
    if needle == "":
        positions = list(range(len(text) + 1))
    else:
        positions = []
        position = text.find(needle)
        while position != -1:
            positions.append(position)
            position = text.find(needle, position + len(needle))
    return _substitute(text, needle, to_string(replacement), positions) if positions else text


def _repeat(text: str, count: object = _U) -> str:
    times = to_double(count)
    if times < 0 or math.isinf(times):
        raise ExpressionError(f"repeat() needs a count from 0 up, not {number_to_string(times)}")
    times = 0 if math.isnan(times) else int(times)
    reserve(chars=len(text) * times)
    return text * times


def _pad(text: str, length: object, filler: object, *, at_start: bool) -> str:
    target = whole(length)
    fill = " " if filler is UNDEFINED else to_string(filler)
    if target <= len(text) or not fill:
        return text
    reserve(chars=target)
    padding = (fill * ((target - len(text)) // len(fill) + 1))[: target - len(text)]
    return padding + text if at_start else text + padding


def _substr(text: str, start: object = _U, length: object = _U) -> str:
    begin = _relative(start, len(text), 0)
    count = len(text) - begin if length is UNDEFINED else min(max(whole(length), 0), len(text))
    return text[begin : begin + count]


def _substring(text: str, start: object = _U, end: object = _U) -> str:
    low, high = _clamped(start, len(text), 0), _clamped(end, len(text), len(text))
    return text[min(low, high) : max(low, high)]


def _last_index_of(text: str, search: object = _U, position: object = _U) -> int:
    needle = to_string(search)
    number = to_double(position)
    start = len(text) if math.isnan(number) else min(max(whole(number), 0), len(text))
    return text.rfind(needle, 0, start + len(needle))


def _char_at(text: str, position: object = _U) -> str:
    index = whole(position)
    return text[index] if 0 <= index < len(text) else ""


def _char_code_at(text: str, position: object = _U) -> object:
    index = whole(position)
    return ord(text[index]) if 0 <= index < len(text) else math.nan


def _at(container: str | Sequence[object], position: object = _U) -> object:
    index = whole(position)
    if -len(container) <= index < len(container):
        return container[index]
    return UNDEFINED


def _concat_text(text: str, *more: object) -> str:
    texts = [text, *(implicit_text(part) for part in more)]
    reserve(chars=sum(map(len, texts)))
    return "".join(texts)


def _trim(characters: Callable[[str, str], str]) -> Callable[[str], str]:
    return lambda text: characters(text, JS_WHITESPACE)


STRING_METHODS: Final[dict[str, Callable[..., object]]] = {
    "toUpperCase": str.upper,
    "toLowerCase": str.lower,
    "trim": _trim(str.strip),
    "trimStart": _trim(str.lstrip),
    "trimEnd": _trim(str.rstrip),
    "split": _split,
    "includes": lambda text, search=_U, position=_U: (
        text.find(to_string(search), _clamped(position, len(text), 0)) != -1
    ),
    "startsWith": lambda text, search=_U, position=_U: text.startswith(
        to_string(search), _clamped(position, len(text), 0)
    ),
    "endsWith": lambda text, search=_U, end=_U: text.endswith(
        to_string(search), 0, _clamped(end, len(text), len(text))
    ),
    "replace": _replace,
    "replaceAll": _replace_all,
    "indexOf": lambda text, search=_U, position=_U: text.find(
        to_string(search), _clamped(position, len(text), 0)
    ),
    "lastIndexOf": _last_index_of,
    "slice": lambda text, start=_U, end=_U: text[
        _relative(start, len(text), 0) : _relative(end, len(text), len(text))
    ],
    "substring": _substring,
    "substr": _substr,
    "charAt": _char_at,
    "charCodeAt": _char_code_at,
    "at": _at,
    "padStart": lambda text, length=_U, filler=_U: _pad(text, length, filler, at_start=True),
    "padEnd": lambda text, length=_U, filler=_U: _pad(text, length, filler, at_start=False),
    "repeat": _repeat,
    "concat": _concat_text,
    "toString": lambda text: text,
    "valueOf": lambda text: text,
}

# --- arrays ------------------------------------------------------------------------------------


def _join(items: Sequence[object], separator: object = _U) -> str:
    return array_to_string(list(items), "," if separator is UNDEFINED else to_string(separator))


def _slice(items: Sequence[object], start: object = _U, end: object = _U) -> list[object]:
    low, high = _relative(start, len(items), 0), _relative(end, len(items), len(items))
    reserve(items=max(high - low, 0))
    return list(items[low:high])


def _concat_items(items: Sequence[object], *more: object) -> list[object]:
    sizes = [len(part) if isinstance(part, list | tuple) else 1 for part in more]
    reserve(items=len(items) + sum(sizes))
    out = list(items)
    for part in more:
        if isinstance(part, list | tuple):
            out.extend(part)
        else:
            out.append(part)
    return out


def _find(
    items: Sequence[object],
    search: object,
    start: object,
    equal: Callable[[object, object], bool],
) -> int:
    for index in range(_relative(start, len(items), 0), len(items)):
        if equal(items[index], search):
            return index
    return -1


def _last_index_of_item(items: Sequence[object], search: object = _U, start: object = _U) -> int:
    last = len(items) - 1 if start is UNDEFINED else whole(start)
    last = min(last, len(items) - 1) if last >= 0 else len(items) + last
    for index in range(last, -1, -1):
        if strictly_equal(items[index], search):
            return index
    return -1


ARRAY_METHODS: Final[dict[str, Callable[..., object]]] = {
    "includes": lambda items, search=_U, start=_U: (
        _find(items, search, start, same_value_zero) != -1
    ),
    "indexOf": lambda items, search=_U, start=_U: _find(items, search, start, strictly_equal),
    "lastIndexOf": _last_index_of_item,
    "join": _join,
    "slice": _slice,
    "at": _at,
    "first": lambda items: items[0] if items else UNDEFINED,  # n8n's extensions
    "last": lambda items: items[-1] if items else UNDEFINED,
    "concat": _concat_items,
    "toString": _join,
}

# --- numbers -----------------------------------------------------------------------------------

_EXACT: Final = Context(prec=200)  # toFixed needs at most 21 + 100 digits


def _to_fixed(number: float, digits: object = _U) -> str:
    """toFixed: the double's exact value rounded half up ((2.5).toFixed(0) is "3", while
    (1.005).toFixed(2) is "1.00" because 1.005 is stored as 1.00499999999999989...)."""
    places = whole(digits)
    if not 0 <= places <= 100:
        raise ExpressionError("toFixed() takes 0 to 100 digits")
    value = to_float(number)
    refuse_non_finite(value)  # JavaScript gives the text "NaN": never what a message means
    if abs(value) >= 1e21:
        return number_to_string(value)
    exact = Decimal(value if value != 0 else 0)
    rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_EXACT)
    return format(rounded, "f")


_RADIX_DIGITS: Final = "0123456789abcdefghijklmnopqrstuvwxyz"


def _number_to_string(number: float, radix: object = _U) -> str:
    base = 10 if radix is UNDEFINED else whole(radix)
    if not 2 <= base <= 36:
        raise ExpressionError("toString() takes a radix from 2 to 36")
    value = to_float(number)
    if base == 10 or not math.isfinite(value):
        return to_string(number)
    if not value.is_integer():
        raise ExpressionError("toString(radix) of a number with a fraction is not supported")
    magnitude, digits = abs(int(value)), []
    while True:
        magnitude, digit = divmod(magnitude, base)
        digits.append(_RADIX_DIGITS[digit])
        if magnitude == 0:
            break
    return ("-" if value < 0 else "") + "".join(reversed(digits))


NUMBER_METHODS: Final[dict[str, Callable[..., object]]] = {
    "toFixed": _to_fixed,
    "toString": _number_to_string,
    "valueOf": lambda number: number,
}
