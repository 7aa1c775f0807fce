"""The suppression list: numbers that asked not to be messaged, kept in the state directory.

One SQLite table (``suppression.sqlite`` in :func:`plivo_node.core.state_dir.ensure_state_dir`),
one row per number in E.164 digits (the form sends use, so a lookup is one dict hit), with why
it is there (the keyword, the error code, the operator's reason), how it got there (``keyword``,
``error_code``, ``manual``, ``import``) and when. ``run`` reads it, ``serve`` writes it as
STOP/START messages and opt-out statuses arrive, and the ``suppression`` command manages it;
WAL mode lets a run read while serve writes.

The two functions the trigger calls for every accepted callback are :func:`apply_inbound` and
:func:`apply_status`. Both are idempotent: Plivo retries callbacks, and a number already on the
list keeps its first entry.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from plivo_node.core.errors import ConfigurationError, ParameterError
from plivo_node.core.state_dir import STATE_DIR_VARIABLE, ensure_state_dir
from plivo_node.nodes.plivo.optout_keywords import Intent, intent_of
from plivo_node.nodes.plivo.validation.phone import normalize_number

DATABASE_NAME = "suppression.sqlite"
# Plivo's message error code for a destination that opted out (PLIVO_API.md §19).
OPTED_OUT_ERROR_CODE = "200"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS suppression (
    number TEXT PRIMARY KEY,   -- E.164 digits, no "+"
    reason TEXT NOT NULL,      -- the keyword, the error code, the operator's words
    source TEXT NOT NULL,      -- keyword | error_code | manual | import
    via TEXT,                  -- the number STOP was sent to, or the failed message's sender
    since TEXT NOT NULL        -- ISO 8601, UTC
)
"""


class Source(StrEnum):
    KEYWORD = "keyword"
    ERROR_CODE = "error_code"
    MANUAL = "manual"
    IMPORT = "import"


@dataclass(frozen=True)
class Entry:
    """One suppressed number."""

    number: str  # E.164 digits, no "+"
    reason: str
    source: str
    since: str  # ISO 8601, UTC
    via: str | None = None

    def describe(self) -> str:
        """``+14155550101 is suppressed since 2026-12-01 10:00 UTC (keyword STOP)``."""
        when = self.since[:16].replace("T", " ")
        return f"+{self.number} is suppressed since {when} UTC ({self.reason})"


@dataclass(frozen=True)
class Change:
    """What applying a callback did to the list."""

    action: str  # "added", "removed", "already", "absent" (nothing to remove) or "none"
    number: str | None = None
    reason: str = ""


def database_path() -> Path:
    return ensure_state_dir() / DATABASE_NAME


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# How long opening the list waits out other processes' locks (see connect).
OPEN_WAIT_SECONDS = 10.0


def connect(path: Path | None = None) -> sqlite3.Connection:
    """The list's database, created if missing; a clear error when it cannot be opened.

    Queue workers sharing a state directory open it for every chunk. The first to switch a new
    file to WAL, and the last connection to close (it checkpoints the log away), hold locks that
    SQLite reports as "locked" at once rather than through the busy timeout: opening tries again
    until OPEN_WAIT_SECONDS have passed.
    """
    path = path if path is not None else database_path()
    deadline = time.monotonic() + OPEN_WAIT_SECONDS
    while True:
        try:
            return _open(path)
        except sqlite3.OperationalError as error:
            contended = "locked" in str(error) or "busy" in str(error)
            if not contended or time.monotonic() >= deadline:
                raise _unopenable(path, error) from error
            time.sleep(0.02)
        except sqlite3.Error as error:
            raise _unopenable(path, error) from error


