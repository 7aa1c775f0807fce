"""The run journal: item states, group commit, durability across SIGKILL, run protection."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from plivo_node.core.errors import ConfigurationError
from plivo_node.run.journal import (
    ItemState,
    Record,
    ResumeBlocker,
    RunJournal,
    compute_run_key,
    continue_hint,
    default_journal_path,
    read_journaled_run,
    refuse_resume,
)


def out_item(index: int, **json: object) -> dict[str, object]:
    return {"json": dict(json), "pairedItem": {"item": index}}


def error_item(index: int, code: str) -> dict[str, object]:
    return {"json": {}, "pairedItem": {"item": index}, "error": {"message": "no", "code": code}}


def in_flight(journal: RunJournal, step: int) -> list[int]:
    """The indices of ``step`` still marked in flight, in order."""
    records = journal.records(step)
    return sorted(i for i, record in records.items() if record.state is ItemState.IN_FLIGHT)


def count_commits(journal: RunJournal) -> list[str]:
    """Every COMMIT the journal's connection executes from now on."""
    commits: list[str] = []

    def trace(statement: str) -> None:
        if statement.strip().upper() == "COMMIT":
            commits.append(statement)

    journal._connection.set_trace_callback(trace)
    return commits


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "out.jsonl.journal.sqlite"


# --- states ----------------------------------------------------------------------------------


async def test_states_round_trip_through_a_reopen(path: Path) -> None:
    journal = RunJournal.open(path, run_key="k", resume=False)
    await journal.begin(0, [0, 1, 2, 3])
    journal.complete(0, 0, ItemState.DONE, [out_item(0, id="a"), out_item(0, id="b")])
    journal.complete(0, 1, "failed", [error_item(1, "bad_request")])
    journal.complete(0, 2, ItemState.UNKNOWN, [error_item(2, "unknown_outcome")])
    journal.complete(1, 0, ItemState.DONE, [out_item(0, ok=True)])
    await journal.close()

    journal = RunJournal.open(path, run_key="k", resume=True)
    records = journal.records(0)
    assert records == {
        0: Record(ItemState.DONE, [out_item(0, id="a"), out_item(0, id="b")]),
        1: Record(ItemState.FAILED, [error_item(1, "bad_request")]),
        2: Record(ItemState.UNKNOWN, [error_item(2, "unknown_outcome")]),
        3: Record(ItemState.IN_FLIGHT, None),
    }
    assert journal.records(1) == {0: Record(ItemState.DONE, [out_item(0, ok=True)])}
    assert journal.records(2) == {}
    await journal.close()


async def test_a_retried_item_can_be_begun_again(path: Path) -> None:
    async with RunJournal.open(path, run_key="k", resume=False) as journal:
        journal.complete(0, 1, ItemState.UNKNOWN, [])
        await journal.begin(0, [1])
        assert in_flight(journal, 0) == [1]
        journal.complete(0, 1, ItemState.DONE, [out_item(1)])
        assert journal.records(0) == {1: Record(ItemState.DONE, [out_item(1)])}


async def test_complete_refuses_a_non_final_state(path: Path) -> None:
    async with RunJournal.open(path, run_key="k", resume=False) as journal:
        with pytest.raises(ValueError, match="in_flight"):
            journal.complete(0, 0, ItemState.IN_FLIGHT, [])
        with pytest.raises(ValueError, match="sent"):
            journal.complete(0, 0, "sent", [])


def test_synchronous_callers_commit_at_once(path: Path) -> None:
    journal = RunJournal.open(path, run_key="k", resume=False)
    commits = count_commits(journal)
    journal.complete(0, 0, ItemState.DONE, [out_item(0)])
    assert len(commits) == 1
    assert journal.records(0) == {0: Record(ItemState.DONE, [out_item(0)])}
    asyncio.run(journal.close())


# --- group commit ----------------------------------------------------------------------------


async def test_concurrent_begins_share_a_few_transactions(path: Path) -> None:
    async with RunJournal.open(path, run_key="k", resume=False, max_batch=512) as journal:
        commits = count_commits(journal)
        await asyncio.gather(*(journal.begin(0, [index]) for index in range(2000)))
        # 2,000 callers, batches of at most 512 rows: a handful of commits, not 2,000.
        assert 1 <= len(commits) <= 5
        assert len(in_flight(journal, 0)) == 2000


async def test_awaited_begins_one_after_another_each_commit(path: Path) -> None:
    # The counterpart of the test above: the counting sees every transaction.
    async with RunJournal.open(path, run_key="k", resume=False) as journal:
        commits = count_commits(journal)
        for index in range(5):
            await journal.begin(0, [index])
            assert len(commits) == index + 1


