"""Where a run may write and whether it may start: decided before anything is sent.

One function, :func:`plan_run`, turns the command line into the run's output and journal
paths, and refuses (a :class:`ConfigurationError`: exit 2, nothing sent) what would send
something twice or destroy a file:

- ``--resume`` where it cannot work (no journal, stdin input, a dry run);
- an output that is the run's input, its pipeline, or a run journal;
- a new run that would skip the journal of an earlier run over the same output
  (``--no-journal``, or ``--journal`` elsewhere) while that journal records items sent;
- a dry run writing over a real run's output. A dry run never touches a real run's files: it
  writes to ``<output stem>.dry-run<suffix>`` next to the pipeline's output (or to stdout), and
  keeps no journal.

The journal itself refuses a new run over a run it records (see :mod:`plivo_node.run.journal`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plivo_node.core.errors import ConfigurationError
from plivo_node.run.item_io import STDIO_PATH, is_stdio
from plivo_node.run.journal import (
    JOURNAL_SUFFIX,
    ResumeBlocker,
    default_journal_path,
    earlier_run_error,
    read_journaled_run,
    refuse_resume,
)

DRY_RUN_TAG = ".dry-run"
_SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True)
class RunRequest:
    """What the command line and the pipeline ask of one run."""

    pipeline: Path
    run_key: str
    input: Path | None  # None: no input file (one empty item)
    output: Path | None  # --output
    pipeline_output: Path | None  # the pipeline's ``output``
    journal: Path | None  # --journal
    no_journal: bool
    dry_run: bool
    resume: bool
    restart: bool


@dataclass(frozen=True)
class RunPlan:
    """Where the run writes, and why it could not be resumed (None: it could)."""

    output: Path  # "-" is stdout
    journal: Path | None  # None: no journal is kept
    blocker: ResumeBlocker | None


def plan_run(request: RunRequest) -> RunPlan:
    """The run's files, or a :class:`ConfigurationError` saying why it must not start."""
    blocker = _resume_blocker(request)
    if request.resume and blocker is not None:
        raise refuse_resume(blocker)
    if request.resume and request.restart:
        raise ConfigurationError(
            "--resume and --restart contradict each other",
            hint="pass --resume to continue the journaled run, or --restart to discard it",
        )
    if request.no_journal and request.journal is not None:
        raise ConfigurationError(
            "--journal and --no-journal contradict each other", hint="pass one of them"
        )
    output = _output_path(request)
    journal = None
    if not (request.dry_run or request.no_journal):
        journal = request.journal or default_journal_path(output, request.pipeline)
    _check_output(output, request)
    if request.dry_run:
        _check_dry_run_output(output, request)
    elif not request.resume and not request.restart:
        _check_earlier_run(output, journal, request)
    return RunPlan(output, journal, blocker)


def _resume_blocker(request: RunRequest) -> ResumeBlocker | None:
    if request.dry_run:
        return ResumeBlocker.DRY_RUN
    if request.no_journal:
        return ResumeBlocker.NO_JOURNAL
    if request.input is not None and is_stdio(request.input):
        return ResumeBlocker.STDIN_INPUT
    return None


def _output_path(request: RunRequest) -> Path:
    if request.output is not None:
        return request.output
    if request.pipeline_output is None:
        return Path(STDIO_PATH)
    if not request.dry_run:
        return request.pipeline_output
    real = request.pipeline_output
    return real.with_name(f"{real.stem}{DRY_RUN_TAG}{real.suffix}")


def _check_output(output: Path, request: RunRequest) -> None:
    """The output file is opened for writing (emptied): it must be none of the run's others."""
    if is_stdio(output):
        return
    others = {
        "the run's input": request.input,
        "the pipeline file": request.pipeline,
        "the run journal": request.journal,
    }
    for what, other in others.items():
        if other is not None and not is_stdio(other) and _same_file(output, other):
            raise _output_error(output, f"is {what}: writing the output would destroy it")
    if output.name.endswith(JOURNAL_SUFFIX) or _starts_with(output, _SQLITE_HEADER):
        raise _output_error(output, "is a run journal: writing the output would destroy it")


def _check_dry_run_output(output: Path, request: RunRequest) -> None:
    if is_stdio(output):
        return
    real = request.pipeline_output
    beside = default_journal_path(output)
    if (real is not None and _same_file(output, real)) or beside.exists():
        reason = (
            f"is a real run's output (its journal is {beside})"
            if beside.exists()
            else ("is the pipeline's output")
        )
        raise _output_error(
            output,
            f"{reason}: a dry run never writes over a real run's files",
            hint="leave out --output (a dry run writes to <output>.dry-run.jsonl, or stdout "
            "when the pipeline names no output), or pass another file",
        )


def _check_earlier_run(output: Path, journal: Path | None, request: RunRequest) -> None:
    """Refuse a run that would pass by the journal of an earlier run over ``output``."""
    usual = default_journal_path(output, request.pipeline)
    if journal is not None and _same_file(journal, usual):
        return  # the run opens that journal, which refuses for itself
    run = read_journaled_run(usual)
    if run is None or not run.blocks_new_run:
        return
    blocker = ResumeBlocker.NO_JOURNAL if journal is None else ResumeBlocker.OTHER_JOURNAL
    raise earlier_run_error(usual, run, same_run=run.run_key == request.run_key, blocker=blocker)


def _output_error(output: Path, reason: str, *, hint: str | None = None) -> ConfigurationError:
    return ConfigurationError(
        f"the output {output} {reason}",
        hint=hint or "pass another --output file (or - for stdout)",
    )


def _same_file(one: Path, other: Path) -> bool:
    try:
        return one.samefile(other)
    except OSError:  # one of them does not exist yet: compare where they would be
        try:
            return one.resolve() == other.resolve()
        except (OSError, RuntimeError):
            return False


def _starts_with(path: Path, header: bytes) -> bool:
    if not path.is_file():  # never read a FIFO or a device: it could block
        return False
    try:
        with path.open("rb") as file:
            return file.read(len(header)) == header
    except OSError:
        return False