def _open(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    try:
        if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(_SCHEMA)
    except BaseException:
        connection.close()
        raise
    path.chmod(0o600)  # phone numbers: owner-only, like the state directory
    return connection


def _unopenable(path: Path, error: sqlite3.Error) -> ConfigurationError:
    return ConfigurationError(
        f"cannot open the suppression list {path}: {error}",
        hint=f"check the file's permissions, or set {STATE_DIR_VARIABLE} to a directory "
        "plivo-node may write",
    )


@contextmanager
def opened(path: Path | None = None) -> Iterator[SuppressionList]:
    with closing(connect(path)) as connection:
        yield SuppressionList(connection)


class SuppressionList:
    """Reads and writes of the list over one connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self._log = _write_ahead_log(connection)

    def add(
        self, number: str, *, reason: str, source: Source, via: str | None = None
    ) -> Entry | None:
        """Suppress ``number`` (E.164 digits); None when it already was (its entry is kept)."""
        entry = Entry(number=number, reason=reason, source=source.value, since=_now(), via=via)
        cursor = self.connection.execute(
            "INSERT OR IGNORE INTO suppression (number, reason, source, via, since) "
            "VALUES (?, ?, ?, ?, ?)",
            (entry.number, entry.reason, entry.source, entry.via, entry.since),
        )
        return entry if cursor.rowcount == 1 else None

    def remove(self, number: str) -> bool:
        """Lift the suppression of ``number``; False when it was not suppressed."""
        cursor = self.connection.execute("DELETE FROM suppression WHERE number = ?", (number,))
        return cursor.rowcount == 1

    def get(self, number: str) -> Entry | None:
        row = self.connection.execute(
            "SELECT number, reason, source, since, via FROM suppression WHERE number = ?",
            (number,),
        ).fetchone()
        return Entry(*row) if row else None

    def entries(self) -> list[Entry]:
        """Every entry, oldest first."""
        rows = self.connection.execute(
            "SELECT number, reason, source, since, via FROM suppression ORDER BY since, number"
        )
        return [Entry(*row) for row in rows]

    def numbers(self) -> frozenset[str]:
        """Every suppressed number: what a run loads (entries are read only for a hit)."""
        return frozenset(
            row[0] for row in self.connection.execute("SELECT number FROM suppression")
        )

    def log_state(self) -> tuple[int, int, int] | None:
        """The write-ahead log's inode, size and modification time: every commit, by any
        connection, changes it (None while the log does not exist). A stat costs far less
        than a query, so a run can check it before each lookup."""
        try:
            status = self._log.stat()
        except OSError:
            return None
        return (status.st_ino, status.st_size, status.st_mtime_ns)

    def version(self) -> int:
        """Changes when another connection commits to the database (PRAGMA data_version)."""
        return int(self.connection.execute("PRAGMA data_version").fetchone()[0])


def _write_ahead_log(connection: sqlite3.Connection) -> Path:
    """The ``-wal`` file next to the connection's main database."""
    rows = connection.execute("PRAGMA database_list").fetchall()
    main = next(row[2] for row in rows if row[1] == "main")
    return Path(f"{main}-wal")


def _number_or_none(raw: object) -> str | None:
    try:
        return normalize_number(raw, parameter="From")
    except ParameterError:  # a short code or a sender ID: not a number one can suppress
        return None


def apply_inbound(params: Mapping[str, Any], *, path: Path | None = None) -> Change:
    """An inbound message's callback parameters (PLIVO_API.md §17.2): an opt-out keyword (or
    Plivo's ``MessageIntent`` optout) suppresses the sender, an opt-in keyword lifts it."""
    found = intent_of(params)
    if found is None:
        return Change("none")
    intent, why = found
    number = _number_or_none(params.get("From"))
    if number is None:
        return Change("none", reason=f"{why} from a sender that is not a phone number")
    via = _number_or_none(params.get("To"))
    reason = f"keyword {why}" if not why.startswith("MessageIntent") else why
    with opened(path) as suppression:
        if intent is Intent.OPT_OUT:
            added = suppression.add(number, reason=reason, source=Source.KEYWORD, via=via)
            return Change("added" if added else "already", number, reason)
        removed = suppression.remove(number)
        return Change("removed" if removed else "absent", number, reason)


def apply_status(params: Mapping[str, Any], *, path: Path | None = None) -> Change:
    """A message status callback (PLIVO_API.md §17.1): error code 200 (the destination opted
    out) suppresses the destination."""
    code = str(params.get("ErrorCode") or "").strip()
    if code != OPTED_OUT_ERROR_CODE:
        return Change("none")
    number = _number_or_none(params.get("To"))
    if number is None:
        return Change("none", reason=f"error {code} for a destination that is not a number")
    reason = f"error {code}: the destination opted out"
    via = _number_or_none(params.get("From"))
    with opened(path) as suppression:
        added = suppression.add(number, reason=reason, source=Source.ERROR_CODE, via=via)
    return Change("added" if added else "already", number, reason)
