"""The suppression list during a run: loaded once, consulted by every send before its request.

The Plivo node's run scope (:attr:`plivo_node.core.node.NodeType.run_scope`) loads every listed
number into a set when the run starts, so a lookup costs one set hit whatever the batch size
(the entry, for the error message, is read only for a number that is on the list).
A run sees a STOP that ``serve`` (or any other process) records meanwhile from its very next
lookup: each lookup stats the database's write-ahead log (a few microseconds), which every
commit changes, and only when it changed asks SQLite whether another connection wrote
(``PRAGMA data_version``) and reloads the list. The log's modification time is coarse (a
clock tick), so two commits within one tick that leave its size unchanged could look like
none: a lookup also asks SQLite itself when a second has passed since it last did.

``sms.send`` and ``mms.send`` call :func:`screen_destinations` before any request: a destination
on the list is dropped, and an item left with none fails with :class:`SuppressedError` (code
``suppressed``), an ordinary error item under the step's onError. Without an open scope (a
handler called outside a run) nothing is screened; with ``settings.suppression: false`` neither.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from contextvars import ContextVar
from typing import Any

from plivo_node.core.errors import ItemError
from plivo_node.core.node import RunScope, RunSettings
from plivo_node.nodes.plivo.suppression import Entry, SuppressionList, connect

# The longest a change the log's state missed goes unseen (see the module's docstring).
RECHECK_SECONDS = 1.0


class SuppressedError(ItemError):
    """Every destination of the item is on the suppression list: nothing was sent."""

    code = "suppressed"

    def __init__(self, entries: Sequence[Entry]) -> None:
        super().__init__(
            "; ".join(entry.describe() for entry in entries) + ": nothing was sent",
            hint="the recipient asked not to be messaged; `plivo-node suppression remove "
            "NUMBER` lifts it if they opted back in, `settings.suppression: false` turns the "
            "list off for transactional messages",
            parameter="to",
        )
        self.entries = tuple(entries)

    def to_dict(self) -> dict[str, Any]:
        """The error object, with each suppressed number's entry for scripts to read."""
        data = super().to_dict()
        data["suppressed"] = [
            {"number": "+" + e.number, "reason": e.reason, "source": e.source, "since": e.since}
            for e in self.entries
        ]
        return data


class RunSuppression:
    """The list as one run sees it, and what it kept from being sent."""

    def __init__(
        self,
        store: SuppressionList | None,
        *,
        dry_run: bool = False,
    ) -> None:
        self._store = store
        self._dry_run = dry_run
        self._log_state = store.log_state() if store is not None else None
        self._checked = time.monotonic()
        self._numbers = store.numbers() if store is not None else frozenset()
        self._version = store.version() if store is not None else 0
        self.suppressed_items = 0  # items that became `suppressed` error items
        self.dropped = 0  # destinations dropped from items that still went out

    def entry(self, number: str) -> Entry | None:
        store = self._store
        if store is not None and (
            store.log_state() != self._log_state
            or time.monotonic() - self._checked >= RECHECK_SECONDS
        ):
            self._refresh(store)
        if number not in self._numbers or self._store is None:
            return None
        # A hit: read its entry for the error message (None if lifted a moment ago).
        return self._store.get(number)

    def _refresh(self, store: SuppressionList) -> None:
        self._log_state = store.log_state()
        self._checked = time.monotonic()
        version = store.version()
        if version != self._version:
            self._version = version
            self._numbers = store.numbers()

    def lines(self) -> list[str]:
        if self._store is None or not (self.suppressed_items or self.dropped):
            return []
        verb = "would skip" if self._dry_run else "skipped"
        parts = []
        if self.suppressed_items:
            parts.append(f"{self.suppressed_items} items")
        if self.dropped:
            parts.append(f"{self.dropped} destinations of items sent to others")
        listed = len(self._numbers)
        return [f"suppression list: {verb} {' and '.join(parts)} ({listed} numbers opted out)"]


_ACTIVE: ContextVar[RunSuppression | None] = ContextVar("plivo_suppression", default=None)


@contextmanager
def suppression_scope(settings: RunSettings) -> Iterator[RunScope]:
    """The Plivo node's run scope: the list loaded for this run, or none when switched off."""
    if not settings.suppression:
        scope = RunSuppression(None)
        token = _ACTIVE.set(scope)
        try:
            yield scope
        finally:
            _ACTIVE.reset(token)
        return
    with closing(connect()) as connection:
        scope = RunSuppression(SuppressionList(connection), dry_run=settings.dry_run)
        token = _ACTIVE.set(scope)
        try:
            yield scope
        finally:
            _ACTIVE.reset(token)


def screen_destinations(destinations: Sequence[str]) -> tuple[list[str], list[Entry]]:
    """The destinations to send to and the suppressed ones left out; raises SuppressedError
    when none is left."""
    scope = _ACTIVE.get()
    if scope is None:
        return list(destinations), []
    kept: list[str] = []
    skipped: list[Entry] = []
    for destination in destinations:
        entry = scope.entry(destination)
        if entry is None:
            kept.append(destination)
        else:
            skipped.append(entry)
    if not skipped:
        return kept, skipped
    if not kept:
        scope.suppressed_items += 1
        raise SuppressedError(skipped)
    scope.dropped += len(skipped)
    return kept, skipped
