"""Values and counts in the words error messages and summaries use.

One place, so every message names a value's type the same way: n8n's words for JSON types
("a string", "an array", "an object"), never Python's ("a str", "a dict").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def kind_of(value: object) -> str:
    """A JSON value's type in words, with its article: "a string", "an array", "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return "a value"


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 item``, ``2 items``, ``0 items``."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the known name closest to a misspelt one, else nothing."""
    import difflib  # noqa: PLC0415  (only a misspelt name needs it; --help does not)

    close = difflib.get_close_matches(str(name), sorted(set(known)), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
