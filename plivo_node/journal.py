"""The run journal: what was sent, so a killed run can resume without sending anything twice.

Plivo has no idempotency keys, so the only defence against a duplicate SMS is to write down
"about to send item i" durably *before* the request goes out, and the outcome after it.
Each item of each step has a state, keyed by ``(step, index)``:

    (absent)    pending    never started; a resumed run sends it
    in_flight              marked before the request; if a run dies here nobody knows whether
                           Plivo acted, so a resume reports it as ``unknown_outcome``
    done                   finished; ``outputs`` holds its output items
    failed                 finished with an error; ``outputs`` holds the error item(s)
    unknown                reported as ``unknown_outcome`` (outputs may be empty)

Writes are group-committed. :meth:`RunJournal.begin` returns only once its ``in_flight``
marks are committed, but every ``begin`` and ``complete`` arriving within a few milliseconds
shares one transaction, committed by a callback on the event loop; so thousands of sends a
second cost a few hundred small commits, not thousands of disk round trips.

A resume reads the journal step by step: ``done`` and ``failed`` items replay their journaled
outputs (so the output file can be rewritten whole, with no send); ``in_flight`` and
``unknown`` items become ``unknown_outcome`` errors (recorded with :meth:`RunJournal.complete`)
unless the user asks to retry them, in which case they are simply begun again; the rest are
sent.

The journal lives in one SQLite file (stdlib ``sqlite3``), by default next to the output file.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

from plivo_node.context import JsonObject
from plivo_node.errors import ConfigurationError
from plivo_node.item_io import is_stdio

SCHEMA_VERSION = 1
JOURNAL_SUFFIX = ".journal.sqlite"
STDOUT_JOURNAL_DIR = ".plivo-node"


class ItemState(StrEnum):
    """What the journal knows about one item of one step (pending items have no row)."""

    IN_FLIGHT = "in_flight"
    DONE = "done"
    FAILED = "failed"
    UNKNOWN = "unknown"


# The states :meth:`RunJournal.complete` may record: the ends of an item's life.
_FINAL_STATES = frozenset({ItemState.DONE, ItemState.FAILED, ItemState.UNKNOWN})


@dataclass(frozen=True, slots=True)
class Record:
    """One journaled item: its state, its output items once finished, and a fingerprint of
    the input item it was (so that a resume can tell the input changed under it)."""

    state: ItemState
    outputs: list[JsonObject] | None
    input_fingerprint: str | None = None


def default_journal_path(
    output_path: Path | str,
    pipeline_path: Path | str | None = None,
    *,
    cwd: Path | None = None,
) -> Path:
    """Where a run's journal lives unless the user says otherwise.

    Next to the output file (``out.jsonl`` → ``out.jsonl.journal.sqlite``); when the output
    goes to stdout (``-``), in ``.plivo-node/<pipeline stem>.journal.sqlite`` under ``cwd``.
    """
    if not is_stdio(output_path):
        output = Path(output_path)
        return output.with_name(output.name + JOURNAL_SUFFIX)
    stem = Path(pipeline_path).stem if pipeline_path is not None else "run"
    return (cwd or Path.cwd()) / STDOUT_JOURNAL_DIR / f"{stem}{JOURNAL_SUFFIX}"


def compute_run_key(pipeline_text: str, input_path: Path | str | None) -> str:
    """A fingerprint of the run: the pipeline's text and where its input comes from.

    The input's content is not part of it: each journaled item keeps a fingerprint of its own
    input item instead, so fixing a malformed row that the interrupted run never reached does
    not prevent the resume, while a changed row that it did reach is caught item by item.
    """
    digest = hashlib.sha256()
    digest.update(b"pipeline\0" + pipeline_text.encode("utf-8"))
    if input_path is not None and not is_stdio(input_path):
        digest.update(b"\0input\0" + str(Path(input_path).resolve()).encode("utf-8"))
    return digest.hexdigest()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS run (
    id          INTEGER PRIMARY KEY CHECK (id = 1),  -- one run per journal file
    run_key     TEXT NOT NULL,
    started_at  REAL NOT NULL,
    finished_at REAL                                 -- NULL while the run is unfinished
);
CREATE TABLE IF NOT EXISTS item (
    step    INTEGER NOT NULL,
    idx     INTEGER NOT NULL,
    state   TEXT NOT NULL,
    outputs TEXT,                                    -- JSON list of output items
    input   TEXT,                                    -- fingerprint of the input item
    PRIMARY KEY (step, idx)
) WITHOUT ROWID;
"""

