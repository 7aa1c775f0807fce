"""The run journal: what was sent, so a killed run can resume without sending anything twice.

Services without idempotency keys act twice on a repeated send, so the only defence against a
duplicate message is to write down
"about to send item i" durably *before* the request goes out, and the outcome after it.
Each item of each step has a state, keyed by ``(step, index)``:

    (absent)    pending    never started; a resumed run sends it
    in_flight              marked before the request; if a run dies here nobody knows whether
                           the service acted, so a resume reports it as ``unknown_outcome``
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

It also guards against the silent duplicate campaign: a new run over a journal that records
items sent, by a finished run or an unfinished one, is refused unless the user passes
``--restart`` (the refusal says what was sent, and when). Every hint that advises ``--resume``
goes through :func:`continue_hint` or :func:`refuse_resume`, which know where it cannot work.
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
from enum import Enum, StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.items import JsonObject
from plivo_node.core.redaction import redact_json_text
from plivo_node.core.words import counted
from plivo_node.run import json_input
from plivo_node.run.item_io import is_stdio

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


class ResumeBlocker(Enum):
    """Why ``--resume`` cannot work for a run: (the reason, how to make the run resumable)."""

    NO_JOURNAL = ("the run keeps no journal (--no-journal)", "drop --no-journal")
    STDIN_INPUT = (
        "the input is read from stdin, which a resume cannot check against the first run",
        "give the input as a file",
    )
    DRY_RUN = ("a dry run keeps no journal and sends nothing", "drop --dry-run")
    # Only for an earlier run's journal that this run would not open.
    OTHER_JOURNAL = ("this run keeps its journal elsewhere (--journal)", "drop --journal")

    @property
    def reason(self) -> str:
        return self.value[0]

    @property
    def fix(self) -> str:
        return self.value[1]


def refuse_resume(blocker: ResumeBlocker) -> ConfigurationError:
    """The error for ``--resume`` asked where it cannot work."""
    return ConfigurationError(
        f"--resume cannot work here: {blocker.reason}",
        hint=f"{blocker.fix} to make the run resumable",
    )


def continue_hint(blocker: ResumeBlocker | None) -> str:
    """How to go on after a run stopped with items sent: ``--resume`` only where it works."""
    if blocker is None:
        return (
            "the journal records every item sent: fix the cause, then run the same command "
            "with --resume (nothing is sent twice)"
        )
    return (
        f"this run cannot be resumed ({blocker.reason}): the output lists the items sent, "
        "and running the command again would send them again"
    )


def _earlier_run_hint(blocker: ResumeBlocker | None, *, finished: bool, same_run: bool) -> str:
    restart = "pass --restart to discard its journal and send every item again"
    if finished:
        return f"{restart}; a new campaign needs its own --output"
    if not same_run:
        return f"run that pipeline and input again with --resume to continue it, or {restart}"
    if blocker is None:
        return f"pass --resume to continue that run, or {restart}"
    return f"{blocker.fix} and pass --resume to continue that run, or {restart}"


@dataclass(frozen=True, slots=True)
class JournaledRun:
    """What a journal says about the run it holds: when, and what became of its items."""

    run_key: str
    started_at: float
    finished_at: float | None
    items: int  # of the first step
    succeeded: int  # of the first step
    failed: int  # of the first step
    may_have_sent: int  # items of any step not known to have failed: sent, or maybe sent
    sandbox: bool = False  # every item went to an embedded sandbox: nothing reached a service

    @property
    def blocks_new_run(self) -> bool:
        """Whether a new run over this one would send its items again.

        An unfinished run always does (a sandbox one too: its journal decides what a resume
        sends); a finished run only if it reached a service, so trying an example twice on the
        sandbox needs no flag.
        """
        return self.may_have_sent > 0 and (self.finished_at is None or not self.sandbox)

    def describe(self) -> str:
        """E.g. "started 2026-01-02 10:00:00 +0000, finished 2026-01-02 10:02:11 +0000:
        600 items, 598 succeeded, 2 failed"."""
        when = f"started {_local_time(self.started_at)}"
        if self.finished_at is not None:
            when += f", finished {_local_time(self.finished_at)}"
        unknown = self.items - self.succeeded - self.failed
        counts = f"{counted(self.items, 'item')}, {self.succeeded} succeeded, {self.failed} failed"
        if unknown:
            counts += f", {unknown} in flight or of unknown outcome"
        return f"{when}: {counts}"


