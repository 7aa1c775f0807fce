"""The delivery store: the latest known state of each sent message, in the state directory.

``serve`` calls :func:`record_status` for every accepted message status callback, and
``plivo-node status`` records the states it reads from the API, so a report needs no request
for a message whose final state is already known. One row per message UUID.

States only move forward: Plivo may deliver callbacks late and out of order (it retries a
failed one up to three times over minutes), so a "sent" that arrives after "delivered" must
not turn a delivered message back into a pending one. Each state has a rank (queued < sent <
delivered / undelivered / failed / rejected < read); an update with a lower rank is ignored,
one with the same rank wins only with a higher ``Sequence`` (Plivo's order of the callbacks
for one message). Repeating a callback changes nothing, so a retried callback is harmless.

Only delivery facts are kept (state, error code, numbers, units, price): never the text.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.state_dir import STATE_DIR_VARIABLE, ensure_state_dir, state_dir_path
from plivo_node.nodes.plivo.error_codes import normalized_code

STORE_FILE = "delivery.sqlite"
# A message in one of these states will not change again (``read`` is WhatsApp's last word).
FINAL_STATES = frozenset({"delivered", "undelivered", "failed", "rejected", "read"})
_RANKS = {"queued": 0, "sent": 1, "delivered": 2, "undelivered": 2, "failed": 2, "rejected": 2}
_RANKS["read"] = 3
_UNKNOWN_RANK = 0  # a state Plivo adds later counts as pending, never as final
BUSY_TIMEOUT_SECONDS = 5.0  # serve and status may write at the same moment

_SCHEMA = """
CREATE TABLE IF NOT EXISTS message_status (
    message_uuid TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    rank INTEGER NOT NULL,
    sequence INTEGER,
    error_code TEXT,
    to_number TEXT,
    from_number TEXT,
    units TEXT,
    total_rate TEXT,
    total_amount TEXT,
    source TEXT NOT NULL,
    updated_at REAL NOT NULL
)
"""

# Insert, or move an existing row forward: never back to an earlier state.
_UPSERT = """
INSERT INTO message_status (
    message_uuid, status, rank, sequence, error_code, to_number, from_number, units,
    total_rate, total_amount, source, updated_at
) VALUES (
    :message_uuid, :status, :rank, :sequence, :error_code, :to_number, :from_number, :units,
    :total_rate, :total_amount, :source, :updated_at
)
ON CONFLICT (message_uuid) DO UPDATE SET
    status = excluded.status,
    rank = excluded.rank,
    sequence = excluded.sequence,
    error_code = COALESCE(excluded.error_code, message_status.error_code),
    to_number = COALESCE(excluded.to_number, message_status.to_number),
    from_number = COALESCE(excluded.from_number, message_status.from_number),
    units = COALESCE(excluded.units, message_status.units),
    total_rate = COALESCE(excluded.total_rate, message_status.total_rate),
    total_amount = COALESCE(excluded.total_amount, message_status.total_amount),
    source = excluded.source,
    updated_at = excluded.updated_at
WHERE excluded.rank > message_status.rank
   OR (excluded.rank = message_status.rank
       AND COALESCE(excluded.sequence, -1) > COALESCE(message_status.sequence, -1))