_UPSERT_ITEM = (
    "INSERT OR REPLACE INTO item (step, idx, state, outputs, input) VALUES (?, ?, ?, ?, ?)"
)

# Built once: json.dumps builds a new encoder on every call that passes options.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

_Row = tuple[int, int, str, str | None, str | None]


class RunJournal:
    """The journal of one run. Use from one thread: the event loop's.

    Open with :meth:`open`; mark sends with :meth:`begin` (awaited before each request) and
    outcomes with :meth:`complete`; end with :meth:`close`.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        *,
        commit_interval: float,
        max_batch: int,
    ) -> None:
        self.path = path
        self._connection = connection
        self._commit_interval = commit_interval
        self._max_batch = max_batch
        # Rows waiting for the next group commit, in arrival order.
        self._pending_rows: list[_Row] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._flush_handle: asyncio.TimerHandle | asyncio.Handle | None = None
        self._flush_is_immediate = False
        self._failure: ConfigurationError | None = None
        self._closed = False

    # --- opening ----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        run_key: str,
        resume: bool,
        restart: bool = False,
        commit_interval: float = 0.002,
        max_batch: int = 512,
    ) -> RunJournal:
        """Open the journal at ``path`` for a new run, or to resume the run it holds.

        A new run refuses to overwrite an unfinished run's journal unless ``restart``: its
        sent items would be sent again. A resume needs the journal and the same ``run_key``.
        ``commit_interval`` (seconds) and ``max_batch`` (rows) bound each group commit.
        """
        if resume and restart:
            raise ConfigurationError(
                "--resume and --restart contradict each other",
                hint="pass --resume to continue the journaled run, or --restart to discard it",
            )
        journal_path = Path(path)
        if resume and not journal_path.exists():
            raise ConfigurationError(
                f"there is no run journal at {journal_path} to resume",
                hint="run without --resume to start a new run, or pass the journal's path",
            )
        connection = _connect(journal_path)
        try:
            _prepare(connection, journal_path, run_key=run_key, resume=resume, restart=restart)
        except BaseException:
            connection.close()
            raise
        return cls(connection, journal_path, commit_interval=commit_interval, max_batch=max_batch)

    # --- writing ----------------------------------------------------------------------------

    async def begin(
        self,
        step: int,
        indices: Sequence[int],
        fingerprints: Sequence[str | None] | None = None,
    ) -> None:
        """Mark items ``in_flight``; returns once the marks are committed to the file.

        Send only after this returns: a process killed at any later moment leaves the marks
        behind, and a resume reports those items as unknown instead of sending them again.
        If the caller is cancelled while waiting, the marks are still written (the safe way
        round: an unsent item reported unknown, never a sent item sent twice).
        """
        self._check_usable()
        if not indices:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        prints = fingerprints if fingerprints is not None else [None] * len(indices)
        self._pending_rows.extend(
            (step, index, ItemState.IN_FLIGHT.value, None, fingerprint)
            for index, fingerprint in zip(indices, prints, strict=True)
        )
        self._waiters.append(future)
        self._schedule_flush()
        await future

    def complete(
        self,
        step: int,
        index: int,
        state: ItemState | str,
        outputs: Sequence[JsonObject] | str,
        fingerprint: str | None = None,
    ) -> None:
        """Record an item's outcome and its output items; committed within a few ms.

        The caller does not wait for the disk: a kill before the commit leaves the item
        ``in_flight``, which a resume reports as unknown, never sends twice.
        """
        self._check_usable()
        final = ItemState(state)
        if final not in _FINAL_STATES:
            raise ValueError(f"complete() records an outcome, not {final.value!r}")
        # A str is the outputs already encoded as a JSON list (the runner encodes each once).
        encoded = outputs if isinstance(outputs, str) else _ENCODER.encode(list(outputs))
        self._pending_rows.append((step, index, final.value, encoded, fingerprint))
        self._schedule_flush()

    async def close(self, *, finished: bool = False) -> None:
        """Commit everything and close; ``finished`` marks the run complete.

        A finished run's journal may be overwritten by the next new run; an unfinished one
        makes the next run choose ``--resume`` or ``--restart``.
        """
        if self._closed:
            return
        try:
            self._commit_pending()
            self._raise_failure()
            if finished:
                with _write_errors(self.path):
                    self._connection.execute(
                        "UPDATE run SET finished_at = ? WHERE id = 1", (time.time(),)
                    )
        finally:
            self._closed = True
            self._connection.close()

    async def __aenter__(self) -> RunJournal:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close(finished=False)

    # --- reading (for a resume) -------------------------------------------------------------

    def recorded(self, *, step: int) -> int:
        """How many items of ``step`` the journal holds (what a resume replays), counted in SQL."""
        self._check_usable()
        self._commit_pending()
        row = self._connection.execute(
            "SELECT COUNT(*) FROM item WHERE step = ?", (step,)
        ).fetchone()
        return int(row[0])

    def records(self, step: int) -> dict[int, Record]:
        """Every journaled item of ``step`` by index, in one query."""
        self._check_usable()
        self._commit_pending()
        cursor = self._connection.execute(
            "SELECT idx, state, outputs, input FROM item WHERE step = ?", (step,)
        )
        return {
            index: Record(
                ItemState(state), None if outputs is None else json.loads(outputs), fingerprint
            )
            for index, state, outputs, fingerprint in cursor
        }

    # --- group commit -----------------------------------------------------------------------

    def _schedule_flush(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # Outside an event loop (a synchronous caller) there is no one to batch with.
            self._commit_pending()
            self._raise_failure()
            return
        full = len(self._pending_rows) >= self._max_batch
        if self._flush_handle is not None:
            if not full or self._flush_is_immediate:
                return
            self._flush_handle.cancel()
        if full:
            # call_soon, not an inline commit: callers already queued this loop turn join in.
            self._flush_handle = loop.call_soon(self._commit_pending)
            self._flush_is_immediate = True
        else:
            self._flush_handle = loop.call_later(self._commit_interval, self._commit_pending)
            self._flush_is_immediate = False

    def _commit_pending(self) -> None:
        """Write every pending row in one transaction and wake the begin() callers waiting."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        rows, self._pending_rows = self._pending_rows, []
        waiters, self._waiters = self._waiters, []
        if not rows and not waiters:
            return
        if self._failure is None:
            try:
                with _write_errors(self.path):
                    self._write_rows(rows)
            except ConfigurationError as error:
                self._failure = error
        for waiter in waiters:
            if waiter.done():
                continue  # the caller was cancelled; its marks were still written
            if self._failure is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(self._failure)

    def _write_rows(self, rows: list[_Row]) -> None:
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Rows go in arrival order, so a later outcome overwrites an earlier in_flight mark.
            connection.executemany(_UPSERT_ITEM, rows)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _check_usable(self) -> None:
        if self._closed:
            raise RuntimeError(f"the run journal {self.path} is closed")
        self._raise_failure()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure


