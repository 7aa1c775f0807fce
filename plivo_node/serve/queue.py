"""The durable event queue: a webhook request is acknowledged only once it is committed here.

One SQLite file in the state directory (``serve/queue.sqlite``) holds, per webhook:

- ``event``: every accepted event, ``queued`` until its run has finished, then ``done``. The
  ``(webhook, dedupe)`` pair is unique, so a callback the service retried is stored once and
  runs once. Queued events survive a crash: ``serve`` runs them when it starts again.
- ``nonce``: the replay keys (signature nonces) of accepted requests, so a captured request
  sent again is refused, across restarts too.

Durability: WAL with ``synchronous = FULL``: each commit is fsynced before the requests it
holds are acknowledged, so an acknowledged callback survives a power cut, not only a killed
process (the service does not retry a callback it got a 200 for). The fsync is shared:
every request that arrives while one commit is being written joins the next one (a group
commit), so the cost per callback falls as the load rises.

The file is opened with an exclusive lock: a second ``serve`` over the same state directory
fails at once instead of running the same events twice.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.node import WebhookEvent

QUEUE_FILE = "queue.sqlite"
# How long replay keys and finished events are kept: Plivo's last retry comes about 7 minutes
# after the first attempt, so a day is far beyond any retry.
KEEP_SECONDS = 24 * 3600.0
# A long-running serve prunes as it goes, not only when it starts.
PRUNE_EVERY_SECONDS = 600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS event (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook TEXT NOT NULL,
    dedupe TEXT NOT NULL,
    order_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    received REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    finished REAL,
    UNIQUE (webhook, dedupe)
);
CREATE INDEX IF NOT EXISTS event_state ON event (state, id);
CREATE TABLE IF NOT EXISTS nonce (
    key TEXT PRIMARY KEY,
    seen REAL NOT NULL
);
"""


class Outcome(Enum):
    QUEUED = "queued"
    DUPLICATE = "duplicate"  # the same event was accepted before: acknowledged, not run again
    REPLAYED = "replayed"  # the same signed request was accepted before: refused


@dataclass(frozen=True)
class QueuedEvent:
    id: int
    webhook: str
    kind: str
    params: Mapping[str, str]
    order_key: str
    # Accepted by this process and not run yet, so no journal can hold anything of its run:
    # its run skips reading the journal. False (the safe default) for an event queued before
    # this start, whose run may have begun before a crash.
    fresh: bool = False
    # Equal for every delivery of the event (the trigger's dedupe key): what serve replicas
    # sharing a queue (serve --queue) recognise one event by.
    dedupe: str = ""


@dataclass
class _Pending:
    webhook: str
    event: WebhookEvent
    replay_key: str | None  # None: an unsigned request, nothing to tell a replay by
    future: asyncio.Future[tuple[Outcome, int]]


