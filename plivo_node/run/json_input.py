"""Decoding JSON that comes from outside (input files, the journal) into values the rest of
the runtime can always handle.

Python's ``json`` accepts more than JSON and more than this tool can carry through: ``NaN`` and
``Infinity`` literals (not JSON: JavaScript's ``JSON.parse``, and so n8n, rejects them), numbers
that overflow a float (``1e999`` becomes ``inf``, which no JSON encoder can write back), integers
past Python's 4,300-digit conversion limit (a ``ValueError``), nesting deep enough to exhaust
the interpreter's recursion (a ``RecursionError``), and ``\\ud800`` escapes that decode to lone
surrogates (not Unicode: no UTF-8 encoder, so no request or output file, can carry them).

:func:`decode` refuses every one of those with a :class:`JsonValueError` whose message says what
was found; callers add where (file, line, element). Refusing, rather than converting NaN to
``null`` as ``JSON.stringify`` would, is deliberate: the value feeds messages that are sent,
and a silently changed field is worse than a clear error before anything goes out.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

# Deeper than any contact record or n8n item needs, shallow enough that every later recursive
# walk (expressions, encoders, copies) stays far from the interpreter's recursion limit.
MAX_DEPTH = 100

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonValueError(ValueError):
    """The text is not JSON this tool accepts; the message says why (without a location)."""


def _refuse_constant(name: str) -> Any:
    raise JsonValueError(
        f"{name} is not a JSON value (JSON has no NaN or Infinity); use null or a number"
    )


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        shown = text if len(text) <= 40 else f"{text[:37]}..."
        raise JsonValueError(f"the number {shown} is too large for a floating-point value")
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def raw_decode(text: str, start: int = 0, *, max_depth: int = MAX_DEPTH) -> tuple[Any, int]:
    """Decode one JSON value at ``text[start:]``: ``(value, end)``, checked as :func:`decode`.

    Raises :class:`json.JSONDecodeError` for syntax (the caller may read more text and try
    again) and :class:`JsonValueError` for a value that is well-formed but refused.
    """
    try:
        value, end = _DECODER.raw_decode(text, start)
    except (json.JSONDecodeError, JsonValueError):
        raise  # a syntax error (the caller may read on), or a refusal already worded
    except RecursionError:
        raise _too_deep(max_depth) from None
    except ValueError as exc:  # only the int-string limit raises a plain ValueError here
        limit = sys.get_int_max_str_digits()
        raise JsonValueError(
            f"a number has more than {limit} digits; write it as a string"
        ) from exc
    _check_decoded(value, text, start, end, max_depth)
    return value, end


def decode(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Decode a whole JSON text (surrounding whitespace allowed)."""
    value, end = raw_decode(text, len(text) - len(text.lstrip()), max_depth=max_depth)
    if text[end:].strip():
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def _too_deep(max_depth: int) -> JsonValueError:
    return JsonValueError(f"the value is nested more than {max_depth} levels deep")


def _check_decoded(value: Any, text: str, start: int, end: int, max_depth: int) -> None:
    """The checks the decoder's hooks cannot make, run only when the text could fail them."""
    if text.count("[", start, end) + text.count("{", start, end) > max_depth:
        _check_depth(value, max_depth)
    if _SURROGATE_ESCAPE.search(text, start, end):
        _check_unicode(value)


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    if isinstance(value, list):
        return value
    return []


def _check_depth(value: Any, max_depth: int) -> None:
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict | list):
            if depth > max_depth:
                raise _too_deep(max_depth)
            stack.extend((child, depth + 1) for child in _children(current))


def _check_unicode(value: Any) -> None:
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            try:
                current.encode("utf-8")
            except UnicodeEncodeError as exc:
                code = ord(current[exc.start])
                raise JsonValueError(
                    f"a string holds \\u{code:04x}, half of a surrogate pair with no other "
                    "half: it is not a Unicode character"
                ) from None
        else:
            stack.extend(_children(current))


__all__ = ["MAX_DEPTH", "JsonValueError", "decode", "raw_decode"]
