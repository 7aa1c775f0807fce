"""Checks for ordinary field values: URLs, ids, names, numbers, dates, country codes.

Each returns the value in the form the wire wants, or raises a :class:`ParameterError` that
names the parameter, says what is wrong and how to fix it. Values are quoted in messages, so
secrets (endpoint passwords) never go through these checks.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import date
from urllib.parse import SplitResult, urlsplit

from plivo_node.core.errors import ParameterError

# [0-9], not \d: \d also matches other scripts' digits, which Plivo does not take.
_DIGITS = re.compile(r"[0-9]+")
_COUNTRY_ISO = re.compile(r"[A-Za-z]{2}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE_NUMBER = re.compile(r"\s*-?[0-9]+\s*")
# Far beyond any count or duration a parameter holds, and below Python's limit on the digits
# int() converts (longer strings raise ValueError there).
_MAX_INT_DIGITS = 100


def text_value(raw: object) -> str:
    """A parameter as stripped text ("" for missing); numbers from expressions become text."""
    if raw is None:
        return ""
    return str(raw).strip()


def require_text(raw: object, *, parameter: str, label: str) -> str:
    text = text_value(raw)
    if not text:
        raise ParameterError(f"{label} is empty", hint=f"set {label}", parameter=parameter)
    return text


def http_url_parts(text: str) -> SplitResult | None:
    """``text`` split into its parts when it is an absolute http(s) URL, else ``None``."""
    try:
        parts = urlsplit(text)
    except ValueError:  # urlsplit raises on a malformed host such as "http://[abc"
        return None
    if (
        parts.scheme.lower() not in {"http", "https"}
        or not parts.netloc
        or any(c.isspace() for c in text)
    ):
        return None
    return parts


def check_http_url(raw: object, *, parameter: str, label: str) -> str:
    """An absolute http(s) URL, as given (stripped)."""
    text = require_text(raw, parameter=parameter, label=label)
    if http_url_parts(text) is None:
        raise ParameterError(
            f"{label} '{text}' is not an http(s) URL",
            hint="use a full URL like https://example.com/answer",
            parameter=parameter,
        )
    return text


def check_numeric_id(raw: object, *, parameter: str, label: str) -> str:
    """A Plivo numeric id (applications, endpoints): digits only."""
    text = require_text(raw, parameter=parameter, label=label)
    if not _DIGITS.fullmatch(text):
        raise ParameterError(
            f"{label} '{text}' is not a valid id: Plivo ids are digits only",
            hint="copy the id from Plivo's answer, e.g. 20468599130939380",
            parameter=parameter,
        )
    return text


def check_country_iso(raw: object, *, parameter: str = "country_iso") -> str:
    """An ISO 3166-1 alpha-2 country code, upper-cased."""
    text = require_text(raw, parameter=parameter, label="Country ISO")
    if not _COUNTRY_ISO.fullmatch(text):
        raise ParameterError(
            f"Country ISO '{text}' is not a two-letter ISO 3166 country code",
            hint="use two letters, like US, GB or IN",
            parameter=parameter,
        )
    return text.upper()


def check_int(
    raw: object,
    *,
    parameter: str,
    label: str,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """A whole number within bounds (a float with no fraction, like 20.0, is accepted)."""
    value = _whole_number(raw)
    if value is None:
        raise ParameterError(f"{label} must be a whole number, got {raw!r}", parameter=parameter)
    if minimum is not None and value < minimum:
        raise ParameterError(
            f"{label} must be at least {minimum}, got {value}", parameter=parameter
        )
    if maximum is not None and value > maximum:
        raise ParameterError(f"{label} must be at most {maximum}, got {value}", parameter=parameter)
    return value


def _whole_number(raw: object) -> int | None:
    if isinstance(raw, bool):  # True is an int to Python, never a count to a user
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    if isinstance(raw, str) and _WHOLE_NUMBER.fullmatch(raw) and len(raw) <= _MAX_INT_DIGITS:
        return int(raw)
    return None


def check_choice(raw: object, *, parameter: str, label: str, choices: Sequence[str]) -> str:
    text = require_text(raw, parameter=parameter, label=label)
    if text not in choices:
        raise ParameterError(
            f"{label} '{text}' is not one of {', '.join(choices)}",
            hint=f"use one of: {', '.join(choices)}",
            parameter=parameter,
        )
    return text


def check_date(raw: object, *, parameter: str, label: str) -> str:
    """A calendar date as ``YYYY-MM-DD``."""
    text = require_text(raw, parameter=parameter, label=label)
    if not _DATE.fullmatch(text) or not _is_calendar_date(text):
        raise ParameterError(
            f"{label} '{text}' is not a date",
            hint="use YYYY-MM-DD, like 2024-03-14",
            parameter=parameter,
        )
    return text


def _is_calendar_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def split_list(raw: object) -> list[str]:
    """A comma-separated string or a list, as trimmed non-empty strings."""
    if raw is None:
        return []
    parts = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return [text for text in (text_value(part) for part in parts) if text]


def check_names(raw: object, *, parameter: str, label: str, choices: Collection[str]) -> list[str]:
    """A list (or comma-separated string) of names, each one of ``choices``, duplicates dropped."""
    names = list(dict.fromkeys(split_list(raw)))
    unknown = [name for name in names if name not in choices]
    if unknown:
        raise ParameterError(
            f"{label} has unknown value(s) {', '.join(repr(name) for name in unknown)}",
            hint=f"use any of: {', '.join(sorted(choices))}",
            parameter=parameter,
        )
    return names


def check_bool(raw: object, *, parameter: str, label: str) -> bool:
    """A boolean; the strings "true"/"false" (any case) count, since expressions yield text."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in {"true", "false"}:
        return raw.strip().lower() == "true"
    raise ParameterError(f"{label} must be true or false, got {raw!r}", parameter=parameter)