# --- opening helpers -----------------------------------------------------------------------


def _connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are begun and committed explicitly, one per
        # group. A short timeout: another process holding the journal should fail fast.
        connection = sqlite3.connect(path, isolation_level=None, timeout=0.2)
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigurationError(
            f"cannot create the run journal {path}: {reason}",
            hint="pass a --journal file path in a writable directory, or --no-journal",
        ) from exc
    try:
        # EXCLUSIVE locking, set before WAL is enabled: the first write takes a lock held
        # until close, so a second process cannot run (and send) from the same journal. The
        # OS drops the lock if the process dies, so a killed run can always be resumed.
        connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        connection.execute("PRAGMA journal_mode = WAL")
        # synchronous=NORMAL in WAL mode: a commit is written to the WAL file (the kernel's
        # page cache) before COMMIT returns, but not fsynced. A killed *process* therefore
        # never loses a committed transaction, which is the crash this journal is for; only
        # an OS crash or power cut could lose the last few ms of commits. FULL would fsync
        # every group commit and cost milliseconds each for that rarer case.
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("BEGIN IMMEDIATE")  # takes the exclusive lock now
        connection.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        connection.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise ConfigurationError(
                f"the run journal {path} is in use by another plivo-node run",
                hint="wait for that run to end; two runs from one journal would send twice",
            ) from exc
        raise _not_a_journal(path, exc) from exc
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise _not_a_journal(path, exc) from exc
    return connection