class EventQueue:
    """The queue file, used from the event loop's thread only."""

    def __init__(self, connection: sqlite3.Connection, path: Path, *, pruned: float) -> None:
        self.path = path
        self._pruned = pruned
        self._connection = connection
        self._pending: list[_Pending] = []
        self._done: list[tuple[int, asyncio.Future[tuple[Outcome, int]]]] = []
        self._flush: asyncio.Handle | None = None

    @classmethod
    def open(cls, directory: Path) -> EventQueue:
        path = directory / QUEUE_FILE
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            connection = sqlite3.connect(path, isolation_level=None, timeout=0.2)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigurationError(
                f"cannot open the event queue {path}: {exc}",
                hint="set PLIVO_NODE_STATE_DIR to a directory plivo-node may write",
            ) from exc
        try:
            connection.execute("PRAGMA locking_mode = EXCLUSIVE")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("BEGIN IMMEDIATE")  # takes the exclusive lock now
            connection.executescript(_SCHEMA)  # commits
            now = time.time()
            _prune(connection, now)
        except sqlite3.Error as exc:
            connection.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise ConfigurationError(
                    f"the event queue {path} is in use by another plivo-node serve",
                    hint="stop the other serve, or give this one its own PLIVO_NODE_STATE_DIR",
                ) from exc
            raise ConfigurationError(
                f"{path} is not a plivo-node event queue ({exc})",
                hint="move that file away, or set PLIVO_NODE_STATE_DIR elsewhere",
            ) from exc
        return cls(connection, path, pruned=now)

    def close(self) -> None:
        self._commit()
        self._connection.close()

    # --- accepting --------------------------------------------------------------------------

    async def put(
        self, webhook: str, event: WebhookEvent, replay_key: str | None
    ) -> tuple[Outcome, int]:
        """Commit the event (and its replay key); returns once it is on disk, with the event's
        id (0 unless queued). A failure to write is raised: the caller answers 5xx, and the
        service retries."""
        future: asyncio.Future[tuple[Outcome, int]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(webhook, event, replay_key, future))
        self._schedule()
        return await future

    def _schedule(self) -> None:
        if self._flush is None:
            # call_soon: every request handled in this turn of the loop joins the commit.
            self._flush = asyncio.get_running_loop().call_soon(self._commit)

    def _commit(self) -> None:
        self._flush = None
        pending, self._pending = self._pending, []
        done, self._done = self._done, []
        if not pending and not done:
            return
        now = time.time()
        results: list[tuple[Outcome, int]] = []
        connection = self._connection
        futures = [item.future for item in pending] + [future for _, future in done]
        try:
            connection.execute("BEGIN IMMEDIATE")
            results.extend(self._insert(item, now) for item in pending)
            connection.executemany(
                "UPDATE event SET state = 'done', finished = ? WHERE id = ?",
                [(now, event_id) for event_id, _ in done],
            )
            if now - self._pruned > PRUNE_EVERY_SECONDS:
                _prune(connection, now)
                self._pruned = now
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            error = ConfigurationError(f"cannot write the event queue {self.path}: {exc}")
            for future in futures:
                if not future.done():
                    future.set_exception(error)
            return
        results.extend((Outcome.QUEUED, event_id) for event_id, _ in done)
        for future, result in zip(futures, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _insert(self, item: _Pending, now: float) -> tuple[Outcome, int]:
        connection = self._connection
        if item.replay_key is not None:
            seen = connection.execute(
                "INSERT OR IGNORE INTO nonce (key, seen) VALUES (?, ?)", (item.replay_key, now)
            )
            if seen.rowcount == 0:
                return Outcome.REPLAYED, 0
        event = item.event
        cursor = connection.execute(
            "INSERT OR IGNORE INTO event (webhook, dedupe, order_key, kind, params, received) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                item.webhook,
                event.dedupe_key,
                event.order_key,
                event.kind,
                json.dumps(dict(event.params), ensure_ascii=False),
                now,
            ),
        )
        if cursor.rowcount == 0:
            return Outcome.DUPLICATE, 0
        assert cursor.lastrowid is not None
        return Outcome.QUEUED, cursor.lastrowid

    # --- running ----------------------------------------------------------------------------

    def waiting(self) -> list[QueuedEvent]:
        """Every event not yet done, oldest first (what a restart runs)."""
        self._commit()
        rows = self._connection.execute(
            "SELECT id, webhook, kind, params, order_key, dedupe FROM event "
            "WHERE state = 'queued' ORDER BY id"
        )
        return [
            QueuedEvent(
                id=row[0],
                webhook=row[1],
                kind=row[2],
                params=json.loads(row[3]),
                order_key=row[4],
                dedupe=row[5],
            )
            for row in rows
        ]

    async def done(self, event_id: int) -> None:
        """The event's run finished and its output is written: it never runs again. Returns
        once that is committed (sharing the commit with the requests being accepted)."""
        future: asyncio.Future[tuple[Outcome, int]] = asyncio.get_running_loop().create_future()
        self._done.append((event_id, future))
        self._schedule()
        await future

    def counts(self) -> dict[str, int]:
        rows = self._connection.execute("SELECT state, COUNT(*) FROM event GROUP BY state")
        return {str(state): int(count) for state, count in rows}


def _prune(connection: sqlite3.Connection, now: float) -> None:
    """Forget replay keys and finished events older than KEEP_SECONDS (inside a transaction)."""
    connection.execute("DELETE FROM nonce WHERE seen < ?", (now - KEEP_SECONDS,))
    connection.execute(
        "DELETE FROM event WHERE state = 'done' AND finished < ?", (now - KEEP_SECONDS,)
    )


def queued_event(event_id: int, webhook: str, event: WebhookEvent) -> QueuedEvent:
    """The event just committed by :meth:`EventQueue.put` (so ``fresh``)."""
    return QueuedEvent(
        id=event_id,
        webhook=webhook,
        kind=event.kind,
        params=event.params,
        order_key=event.order_key,
        fresh=True,
        dedupe=event.dedupe_key,
    )
