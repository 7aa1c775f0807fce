"""plan_run: where a run writes, and what it refuses before anything is sent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from plivo_node.core.errors import ConfigurationError
from plivo_node.run.guards import RunPlan, RunRequest, plan_run
from plivo_node.run.journal import ItemState, ResumeBlocker, RunJournal


def request(tmp_path: Path, **changes: object) -> RunRequest:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text("version: 1\n")
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("phone\n+14155550101\n")
    fields: dict[str, object] = {
        "pipeline": pipeline,
        "run_key": "k",
        "input": contacts,
        "output": None,
        "pipeline_output": tmp_path / "out.jsonl",
        "journal": None,
        "no_journal": False,
        "dry_run": False,
        "resume": False,
        "restart": False,
    }
    fields.update(changes)
    return RunRequest(**fields)  # type: ignore[arg-type]


def refused(tmp_path: Path, **changes: object) -> str:
    with pytest.raises(ConfigurationError) as caught:
        plan_run(request(tmp_path, **changes))
    return str(caught.value)


def finished_journal(path: Path, run_key: str = "k") -> None:
    async def write() -> None:
        journal = RunJournal.open(path, run_key=run_key, resume=False)
        await journal.begin(0, [0])
        journal.complete(0, 0, ItemState.DONE, [])
        await journal.close(finished=True)

    asyncio.run(write())


def test_a_real_run_writes_the_pipelines_output_with_its_journal_beside_it(
    tmp_path: Path,
) -> None:
    plan = plan_run(request(tmp_path))
    assert plan == RunPlan(tmp_path / "out.jsonl", tmp_path / "out.jsonl.journal.sqlite", None)


def test_a_dry_run_writes_beside_the_real_output_and_keeps_no_journal(tmp_path: Path) -> None:
    plan = plan_run(request(tmp_path, dry_run=True))
    assert plan == RunPlan(tmp_path / "out.dry-run.jsonl", None, ResumeBlocker.DRY_RUN)
    stdout = plan_run(request(tmp_path, dry_run=True, pipeline_output=None))
    assert str(stdout.output) == "-"


@pytest.mark.parametrize(
    ("changes", "blocker"),
    [
        ({"no_journal": True}, ResumeBlocker.NO_JOURNAL),
        ({"input": Path("-")}, ResumeBlocker.STDIN_INPUT),
        ({"dry_run": True}, ResumeBlocker.DRY_RUN),
    ],
)
def test_resume_is_refused_where_it_cannot_work(
    tmp_path: Path, changes: dict[str, object], blocker: ResumeBlocker
) -> None:
    assert plan_run(request(tmp_path, **changes)).blocker is blocker
    message = refused(tmp_path, resume=True, **changes)
    assert f"--resume cannot work here: {blocker.reason}" in message


def test_contradictory_flags_are_refused(tmp_path: Path) -> None:
    assert "contradict" in refused(tmp_path, resume=True, restart=True)
    assert "contradict" in refused(tmp_path, no_journal=True, journal=tmp_path / "j.sqlite")


@pytest.mark.parametrize(
    ("output", "says"),
    [
        ("contacts.csv", "is the run's input"),
        ("p.yaml", "is the pipeline file"),
        ("j.sqlite", "is the run journal"),
        ("old.jsonl.journal.sqlite", "is a run journal"),
    ],
)
def test_an_output_that_would_destroy_another_file_is_refused(
    tmp_path: Path, output: str, says: str
) -> None:
    message = refused(tmp_path, output=tmp_path / output, journal=tmp_path / "j.sqlite")
    assert says in message


def test_a_journal_under_another_name_is_recognised_by_its_header(tmp_path: Path) -> None:
    finished_journal(tmp_path / "renamed.db")
    assert "is a run journal" in refused(tmp_path, output=tmp_path / "renamed.db")


def test_the_input_reached_through_a_symlink_is_still_the_input(tmp_path: Path) -> None:
    (tmp_path / "link.csv").symlink_to(tmp_path / "contacts.csv")
    # refused() writes contacts.csv before planning, so the link resolves.
    assert "is the run's input" in refused(tmp_path, output=tmp_path / "link.csv")


def test_a_dry_run_refuses_the_pipelines_output_even_without_a_journal(tmp_path: Path) -> None:
    message = refused(tmp_path, dry_run=True, output=tmp_path / "out.jsonl")
    assert "is the pipeline's output" in message
    assert "never writes over a real run's files" in message


def test_a_dry_run_refuses_a_file_with_a_journal_beside_it(tmp_path: Path) -> None:
    (tmp_path / "other.jsonl.journal.sqlite").write_bytes(b"")
    message = refused(tmp_path, dry_run=True, output=tmp_path / "other.jsonl")
    assert "is a real run's output" in message


def test_skipping_a_finished_runs_journal_is_refused_unless_restart(tmp_path: Path) -> None:
    finished_journal(tmp_path / "out.jsonl.journal.sqlite")
    message = refused(tmp_path, no_journal=True)
    assert "records a finished run" in message
    message = refused(tmp_path, journal=tmp_path / "elsewhere.sqlite")
    assert "records a finished run" in message
    plan_run(request(tmp_path, no_journal=True, restart=True))
    # Its own journal refuses for itself when opened, not here.
    plan_run(request(tmp_path))


def test_skipping_an_unfinished_runs_journal_says_how_to_resume_it(tmp_path: Path) -> None:
    async def unfinished() -> None:
        journal = RunJournal.open(tmp_path / "out.jsonl.journal.sqlite", run_key="k", resume=False)
        await journal.begin(0, [0, 1])
        await journal.close()

    asyncio.run(unfinished())
    message = refused(tmp_path, no_journal=True)
    assert "an unfinished run" in message
    assert "drop --no-journal and pass --resume" in message