async def test_discards_later_share_the_next_group_commit_after_its_rows(path: Path) -> None:
    async with RunJournal.open(path, run_key="k", resume=False, commit_interval=0.001) as journal:
        commits = count_commits(journal)
        for part in range(100):  # parts of 10 steps, as serve keeps its events apart
            journal.complete(part * 10, 0, ItemState.DONE, [out_item(0)])
            journal.complete(part * 10 + 1, 0, ItemState.DONE, [out_item(0)])
            if part % 2 == 0:
                # Queued after its part's rows, in the same turn: those rows go too.
                journal.discard_later(part * 10, part * 10 + 9)
        assert commits == []  # nobody waited for the disk
        for _ in range(5000):  # bounded wait for the scheduled group commit
            if commits:
                break
            await asyncio.sleep(0.001)
        assert len(commits) == 1
        for part in range(100):
            kept = {} if part % 2 == 0 else {0: Record(ItemState.DONE, [out_item(0)])}
            assert journal.records(part * 10) == kept
            assert journal.records(part * 10 + 1) == kept


async def test_completes_do_not_wait_for_the_disk_but_commit_soon(path: Path) -> None:
    async with RunJournal.open(path, run_key="k", resume=False, commit_interval=0.001) as journal:
        commits = count_commits(journal)
        for index in range(300):
            journal.complete(0, index, ItemState.DONE, [out_item(index)])
        assert commits == []  # nobody waited for the disk
        for _ in range(5000):  # bounded wait for the scheduled group commit
            if commits:
                break
            await asyncio.sleep(0.001)
        assert len(commits) == 1
        records = journal.records(0)
        assert len(records) == 300
        assert {record.state for record in records.values()} == {ItemState.DONE}


async def test_a_full_batch_is_committed_without_waiting_for_the_interval(path: Path) -> None:
    # A one-hour interval: only the batch limit can have triggered the commit.
    journal = RunJournal.open(path, run_key="k", resume=False, commit_interval=3600, max_batch=8)
    commits = count_commits(journal)
    await asyncio.gather(*(journal.begin(0, [index]) for index in range(8)))
    assert len(commits) == 1
    await journal.close()


async def test_a_cancelled_begin_still_leaves_its_marks(path: Path) -> None:
    async with RunJournal.open(path, run_key="k", resume=False, commit_interval=3600) as journal:
        task = asyncio.create_task(journal.begin(0, [4]))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert in_flight(journal, 0) == [4]  # reading commits what is pending first


async def test_a_failed_write_fails_the_waiting_begin_and_later_calls(path: Path) -> None:
    journal = RunJournal.open(path, run_key="k", resume=False)
    journal._connection.close()  # every statement now fails, as on an unusable disk
    with pytest.raises(ConfigurationError, match="cannot write the run journal"):
        await journal.begin(0, [0])
    with pytest.raises(ConfigurationError, match="cannot write the run journal"):
        journal.complete(0, 0, ItemState.DONE, [])
    # Closing unfinished (the run is already stopping on that error) does not raise it again.
    await journal.close()
    with pytest.raises(RuntimeError, match="closed"):
        await journal.begin(0, [1])


async def test_a_failed_write_is_raised_again_by_a_finished_close(path: Path) -> None:
    journal = RunJournal.open(path, run_key="k", resume=False)
    journal._connection.close()
    with pytest.raises(ConfigurationError, match="cannot write the run journal"):
        await journal.begin(0, [0])
    # The run must not be recorded as finished with rows missing.
    with pytest.raises(ConfigurationError, match="cannot write the run journal"):
        await journal.close(finished=True)


# --- durability across a kill ----------------------------------------------------------------

