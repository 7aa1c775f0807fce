"""Plivo's rules for phone numbers in requests: stripping, ``<`` bulk lists, validity."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BULK_DESTINATIONS = 1000

# Plivo strips these from destinations before anything else.
_STRIP_TABLE = str.maketrans("", "", "/-.+() \t")
# Country code first, at most 14 characters in all (no leading zero).
_VALID_NUMBER = re.compile(r"[1-9][0-9]{7,13}")
_SIP_URI = re.compile(r"sip:[^\s<@]+@[^\s<@]+")


def normalize_number(raw: str) -> str:
    """``raw`` without Plivo's separators: ``+1 (415) 555-0100`` → ``14155550100``."""
    return raw.translate(_STRIP_TABLE)


def is_valid_number(number: str) -> bool:
    """Whether a normalized number has Plivo's shape: country code and digits, ≤ 14 chars."""
    return _VALID_NUMBER.fullmatch(number) is not None


def is_sip_uri(value: str) -> bool:
    return _SIP_URI.fullmatch(value.strip()) is not None


def destination_key(raw: str) -> str:
    """The key a destination is counted under: a SIP URI as given, else the normalized number."""
    stripped = raw.strip()
    return stripped if stripped.startswith("sip:") else normalize_number(stripped)


@dataclass(frozen=True)
class Destinations:
    """A ``<``-joined destination list split into valid unique entries and invalid ones."""

    valid: list[str]
    invalid: list[str]
    bulk: bool


def split_destinations(raw: str, *, allow_sip: bool) -> Destinations:
    """Split ``raw`` on ``<``; normalize, drop duplicates (first wins), set invalid ones apart."""
    valid: list[str] = []
    invalid: list[str] = []
    seen: set[str] = set()
    parts = raw.split("<")
    for part in parts:
        entry = part.strip()
        if allow_sip and entry.startswith("sip:"):
            key, ok = entry, is_sip_uri(entry)
        else:
            key = normalize_number(entry)
            ok = is_valid_number(key)
        if not ok:
            invalid.append(part)
        elif key not in seen:
            seen.add(key)
            valid.append(key)
    return Destinations(valid=valid, invalid=invalid, bulk=len(parts) > 1)
