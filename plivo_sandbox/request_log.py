"""The sandbox's request log: the most recent requests, within a count and a size budget.

A sandbox may serve millions of requests, and a client may send megabyte bodies: the log keeps
the newest ``max_entries`` requests whose recorded sizes fit ``max_chars``, dropping the
oldest first, and records each body only up to ``MAX_RECORDED_BODY_CHARS`` (any request Plivo
would accept fits whole). ``total`` still counts every request. Bodies of requests that failed
the credential check are never read, so never recorded.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, overload

JsonDict = dict[str, Any]

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_CHARS = 8_000_000
# A 1,000-destination bulk send with a full text is ~20,000 characters.
MAX_RECORDED_BODY_CHARS = 32_768
# What a field of an oversized body keeps.
MAX_RECORDED_FIELD_CHARS = 1_024

# Body fields never kept in the request log (endpoint passwords, subaccount tokens).
SECRET_FIELDS = frozenset({"password", "auth_token"})
SECRET_MASK = "********"  # noqa: S105 - the mask itself, not a secret


class RecordedRequest(NamedTuple):
    """One request as it arrived: ``path`` is the full path, ``body`` the parsed params."""

    method: str
    path: str
    query: dict[str, str]
    body: JsonDict | None


class RequestLog(Sequence[RecordedRequest]):
    """The newest requests in arrival order; index 0 is the oldest one still held."""

    def __init__(
        self, max_entries: int = DEFAULT_MAX_ENTRIES, max_chars: int = DEFAULT_MAX_CHARS
    ) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self.total = 0
        self._entries: deque[RecordedRequest] = deque()
        self._sizes: deque[int] = deque()
        self._chars = 0

    def record(self, method: str, path: str, query: dict[str, str], body: JsonDict | None) -> int:
        """Log one request; returns its sequence number (see :meth:`by_sequence`)."""
        kept, body_chars = recorded_body(body)
        entry = RecordedRequest(method, path, query, kept)
        size = len(path) + sum(len(key) + len(value) for key, value in query.items()) + body_chars
        self._entries.append(entry)
        self._sizes.append(size)
        self._chars += size
        while len(self._entries) > self.max_entries or (
            self._chars > self.max_chars and len(self._entries) > 1
        ):
            self._entries.popleft()
            self._chars -= self._sizes.popleft()
        self.total += 1
        return self.total - 1

    @property
    def dropped(self) -> int:
        """How many of the oldest requests were let go to stay within the budget."""
        return self.total - len(self._entries)

    def by_sequence(self, sequence: int) -> RecordedRequest | None:
        """The request with that sequence number, or ``None`` once it was dropped."""
        position = sequence - self.dropped
        return self._entries[position] if 0 <= position < len(self._entries) else None

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self._entries)

    @overload
    def __getitem__(self, index: int) -> RecordedRequest: ...

    @overload
    def __getitem__(self, index: slice) -> list[RecordedRequest]: ...

    def __getitem__(self, index: int | slice) -> RecordedRequest | list[RecordedRequest]:
        if isinstance(index, slice):
            return list(self._entries)[index]
        return self._entries[index]


def recorded_body(body: JsonDict | None) -> tuple[JsonDict | None, int]:
    """``body`` as the log keeps it (secrets masked, oversized fields cut) and its size."""
    if body is None:
        return None, 0
    if not SECRET_FIELDS.isdisjoint(body):
        body = {key: SECRET_MASK if key in SECRET_FIELDS else value for key, value in body.items()}
    size = _chars(body)
    if size <= MAX_RECORDED_BODY_CHARS:
        return body, size
    kept: JsonDict = {}
    room = MAX_RECORDED_BODY_CHARS
    for position, (key, value) in enumerate(body.items()):
        if room <= 0:
            kept["…"] = f"{len(body) - position} more fields not recorded"
            break
        shown = _shortened(value)
        kept[key[:MAX_RECORDED_FIELD_CHARS]] = shown
        room -= min(len(key), MAX_RECORDED_FIELD_CHARS) + _chars(shown)
    return kept, MAX_RECORDED_BODY_CHARS - room


def _shortened(value: object) -> object:
    """A field as an oversized body records it: short values whole, long ones cut or summarized."""
    if isinstance(value, str):
        if len(value) <= MAX_RECORDED_FIELD_CHARS:
            return value
        return f"{value[:MAX_RECORDED_FIELD_CHARS]}… [{len(value)} characters in all]"
    size = _chars(value)
    if size <= MAX_RECORDED_FIELD_CHARS:
        return value
    return f"[a {type(value).__name__} of {size} characters, not recorded]"


def _chars(value: object) -> int:
    # Bodies reaching the log parsed within MAX_DEPTH levels, so this cannot recurse too deep.
    return len(json.dumps(value, ensure_ascii=False, default=str))