_KILLED_RUN = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from plivo_node.run.journal import ItemState, RunJournal

    async def main() -> None:
        journal = RunJournal.open(sys.argv[1], run_key="k", resume=False)
        await journal.begin(0, [0])
        journal.complete(0, 0, ItemState.DONE, [{"json": {"id": "m0"}, "pairedItem": {"item": 0}}])
        await journal.begin(0, [1, 2])
        # The requests for items 1 and 2 would go out now; the process dies instead.
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
    """
)


def test_begin_marks_survive_a_sigkill(path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    # The killed run holds no lock any more, and its unfinished journal protects its items.
    with pytest.raises(ConfigurationError, match="--resume"):
        RunJournal.open(path, run_key="k", resume=False)
    journal = RunJournal.open(path, run_key="k", resume=True)
    try:
        assert in_flight(journal, 0) == [1, 2]
        assert journal.records(0)[0] == Record(
            ItemState.DONE, [{"json": {"id": "m0"}, "pairedItem": {"item": 0}}]
        )
    finally:
        asyncio.run(journal.close())


# --- run protection --------------------------------------------------------------------------


async def test_new_run_refuses_an_unfinished_journal(path: Path) -> None:
    journal = RunJournal.open(path, run_key="k", resume=False)
    await journal.begin(0, [0, 1])
    await journal.close(finished=False)
    with pytest.raises(ConfigurationError) as caught:
        RunJournal.open(path, run_key="k", resume=False)
    message = str(caught.value)
    assert "unfinished run" in message
    assert "2 items" in message
    assert "--resume" in message
    assert "--restart" in message


async def test_restart_discards_an_unfinished_run(path: Path) -> None:
    journal = RunJournal.open(path, run_key="old", resume=False)
    await journal.begin(0, [0, 1])
    await journal.close()
    async with RunJournal.open(path, run_key="new", resume=False, restart=True) as journal:
        assert journal.records(0) == {}
    # The restarted run is now the journal's run.
    RunJournal.open(path, run_key="new", resume=True)._connection.close()


async def finished_run(path: Path, run_key: str = "k") -> None:
    """A finished run of three items: two succeeded, one failed."""
    journal = RunJournal.open(path, run_key=run_key, resume=False)
    await journal.begin(0, [0, 1, 2])
    journal.complete(0, 0, ItemState.DONE, [out_item(0)])
    journal.complete(0, 1, ItemState.DONE, [out_item(1)])
    journal.complete(0, 2, ItemState.FAILED, [])
    await journal.close(finished=True)


async def test_a_new_run_over_a_finished_run_is_refused_and_says_what_was_sent(
    path: Path,
) -> None:
    await finished_run(path)
    with pytest.raises(ConfigurationError) as caught:
        RunJournal.open(path, run_key="k", resume=False)
    message = str(caught.value)
    assert "records a finished run (started " in message
    assert ", finished " in message
    assert "3 items, 2 succeeded, 1 failed" in message
    assert "--restart" in message
    assert "--resume" not in message  # a finished run has nothing left to continue
    # The refusal changed nothing: the journal still holds that run.
    run = read_journaled_run(path)
    assert run is not None
    assert (run.items, run.succeeded, run.failed, run.may_have_sent) == (3, 2, 1, 2)
    assert run.finished_at is not None


async def test_a_finished_run_of_another_pipeline_is_refused_too(path: Path) -> None:
    await finished_run(path, run_key="campaign-a")
    with pytest.raises(ConfigurationError, match="finished run of another pipeline or input"):
        RunJournal.open(path, run_key="campaign-b", resume=False)


async def test_restart_replaces_a_finished_run(path: Path) -> None:
    await finished_run(path)
    async with RunJournal.open(path, run_key="k", resume=False, restart=True) as journal:
        assert journal.records(0) == {}


async def test_a_finished_sandbox_run_is_replaced_but_not_an_unfinished_one(path: Path) -> None:
    journal = RunJournal.open(path, run_key="k", resume=False, sandbox=True)
    await journal.begin(0, [0])
    journal.complete(0, 0, ItemState.DONE, [out_item(0)])
    await journal.close(finished=True)
    # Nothing of it reached Plivo: a new run, even a live one, sends nothing twice.
    journal = RunJournal.open(path, run_key="k", resume=False)
    await journal.begin(0, [0])
    await journal.close()
    with pytest.raises(ConfigurationError, match="unfinished run"):
        RunJournal.open(path, run_key="k", resume=False, sandbox=True)


async def test_a_sandbox_run_resumed_live_counts_as_reaching_plivo(path: Path) -> None:
    journal = RunJournal.open(path, run_key="k", resume=False, sandbox=True)
    await journal.begin(0, [0])
    await journal.close()
    async with RunJournal.open(path, run_key="k", resume=True) as journal:
        journal.complete(0, 0, ItemState.DONE, [out_item(0)])
    run = read_journaled_run(path)
    assert run is not None
    assert not run.sandbox


def test_a_journal_from_before_the_sandbox_column_counts_as_live(path: Path) -> None:
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE run (id INTEGER PRIMARY KEY, run_key TEXT NOT NULL, "
        "started_at REAL NOT NULL, finished_at REAL);"
        "CREATE TABLE item (step INTEGER NOT NULL, idx INTEGER NOT NULL, state TEXT NOT NULL, "
        "outputs TEXT, input TEXT, PRIMARY KEY (step, idx)) WITHOUT ROWID;"
        "INSERT INTO run VALUES (1, 'k', 1.0, 2.0);"
        "INSERT INTO item VALUES (0, 0, 'done', '[]', NULL);"
        "PRAGMA user_version = 1;"
    )
    old.close()
    run = read_journaled_run(path)
    assert run is not None
    assert (run.sandbox, run.blocks_new_run) == (False, True)
    with pytest.raises(ConfigurationError, match="records a finished run"):
        RunJournal.open(path, run_key="k", resume=False)
    RunJournal.open(path, run_key="k", resume=True)._connection.close()  # and it still resumes


async def test_a_run_whose_items_all_failed_is_replaced_without_restart(path: Path) -> None:
    journal = RunJournal.open(path, run_key="k", resume=False)
    journal.complete(0, 0, ItemState.FAILED, [])
    await journal.close(finished=True)
    async with RunJournal.open(path, run_key="k", resume=False) as journal:
        assert journal.records(0) == {}


async def test_an_unfinished_run_refusal_advises_resume_only_where_it_works(path: Path) -> None:
    journal = RunJournal.open(path, run_key="k", resume=False)
    await journal.begin(0, [0])
    await journal.close()
    with pytest.raises(ConfigurationError) as caught:
        RunJournal.open(path, run_key="k", resume=False, blocker=ResumeBlocker.STDIN_INPUT)
    assert "give the input as a file and pass --resume" in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        RunJournal.open(path, run_key="other", resume=False)
    assert "run that pipeline and input again with --resume" in str(caught.value)


def test_reading_a_journaled_run_changes_nothing_and_ignores_other_files(path: Path) -> None:
    assert read_journaled_run(path) is None
    assert not path.exists()  # reading did not create it
    path.write_text("name,phone\n")
    assert read_journaled_run(path) is None


def test_continue_hint_names_resume_only_for_a_resumable_run() -> None:
    assert "--resume" in continue_hint(None)
    for blocker in ResumeBlocker:
        hint = continue_hint(blocker)
        assert "--resume" not in hint
        assert blocker.reason in hint
        assert "--resume cannot work here" in str(refuse_resume(blocker))


async def test_an_unfinished_run_that_marked_nothing_is_replaced(path: Path) -> None:
    await RunJournal.open(path, run_key="k", resume=False).close()
    async with RunJournal.open(path, run_key="k2", resume=False) as journal:
        assert journal.records(0) == {}


async def test_resuming_a_finished_run_makes_it_unfinished_until_it_ends(path: Path) -> None:
    journal = RunJournal.open(path, run_key="k", resume=False)
    await journal.begin(0, [0])
    await journal.close(finished=True)
    await RunJournal.open(path, run_key="k", resume=True).close(finished=False)
    with pytest.raises(ConfigurationError, match="unfinished run"):
        RunJournal.open(path, run_key="k", resume=False)


async def test_resume_with_another_run_key_is_refused(path: Path) -> None:
    journal = RunJournal.open(path, run_key="pipeline-v1", resume=False)
    await journal.begin(0, [0])
    await journal.close()
    with pytest.raises(ConfigurationError, match="pipeline or the input changed") as caught:
        RunJournal.open(path, run_key="pipeline-v2", resume=True)
    assert "--restart" in str(caught.value)


def test_resume_without_a_journal_is_refused(path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no run journal at"):
        RunJournal.open(path, run_key="k", resume=True)
    assert not path.exists()


def test_resume_and_restart_together_are_refused(path: Path) -> None:
    with pytest.raises(ConfigurationError, match="contradict"):
        RunJournal.open(path, run_key="k", resume=True, restart=True)


async def test_a_journal_in_use_cannot_be_opened_twice(path: Path) -> None:
    async with RunJournal.open(path, run_key="k", resume=False):
        with pytest.raises(ConfigurationError, match="in use by another"):
            RunJournal.open(path, run_key="k", resume=True)


def test_a_file_that_is_not_a_journal_is_refused(path: Path) -> None:
    path.write_bytes(b"this is not sqlite at all, just some text" * 100)
    with pytest.raises(ConfigurationError, match="not a plivo-node run journal"):
        RunJournal.open(path, run_key="k", resume=False)


@pytest.mark.parametrize("where", ["a-file/run.journal.sqlite", "a-directory"])
def test_an_unusable_journal_path_is_a_clear_error(tmp_path: Path, where: str) -> None:
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-directory").mkdir()
    with pytest.raises(ConfigurationError, match="cannot create the run journal") as caught:
        RunJournal.open(tmp_path / where, run_key="k", resume=False)
    assert "--no-journal" in (caught.value.hint or "")


def test_a_sqlite_file_of_another_kind_is_refused(path: Path) -> None:
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE notes (body TEXT)")
    other.commit()
    other.close()
    with pytest.raises(ConfigurationError, match="not a plivo-node run journal"):
        RunJournal.open(path, run_key="k", resume=False)


async def test_use_after_close_is_an_error(path: Path) -> None:
    journal = RunJournal.open(path, run_key="k", resume=False)
    await journal.close()
    await journal.close()  # harmless
    with pytest.raises(RuntimeError, match="closed"):
        journal.records(0)


# --- paths and keys --------------------------------------------------------------------------


def test_default_journal_path_sits_next_to_the_output(tmp_path: Path) -> None:
    assert default_journal_path(tmp_path / "out.jsonl") == tmp_path / "out.jsonl.journal.sqlite"
    assert default_journal_path("-", "pipes/sms.yaml", cwd=tmp_path) == (
        tmp_path / ".plivo-node" / "sms.journal.sqlite"
    )


async def test_journal_for_stdout_creates_its_directory(tmp_path: Path) -> None:
    path = default_journal_path("-", "sms.yaml", cwd=tmp_path)
    await RunJournal.open(path, run_key="k", resume=False).close()
    assert path.is_file()


def test_run_key_follows_pipeline_and_input(tmp_path: Path) -> None:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("to\n+1\n")
    key = compute_run_key("steps: []", contacts)
    assert key == compute_run_key("steps: []", contacts)
    assert key != compute_run_key("steps: [x]", contacts)
    assert key != compute_run_key("steps: []", tmp_path / "other.csv")
    # The content is checked item by item (fingerprints), not as a whole: a fix to a row the
    # interrupted run never reached must not block the resume.
    contacts.write_text("to\n+2\n")
    assert key == compute_run_key("steps: []", contacts)


# --- a damaged journal -----------------------------------------------------------------------


async def journal_with_two_items(path: Path) -> None:
    journal = RunJournal.open(path, run_key="k", resume=False)
    await journal.begin(0, [0, 1])
    journal.complete(0, 0, ItemState.DONE, [out_item(0, id="a")])
    journal.complete(0, 1, ItemState.FAILED, [error_item(1, "bad_request")])
    await journal.close()


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        ("UPDATE item SET outputs = 'not json' WHERE idx = 1", "item 1: its outputs are not valid"),
        ("UPDATE item SET outputs = '[1, 2]' WHERE idx = 0", "item 0: its outputs are not a list"),
        ("UPDATE item SET outputs = '[{\"json\": {}}]'", "item 0: its outputs are not a list"),
        ("UPDATE item SET outputs = '[NaN]' WHERE idx = 0", "NaN is not a JSON value"),
        ("UPDATE item SET outputs = X'00' WHERE idx = 0", "item 0: its outputs are not text"),
        ("UPDATE item SET state = 'sent' WHERE idx = 1", "item 1: unknown state 'sent'"),
        ("UPDATE item SET idx = 'one' WHERE idx = 1", "item 'one': not an item position"),
        (
            "UPDATE item SET input = X'07' WHERE idx = 0",
            "item 0: its input fingerprint is not text",
        ),
        ("UPDATE run SET started_at = 'noon'", "the run record: its start or finish time"),
        ("UPDATE run SET run_key = X'6b'", "the run record: its run key is not text"),
    ],
)
async def test_a_damaged_row_stops_a_resume_before_anything_runs(
    path: Path, damage: str, problem: str
) -> None:
    await journal_with_two_items(path)
    with sqlite3.connect(path) as connection:
        connection.execute(damage)
    connection.close()
    with pytest.raises(ConfigurationError) as caught:
        RunJournal.open(path, run_key="k", resume=True)
    message = str(caught.value)
    assert f"the run journal {path} is damaged" in message
    assert problem in message
    assert "--restart" in message


async def test_a_damaged_run_record_is_reported_to_a_new_run_too(path: Path) -> None:
    await journal_with_two_items(path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE run SET started_at = 1e300, finished_at = NULL")
    connection.close()
    with pytest.raises(ConfigurationError, match="is damaged: the run record"):
        RunJournal.open(path, run_key="k", resume=False)


async def test_deep_outputs_of_an_item_at_the_input_bound_resume(path: Path) -> None:
    deep: object = "leaf"
    for _ in range(99):  # as deep as an input item may be
        deep = [deep]
    journal = RunJournal.open(path, run_key="k", resume=False)
    await journal.begin(0, [0])
    journal.complete(0, 0, ItemState.DONE, [out_item(0, deep=deep)])
    await journal.close()
    journal = RunJournal.open(path, run_key="k", resume=True)
    assert journal.records(0)[0].outputs == [out_item(0, deep=deep)]
    await journal.close()