def _not_a_journal(path: Path, exc: Exception) -> ConfigurationError:
    return ConfigurationError(
        f"{path} is not a plivo-node run journal ({exc})",
        hint="pass another --journal path, or move that file away",
    )


def _prepare(
    connection: sqlite3.Connection,
    path: Path,
    *,
    run_key: str,
    resume: bool,
    restart: bool,
) -> None:
    """Check the journal against the request (new run or resume) and record the run."""
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        has_tables = connection.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
        ).fetchone()[0]
        if has_tables and version != SCHEMA_VERSION:
            raise _not_a_journal(path, ValueError(f"schema version {version}"))
        connection.executescript(_SCHEMA)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        run = connection.execute("SELECT run_key, started_at, finished_at FROM run").fetchone()
        if resume:
            _check_resumable(path, run, run_key)
            with _write_errors(path):
                # Unfinished again until this attempt ends well.
                connection.execute("UPDATE run SET finished_at = NULL WHERE id = 1")
            return
        if run is not None and run[2] is None and not restart:
            touched = connection.execute("SELECT COUNT(*) FROM item").fetchone()[0]
            if touched:  # a run that never marked an item has nothing to send twice
                raise _unfinished_run_error(path, started_at=run[1], touched=touched)
        with _write_errors(path):
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("DELETE FROM item")
            connection.execute("DELETE FROM run")
            connection.execute(
                "INSERT INTO run (id, run_key, started_at) VALUES (1, ?, ?)",
                (run_key, time.time()),
            )
            connection.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise _not_a_journal(path, exc) from exc


def _check_resumable(path: Path, run: tuple[Any, ...] | None, run_key: str) -> None:
    if run is None:
        raise ConfigurationError(
            f"the run journal {path} holds no run to resume",
            hint="run without --resume to start a new run",
        )
    if run[0] != run_key:
        raise ConfigurationError(
            f"cannot resume from {path}: the pipeline or the input changed since that run "
            "started, so journaled items would no longer match",
            hint="restore the original pipeline and input to --resume, or pass --restart to "
            "discard the journal and send every item again",
        )


def _unfinished_run_error(path: Path, *, started_at: float, touched: int) -> ConfigurationError:
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started_at))
    return ConfigurationError(
        f"the run journal {path} holds an unfinished run started {started} "
        f"({touched} items sent or in flight); a fresh run would send its items again",
        hint="pass --resume to continue that run, or --restart to discard its journal",
    )


@contextmanager
def _write_errors(path: Path) -> Iterator[None]:
    """Turns an SQLite failure while writing (disk full, I/O error) into a clear error."""
    try:
        yield
    except sqlite3.Error as exc:
        raise ConfigurationError(
            f"cannot write the run journal {path}: {exc}",
            hint="the run stopped so that no item is sent unrecorded; free disk space or "
            "fix the journal's directory, then --resume",
        ) from exc


__all__ = [
    "JOURNAL_SUFFIX",
    "ItemState",
    "Record",
    "RunJournal",
    "compute_run_key",
    "default_journal_path",
]
