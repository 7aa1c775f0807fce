"""The JavaScript methods of strings, arrays and numbers, e.g. ``'a'.toUpperCase()``.

Each table maps a method name to a function taking the receiver first; the member lookup wraps
the pair in a :class:`~plivo_node.expressions.values.JsFunction`. Methods that could build huge
text check its size before building it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from plivo_node.errors import ExpressionError
from plivo_node.expressions.limits import check_text_size
from plivo_node.expressions.values import to_text, whole


def _slice_bounds(length: int, start: object, end: object) -> tuple[int, int]:
    """``slice()``'s bounds: negative positions count from the end."""

    def clamp(position: object, default: int) -> int:
        if position is None:
            return default
        index = whole(position, "An index")
        if index < 0:
            return max(length + index, 0)
        return min(index, length)

    return clamp(start, 0), clamp(end, length)


def _substring(text: str, start: object, end: object = None) -> str:
    """``substring()``: negative positions are 0 and the bounds may come in either order."""
    length = len(text)

    def clamp(position: object, default: int) -> int:
        return default if position is None else min(max(whole(position, "An index"), 0), length)

    low, high = clamp(start, 0), clamp(end, length)
    return text[min(low, high) : max(low, high)]


def _split(text: str, separator: object = None, limit: object = None) -> list[str]:
    if separator is None:
        parts = [text]
    elif separator == "":
        parts = list(text)
    else:
        parts = text.split(to_text(separator))
    return parts if limit is None else parts[: max(whole(limit, "The limit"), 0)]


def _replace_all(text: str, old: object, new: object) -> str:
    old_text, new_text = to_text(old), to_text(new)
    if old_text:
        check_text_size(len(text) + text.count(old_text) * (len(new_text) - len(old_text)))
    else:
        check_text_size(len(text) + (len(text) + 1) * len(new_text))
    return text.replace(old_text, new_text)


def _repeat(text: str, count: object) -> str:
    times = whole(count, "The repeat count")
    if times < 0:
        raise ExpressionError("The repeat count must not be negative")
    check_text_size(len(text) * times)
    return text * times


def _pad(text: str, length: object, filler: object, *, at_start: bool) -> str:
    target = whole(length, "The length")
    fill = " " if filler is None else to_text(filler)
    if target <= len(text) or not fill:
        return text
    check_text_size(target)
    padding = (fill * (target // len(fill) + 1))[: target - len(text)]
    return padding + text if at_start else text + padding


def _index_of(container: str | Sequence[object], needle: object) -> int:
    if isinstance(container, str):
        return container.find(to_text(needle))
    for position, item in enumerate(container):
        if item == needle:
            return position
    return -1


def _at(container: str | Sequence[object], position: object) -> object:
    index = whole(position, "The index")
    if -len(container) <= index < len(container):
        return container[index]
    return None


def _join(items: Sequence[object], separator: object = ",") -> str:
    texts = [to_text(item) for item in items]
    glue = to_text(separator)
    check_text_size(sum(map(len, texts)) + len(glue) * len(texts))
    return glue.join(texts)


def _to_fixed(number: float, digits: object = 0) -> str:
    places = whole(digits, "The number of digits")
    if not 0 <= places <= 100:
        raise ExpressionError("toFixed() takes 0 to 100 digits")
    return f"{number:.{places}f}"


STRING_METHODS: Final[dict[str, Callable[..., object]]] = {
    "toUpperCase": str.upper,
    "toLowerCase": str.lower,
    "trim": str.strip,
    "trimStart": str.lstrip,
    "trimEnd": str.rstrip,
    "split": _split,
    "includes": lambda text, needle: to_text(needle) in text,
    "startsWith": lambda text, prefix: text.startswith(to_text(prefix)),
    "endsWith": lambda text, suffix: text.endswith(to_text(suffix)),
    "replace": lambda text, old, new: text.replace(to_text(old), to_text(new), 1),
    "replaceAll": _replace_all,
    "indexOf": _index_of,
    "slice": lambda text, start=None, end=None: text[slice(*_slice_bounds(len(text), start, end))],
    "substring": _substring,
    "charAt": lambda text, position=0: _at(text, position) if whole(position, "") >= 0 else "",
    "at": _at,
    "padStart": lambda text, length, filler=None: _pad(text, length, filler, at_start=True),
    "padEnd": lambda text, length, filler=None: _pad(text, length, filler, at_start=False),
    "repeat": _repeat,
    "concat": lambda text, *more: _join([text, *more], ""),
    "toString": lambda text: text,
}

ARRAY_METHODS: Final[dict[str, Callable[..., object]]] = {
    "includes": lambda items, needle: needle in items,
    "indexOf": _index_of,
    "join": _join,
    "slice": lambda items, start=None, end=None: list(
        items[slice(*_slice_bounds(len(items), start, end))]
    ),
    "at": _at,
    "first": lambda items: items[0] if items else None,
    "last": lambda items: items[-1] if items else None,
    "concat": lambda items, *more: [
        *items,
        *(x for part in more for x in (part if isinstance(part, list | tuple) else [part])),
    ],
    "toString": _join,
}

NUMBER_METHODS: Final[dict[str, Callable[..., object]]] = {
    "toFixed": _to_fixed,
    "toString": to_text,
}