def _local_time(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(timestamp))


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
    finished_at REAL,                                -- NULL while the run is unfinished
    sandbox     INTEGER NOT NULL DEFAULT 0           -- 1: every item went to an embedded sandbox
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
_DISCARD_STEPS = "DELETE FROM item WHERE step BETWEEN ? AND ?"

# Built once: json.dumps builds a new encoder on every call that passes options.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

_Row = tuple[int, int, str, str | None, str | None]


def journal_text(outputs: Sequence[JsonObject] | str) -> str:
    """An item's outputs as every journal stores them: a JSON list, redacted (the last guard,
    as for the output file). A str is the list already encoded (the runner encodes it once)."""
    encoded = outputs if isinstance(outputs, str) else _ENCODER.encode(list(outputs))
    return redact_json_text(encoded)


class ItemJournal(Protocol):
    """What the steps of a run use of a journal (:class:`StepJournal` reads and writes through
    it): :class:`RunJournal` in one process, a view of one that keeps several runs apart (as
    ``serve`` keeps its events), or a queue's shared journal of one chunk
    (:mod:`plivo_node.queue.journal`), which claims each send atomically across workers."""

    def records(self, step: int) -> dict[int, Record]: ...

    async def begin(
        self,
        step: int,
        indices: Sequence[int],
        fingerprints: Sequence[str | None] | None = None,
    ) -> None: ...

    def complete(
        self,
        step: int,
        index: int,
        state: ItemState | str,
        outputs: Sequence[JsonObject] | str,
        fingerprint: str | None = None,
    ) -> None: ...


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
        # Step ranges to forget in the next group commit, after its rows (discard_later).
        self._pending_discards: list[tuple[int, int]] = []
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
        blocker: ResumeBlocker | None = None,
        sandbox: bool = False,
        commit_interval: float = 0.002,
        max_batch: int = 512,
    ) -> RunJournal:
        """Open the journal at ``path`` for a new run, or to resume the run it holds.

        A new run refuses to overwrite a journal that records items sent, finished or not,
        unless ``restart``: they would be sent again. A resume needs the journal and the same
        ``run_key``. ``blocker`` says why this run could not be resumed, if it could not, so
        that no refusal advises ``--resume`` in vain; ``sandbox`` that this run's requests go
        to an embedded sandbox, not to a service. ``commit_interval`` (seconds) and
        ``max_batch`` (rows) bound each group commit.
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
            _prepare(
                connection,
                journal_path,
                run_key=run_key,
                resume=resume,
                restart=restart,
                blocker=blocker,
                sandbox=sandbox,
            )
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
        self._pending_rows.append((step, index, final.value, journal_text(outputs), fingerprint))
        self._schedule_flush()

    async def close(self, *, finished: bool = False) -> None:
        """Commit everything and close; ``finished`` marks the run complete.

        A journal that records items sent makes the next run choose ``--resume`` (unfinished)
        or ``--restart``. A failed write is raised again only when closing ``finished``: an
        unfinished close happens while the run is already stopping on an error, and must not
        hide that error behind this one (the rows it lost leave items in flight, which a
        resume reports as unknown, never sends twice).
        """
        if self._closed:
            return
        try:
            self._commit_pending()
            if finished:
                self._raise_failure()
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
            "SELECT step, idx, state, outputs, input FROM item WHERE step = ?", (step,)
        )
        return {row[1]: _decode_item(self.path, row) for row in cursor}

    def discard(self, first_step: int, last_step: int) -> None:
        """Forget the items of steps ``first_step`` to ``last_step`` (a finished part that will
        never be resumed), committed before this returns."""
        self._check_usable()
        self._commit_pending()
        with _write_errors(self.path):
            self._connection.execute(_DISCARD_STEPS, (first_step, last_step))

    def discard_later(self, first_step: int, last_step: int) -> None:
        """Forget the items of steps ``first_step`` to ``last_step`` in the next group commit.

        For a part that is finished and will never be read again (``serve`` discards each
        event's steps once the event is marked done): the caller does not wait, and many
        discards share one transaction. Lost by a crash, the rows stay behind unread.
        """
        self._check_usable()
        self._pending_discards.append((first_step, last_step))
        self._schedule_flush()

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
        discards, self._pending_discards = self._pending_discards, []
        waiters, self._waiters = self._waiters, []
        if not rows and not waiters and not discards:
            return
        if self._failure is None:
            try:
                with _write_errors(self.path):
                    self._write_rows(rows, discards)
            except ConfigurationError as error:
                self._failure = error
        for waiter in waiters:
            if waiter.done():
                continue  # the caller was cancelled; its marks were still written
            if self._failure is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(self._failure)

    def _write_rows(self, rows: list[_Row], discards: list[tuple[int, int]]) -> None:
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Rows go in arrival order, so a later outcome overwrites an earlier in_flight mark.
            connection.executemany(_UPSERT_ITEM, rows)
            # After the rows: a part is discarded only once nothing more is written to it.
            connection.executemany(_DISCARD_STEPS, discards)
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
            raise _in_use_error(path) from exc
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
    blocker: ResumeBlocker | None,
    sandbox: bool,
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
        if "sandbox" not in _run_columns(connection):  # a journal from before the column
            connection.execute("ALTER TABLE run ADD COLUMN sandbox INTEGER NOT NULL DEFAULT 0")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        run = _read_run(connection, path)
        if resume:
            _check_resumable(path, run, run_key)
            _check_items(connection, path)
            with _write_errors(path):
                # Unfinished again until this attempt ends well; a sandbox run resumed live
                # has reached the service.
                connection.execute(
                    "UPDATE run SET finished_at = NULL, sandbox = sandbox AND ? WHERE id = 1",
                    (sandbox,),
                )
            return
        if run is not None and run.blocks_new_run and not restart:
            raise earlier_run_error(path, run, same_run=run.run_key == run_key, blocker=blocker)
        with _write_errors(path):
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("DELETE FROM item")
            connection.execute("DELETE FROM run")
            connection.execute(
                "INSERT INTO run (id, run_key, started_at, sandbox) VALUES (1, ?, ?, ?)",
                (run_key, time.time(), sandbox),
            )
            connection.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise _not_a_journal(path, exc) from exc


_SELECT_RUN = "SELECT run_key, started_at, finished_at, sandbox FROM run"
_SELECT_OLD_RUN = "SELECT run_key, started_at, finished_at, 0 FROM run"


def _run_columns(connection: sqlite3.Connection) -> set[str]:
    return {row[1] for row in connection.execute("PRAGMA table_info(run)")}


def _read_run(connection: sqlite3.Connection, path: Path) -> JournaledRun | None:
    """The journal's run record with its item counts, checked; None if there is none."""
    # A journal from before the sandbox column counts as a run that reached a service.
    query = _SELECT_RUN if "sandbox" in _run_columns(connection) else _SELECT_OLD_RUN
    row = connection.execute(query).fetchone()
    if row is None:
        return None
    if not isinstance(row[0], str):
        raise _damaged(path, "the run record", "its run key is not text")
    if not _is_time(row[1]) or not (row[2] is None or _is_time(row[2])):
        raise _damaged(path, "the run record", "its start or finish time is not a time")
    counts = dict(
        connection.execute("SELECT state, COUNT(*) FROM item WHERE step = 0 GROUP BY state")
    )
    may_have_sent = connection.execute(
        "SELECT COUNT(*) FROM item WHERE state != ?", (ItemState.FAILED.value,)
    ).fetchone()[0]
    return JournaledRun(
        run_key=row[0],
        started_at=row[1],
        finished_at=row[2],
        items=sum(counts.values()),
        succeeded=counts.get(ItemState.DONE.value, 0),
        failed=counts.get(ItemState.FAILED.value, 0),
        may_have_sent=may_have_sent,
        sandbox=bool(row[3]),
    )


def read_journaled_run(path: Path) -> JournaledRun | None:
    """The run the journal at ``path`` holds, read without changing it; None if there is none.

    For a run that will not open that journal itself (``--no-journal``, another ``--journal``)
    but would write over the output it belongs to. A file that is not a journal holds no run.
    """
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(path, isolation_level=None, timeout=0.2)
    except sqlite3.Error:
        return None
    try:
        if connection.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            return None
        return _read_run(connection, path)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise _in_use_error(path) from exc
        return None
    except sqlite3.DatabaseError:
        return None
    finally:
        connection.close()


# --- reading back what was written ----------------------------------------------------------
# The journal is a file on disk: it can be damaged, edited, or written by another program. A
# resume acts on what it reads (replays outputs, skips sends), so every row is checked before
# the run starts and a damaged journal stops it with nothing sent.


def _damaged(path: Path, where: str, what: str) -> ConfigurationError:
    return ConfigurationError(
        f"the run journal {path} is damaged: {where}: {what}",
        hint="a resume cannot trust it; restore the journal from a copy, or pass --restart to "
        "discard it and start over, which sends again the items it recorded as sent: check "
        "the service's logs first",
    )


def _is_time(value: Any) -> bool:
    # Seconds since 1970, up to the year 5138: anything else cannot be shown as a date.
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1e11


def _check_items(connection: sqlite3.Connection, path: Path) -> None:
    """Every item row decodes (see :func:`_decode_item`), or the journal is damaged."""
    for row in connection.execute("SELECT step, idx, state, outputs, input FROM item"):
        _decode_item(path, row)


def _decode_item(path: Path, row: tuple[Any, ...]) -> Record:
    """One item row as a :class:`Record`, every field checked."""
    step, index, state, outputs, fingerprint = row
    if not _is_index(step) or not _is_index(index):
        raise _damaged(path, f"a row for step {step!r}, item {index!r}", "not an item position")
    where = f"step {step}, item {index}"
    if state not in _STATE_VALUES:
        raise _damaged(path, where, f"unknown state {_shown(state)}")
    if fingerprint is not None and not isinstance(fingerprint, str):
        raise _damaged(path, where, "its input fingerprint is not text")
    if outputs is None:
        return Record(ItemState(state), None, fingerprint)
    if not isinstance(outputs, str):
        raise _damaged(path, where, "its outputs are not text")
    try:
        decoded = json_input.decode(outputs, max_depth=_OUTPUTS_DEPTH)
    except ValueError as exc:  # JSONDecodeError and JsonValueError alike
        raise _damaged(path, where, f"its outputs are not valid JSON ({exc})") from None
    if not isinstance(decoded, list) or not all(_is_output_record(o) for o in decoded):
        raise _damaged(path, where, "its outputs are not a list of output items")
    return Record(ItemState(state), decoded, fingerprint)


_STATE_VALUES = frozenset(state.value for state in ItemState)
# An input item may be json_input.MAX_DEPTH deep; the outputs list, an output record and its
# error object wrap it in a few more levels.
_OUTPUTS_DEPTH = json_input.MAX_DEPTH + 8


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_output_record(value: Any) -> bool:
    """The shape the runner writes: {"json": {...}, "pairedItem": {"item": n}, ...}."""
    if not isinstance(value, dict) or not isinstance(value.get("json"), dict):
        return False
    paired = value.get("pairedItem")
    if not isinstance(paired, dict) or not _is_index(paired.get("item")):
        return False
    if "output" in value and not _is_index(value["output"]):
        return False
    return value.get("error") is None or isinstance(value["error"], dict)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _check_resumable(path: Path, run: JournaledRun | None, run_key: str) -> None:
    if run is None:
        raise ConfigurationError(
            f"the run journal {path} holds no run to resume",
            hint="run without --resume to start a new run",
        )
    if run.run_key != run_key:
        raise ConfigurationError(
            f"cannot resume from {path}: the pipeline or the input changed since that run "
            "started, so journaled items would no longer match",
            hint="restore the original pipeline and input to --resume, or pass --restart to "
            "discard the journal and send every item again",
        )


def earlier_run_error(
    path: Path, run: JournaledRun, *, same_run: bool, blocker: ResumeBlocker | None
) -> ConfigurationError:
    """The refusal of a new run over ``run``, whose items would be sent again."""
    state = "a finished" if run.finished_at is not None else "an unfinished"
    which = "" if same_run else " of another pipeline or input"
    return ConfigurationError(
        f"the run journal {path} records {state} run{which} ({run.describe()}); "
        "a new run would send its items again",
        hint=_earlier_run_hint(blocker, finished=run.finished_at is not None, same_run=same_run),
    )


def _in_use_error(path: Path) -> ConfigurationError:
    return ConfigurationError(
        f"the run journal {path} is in use by another plivo-node run",
        hint="wait for that run to end; two runs from one journal would send twice",
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
            "fix the journal and its directory",
        ) from exc


__all__ = [
    "JOURNAL_SUFFIX",
    "ItemJournal",
    "ItemState",
    "JournaledRun",
    "Record",
    "ResumeBlocker",
    "RunJournal",
    "compute_run_key",
    "continue_hint",
    "default_journal_path",
    "earlier_run_error",
    "read_journaled_run",
    "refuse_resume",
]