"""

_SELECT = (
    "SELECT message_uuid, status, error_code, to_number, from_number, units, total_rate, "
    "total_amount, source, updated_at FROM message_status WHERE message_uuid = ?"
)


def state_rank(status: str) -> int:
    return _RANKS.get(status, _UNKNOWN_RANK)


@dataclass(frozen=True)
class MessageStatus:
    """What the store knows of one message."""

    message_uuid: str
    status: str
    error_code: str | None
    to_number: str | None
    from_number: str | None
    units: str | None
    total_rate: str | None
    total_amount: str | None
    source: str  # "callback" or "api": where the state came from
    updated_at: float

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATES


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _sequence(value: object) -> int | None:
    text = _text(value)
    return int(text) if text is not None and text.isdigit() else None


class DeliveryStore:
    """The store's SQLite file; use it as a context manager (or call :meth:`close`).

    One instance may be shared by threads (serve may record from a worker thread): every
    statement runs under the instance's lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection = _connect(path)
        self._lock = threading.Lock()

    @classmethod
    def in_state_dir(cls) -> DeliveryStore:
        return cls(ensure_state_dir() / STORE_FILE)

    def __enter__(self) -> DeliveryStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def record_callback(self, params: Mapping[str, str]) -> None:
        """Record one message status callback (Plivo's parameter names)."""
        message_uuid = _text(params.get("MessageUUID"))
        status = _text(params.get("Status"))
        if message_uuid is None or status is None:
            missing = "MessageUUID" if message_uuid is None else "Status"
            raise ValueError(f"a message status callback without {missing} cannot be recorded")
        self._upsert(
            message_uuid=message_uuid,
            status=status.lower(),
            sequence=_sequence(params.get("Sequence")),
            error_code=normalized_code(params.get("ErrorCode")),
            to_number=_text(params.get("To")),
            from_number=_text(params.get("From")),
            units=_text(params.get("Units")),
            total_rate=_text(params.get("TotalRate")),
            total_amount=_text(params.get("TotalAmount")),
            source="callback",
        )

    def record_api(self, record: Mapping[str, Any]) -> None:
        """Record a message detail record read from the API (``message.get`` / ``getAll``)."""
        message_uuid = _text(record.get("message_uuid"))
        status = _text(record.get("message_state"))
        if message_uuid is None or status is None:
            return  # not a message record: nothing to learn from it
        self._upsert(
            message_uuid=message_uuid,
            status=status.lower(),
            sequence=None,
            error_code=normalized_code(record.get("error_code")),
            to_number=_text(record.get("to_number")),
            from_number=_text(record.get("from_number")),
            units=_text(record.get("units")),
            total_rate=_text(record.get("total_rate")),
            total_amount=_text(record.get("total_amount")),
            source="api",
        )

    def _upsert(self, **row: Any) -> None:
        row["rank"] = state_rank(row["status"])
        row["updated_at"] = time.time()
        with self._lock, self._connection:
            self._connection.execute(_UPSERT, row)

    def lookup(self, message_uuids: Iterable[str]) -> dict[str, MessageStatus]:
        """The known states of ``message_uuids`` (absent ones are left out)."""
        found: dict[str, MessageStatus] = {}
        with self._lock:
            for message_uuid in dict.fromkeys(message_uuids):
                row = self._connection.execute(_SELECT, (message_uuid,)).fetchone()
                if row is not None:
                    found[message_uuid] = MessageStatus(*row)
        return found


def _connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Phone numbers live here: the file is the owner's alone (its WAL files follow it).
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigurationError(
            f"cannot open the delivery store {path}: {reason}",
            hint=f"set {STATE_DIR_VARIABLE} to a directory plivo-node may write",
        ) from exc
    try:
        # WAL: serve records callbacks while a status command reads, without blocking it.
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute(_SCHEMA)
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise ConfigurationError(
            f"{path} is not a plivo-node delivery store ({exc})",
            hint="move that file away; it is rebuilt from later callbacks and lookups",
        ) from exc
    return connection


# record_status keeps its store open: opening one costs milliseconds (the file, WAL mode, the
# schema), far more than recording a callback. Reopened when the state directory changes.
_shared: DeliveryStore | None = None
_shared_lock = threading.Lock()


def shared_store() -> DeliveryStore:
    """This process's open store in the current state directory."""
    global _shared  # noqa: PLW0603 - one open store per process, by design
    with _shared_lock:
        path = state_dir_path() / STORE_FILE
        if _shared is None or _shared.path != path:
            if _shared is not None:
                _shared.close()
            ensure_state_dir()
            _shared = DeliveryStore(path)
        return _shared


def record_status(params: Mapping[str, str]) -> None:
    """Record one accepted message status callback in the state directory's delivery store.

    Idempotent, and never moves a message back to an earlier state (see the module's doc).
    ``params`` are Plivo's callback parameters (MessageUUID, Status, ErrorCode, To, From,
    Units, TotalRate, TotalAmount, Sequence, ...); a callback without MessageUUID or Status
    raises ``ValueError``. Safe to call from several threads.
    """
    shared_store().record_callback(params)
