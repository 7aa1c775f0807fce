"""Nothing is sent after a stop, and a stopped run's outcomes are honest (issue 7, 1 and 2).

Two kinds of stop, through the CLI against a sandbox the test owns:

- ``onError: stopWorkflow``: after the first failing item or bulk group, no request starts,
  neither a later group already prepared nor an item waiting in the rate limiter.
- SIGINT / SIGTERM: nothing new starts, requests being written finish and are recorded, the
  run prints one line on how to go on and exits 130 / 143; ``--resume`` then sends every
  other item exactly once and reports no item as ``unknown_outcome``. A second signal stops
  at once: items in flight stay in flight and a resume reports them as unknown, never resent.

Signals are sent once the sandbox has accepted a given number of messages (polled, not
timed), while the client's rate limiter or pacer holds the next items back.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from plivo_sandbox import Sandbox, SandboxConfig
from tests.adversarial.conftest import AUTH_ID, AUTH_TOKEN, Adversary, CliRun, assert_no_traceback

MAGIC_400 = "+13075550400"  # the sandbox answers 400 and sends nothing
MAGIC_SLOW = "+13075550999"  # the sandbox sends, then answers after slow_seconds
WAIT_LIMIT = 60.0  # seconds: a bound on polling, never an assertion on speed


def phones(count: int, start: int = 0) -> list[str]:
    return [f"+1415555{n:04d}" for n in range(1000 + start, 1000 + start + count)]


def pipeline(
    *,
    bulk: bool = False,
    on_error: str = "continueRegularOutput",
    settings: str = "rateLimit: false, concurrency: 10",
    message: str = "=Hi {{ $json.name }}",
    output: str = "out.jsonl",
    extra_step: str = "",
) -> str:
    return f"""
version: 1
input: contacts.csv
output: {output}
settings: {{{settings}}}
steps:
  - name: Send
    node: plivo
    bulk: {"true" if bulk else "false"}
    onError: {on_error}
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{{{ $json.phone }}}}"
      message: "{message}"
{extra_step}"""


def contacts(rows: Sequence[tuple[str, str]]) -> str:
    return "name,phone\n" + "".join(f"{name},{phone}\n" for name, phone in rows)


@pytest.fixture
async def slow_adversary(tmp_path: Path) -> AsyncIterator[Adversary]:
    """A sandbox that answers every request after 40 ms, and its magic slow number in 0.4 s."""
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN, latency_ms=40, slow_seconds=0.4)
    async with Sandbox(config) as sandbox:
        yield Adversary(tmp_path, sandbox)


def message_posts(adversary: Adversary) -> list[str]:
    """The ``dst`` of every POST Message/ that reached the sandbox, in arrival order."""
    assert adversary.sandbox is not None
    return [
        str((r.body or {}).get("dst"))
        for r in adversary.sandbox.state.request_log
        if r.method == "POST" and r.path.endswith("/Message/")
    ]


def output(adversary: Adversary, name: str = "out.jsonl") -> list[dict]:
    path = adversary.root / name
    return [json.loads(line) for line in path.read_text().splitlines()]


def journal_states(adversary: Adversary, name: str = "out.jsonl") -> dict[int, str]:
    """Step 0's journaled items: index → state."""
    path = adversary.root / f"{name}.journal.sqlite"
    connection = sqlite3.connect(path)
    try:  # closed at once: an open reader would lock the journal against the resume
        rows = connection.execute("SELECT idx, state FROM item WHERE step = 0").fetchall()
    finally:
        connection.close()
    return {int(index): str(state) for index, state in rows}


def stop_lines(run: CliRun) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("plivo-node: stopped")]


def error_codes(items: list[dict]) -> list[str]:
    return [i["error"]["code"] for i in items if "error" in i]


async def signalled_run(
    adversary: Adversary,
    *args: str,
    after_messages: int,
    signals: Sequence[signal.Signals] = (signal.SIGINT,),
    stdin: bytes | None = None,
) -> CliRun:
    """Start ``plivo-node ARGS``; once the sandbox accepted that many messages, send ``signals``."""
    process = await adversary.start(*args, stdin=stdin)
    if stdin is not None:
        assert process.stdin is not None
        process.stdin.write(stdin)
        await process.stdin.drain()
        process.stdin.close()
    async with asyncio.timeout(WAIT_LIMIT):
        while adversary.messages_sent() < after_messages:  # noqa: ASYNC110 - another process's effect
            await asyncio.sleep(0.005)
    for signum in signals:
        process.send_signal(signum)
    run = await adversary.finish(process, args)
    assert_no_traceback(run)
    return run


def assert_consistent_after_a_graceful_stop(adversary: Adversary, sent: list[str]) -> None:
    """Output and journal hold the same finished items, none left in flight, each sent once."""
    items = output(adversary)
    states = journal_states(adversary)
    assert "in_flight" not in states.values(), "a graceful stop left an item in flight"
    assert sorted(i["pairedItem"]["item"] for i in items) == sorted(states)
    assert all(state == "done" for state in states.values())
    assert len(items) == len(sent), "every item sent is reported, nothing else"
    adversary.assert_sent_at_most_once()


# --- stopWorkflow: nothing starts after the first failure --------------------------------


async def test_bulk_stop_workflow_sends_no_group_after_the_failing_one(
    adversary: Adversary,
) -> None:
    # One request at a time; the second group holds a number the server refuses (400).
    rows = [(f"g{k}", p) for k in range(6) for p in phones(3, start=10 * k)]
    rows[4] = ("g1", MAGIC_400)
    adversary.write("contacts.csv", contacts(rows))
    text = "=Hi {{ $json.name }}"
    spec = adversary.write(
        "p.yaml",
        pipeline(
            bulk=True,
            on_error="stopWorkflow",
            settings="rateLimit: false, concurrency: 1",
            message=text,
        ),
    )
    run = await adversary.run("run", str(spec), "--no-progress")
    assert run.code == 1, run
    assert "stopped at item 3" in run.stderr
    posts = message_posts(adversary)
    assert len(posts) == 2, f"requests after the failing group: {posts[2:]}"
    assert adversary.messages_sent() == 3
    adversary.assert_clean(run)


async def test_bulk_stop_workflow_starts_no_group_while_others_are_in_flight(
    slow_adversary: Adversary,
) -> None:
    # Four requests at a time: the first group fails at once while the next three are held
    # by the server; the twelve groups after them must never be sent.
    adversary = slow_adversary
    rows = [(f"g{k}", p) for k in range(16) for p in phones(3, start=10 * k)]
    rows[0] = ("g0", MAGIC_400)
    for k in (1, 2, 3):
        rows[3 * k] = (f"g{k}", MAGIC_SLOW)
    adversary.write("contacts.csv", contacts(rows))
    spec = adversary.write(
        "p.yaml",
        pipeline(bulk=True, on_error="stopWorkflow", settings="rateLimit: false, concurrency: 4"),
    )
    run = await adversary.run("run", str(spec), "--no-progress")
    assert run.code == 1, run
    posts = message_posts(adversary)
    assert len(posts) == 4, f"{len(posts) - 4} group request(s) started after the failure"
    items = output(adversary)
    assert sorted(i["pairedItem"]["item"] for i in items) == list(range(12))
    counts = adversary.sandbox.state.destination_counts  # type: ignore[union-attr]
    assert counts.pop(MAGIC_SLOW.lstrip("+")) == 3  # once in each of the three slow groups
    assert set(counts.values()) == {1}


async def test_bulk_stop_workflow_on_a_row_that_fails_its_checks_sends_nothing_after_it(
    adversary: Adversary,
) -> None:
    rows = [("a", p) for p in phones(3)] + [("b", "12345")]
    rows += [(f"c{k}", p) for k in range(5) for p in phones(2, start=100 + 10 * k)]
    adversary.write("contacts.csv", contacts(rows))
    spec = adversary.write(
        "p.yaml",
        pipeline(bulk=True, on_error="stopWorkflow", settings="rateLimit: false, concurrency: 1"),
    )
    run = await adversary.run("run", str(spec), "--no-progress")
    assert run.code == 1, run
    assert "stopped at item 3" in run.stderr
    assert len(message_posts(adversary)) == 1
    assert adversary.messages_sent() == 3
    codes = error_codes(output(adversary))
    assert codes == ["invalid_parameter"]


async def test_stop_workflow_abandons_items_waiting_in_the_rate_limiter(
    slow_adversary: Adversary,
) -> None:
    # Three requests per second: the credentials check and items 0-1 go at once (item 0 fails),
    # the others are waiting for the limiter when the failure comes back. None of them may be sent.
    adversary = slow_adversary
    rows = [("x", MAGIC_400), *(("y", p) for p in phones(19))]
    adversary.write("contacts.csv", contacts(rows))
    spec = adversary.write(
        "p.yaml",
        pipeline(
            on_error="stopWorkflow",
            settings="rateLimit: {requests: 3, perSeconds: 1}, concurrency: 10",
        ),
    )
    run = await adversary.run("run", str(spec), "--no-progress")
    assert run.code == 1, run
    # The first second's three requests: the credentials check (a GET) and two sends.
    sent = len(message_posts(adversary))
    assert sent == 2
    states = journal_states(adversary)
    assert set(states) == set(range(sent)), "items that never sent were marked in the journal"
    assert "in_flight" not in states.values()


async def test_per_item_stop_workflow_sends_nothing_after_the_failing_item(
    slow_adversary: Adversary,
) -> None:
    adversary = slow_adversary
    rows = [("x", MAGIC_400), ("y", MAGIC_SLOW), *(("z", p) for p in phones(30))]
    adversary.write("contacts.csv", contacts(rows))
    spec = adversary.write(
        "p.yaml", pipeline(on_error="stopWorkflow", settings="rateLimit: false, concurrency: 2")
    )
    run = await adversary.run("run", str(spec), "--no-progress")
    assert run.code == 1, run
    assert len(message_posts(adversary)) == 2
    assert [i["pairedItem"]["item"] for i in output(adversary)] == [0, 1]


# --- SIGINT / SIGTERM -------------------------------------------------------------------------

LIMITED = "rateLimit: {requests: 10, perSeconds: 0.25}, concurrency: 10, timeoutSeconds: 5"


async def _stop_then_resume(
    adversary: Adversary,
    signum: signal.Signals,
    *,
    bulk: bool = False,
    settings: str = LIMITED,
) -> tuple[CliRun, CliRun]:
    numbers = phones(60)
    group = 3 if bulk else 1  # rows sharing a name share a text, so a bulk request
    rows = [(f"c{i // group}", p) for i, p in enumerate(numbers)]
    adversary.write("contacts.csv", contacts(rows))
    spec = adversary.write("p.yaml", pipeline(bulk=bulk, settings=settings))
    first = await signalled_run(
        adversary, "run", str(spec), "--no-progress", after_messages=10, signals=(signum,)
    )
    assert first.code == 128 + signum, first
    lines = stop_lines(first)
    assert len(lines) == 1, first.stderr
    assert f"stopped by {signum.name}" in lines[0]
    assert "run again with --resume" in lines[0]
    sent_before = [m["dst"] for m in adversary.sandbox.state.messages]  # type: ignore[union-attr]
    assert 10 <= len(sent_before) < len(numbers), "the signal came too late to prove anything"
    assert_consistent_after_a_graceful_stop(adversary, sent_before)

    second = await adversary.run("run", str(spec), "--resume", "--no-progress")
    assert second.code == 0, second
    items = output(adversary)
    assert [i["pairedItem"]["item"] for i in items] == list(range(len(numbers)))
    assert error_codes(items) == [], "a resume after a graceful stop must know every outcome"
    assert sorted(adversary.sandbox.state.destination_counts.values()) == [1] * len(numbers)  # type: ignore[union-attr]
    adversary.assert_clean(first, second)
    return first, second


@pytest.mark.slow
async def test_sigint_stops_gracefully_and_resume_sends_the_rest_once(
    slow_adversary: Adversary,
) -> None:
    await _stop_then_resume(slow_adversary, signal.SIGINT)


@pytest.mark.slow
async def test_sigterm_prints_its_line_and_resume_sends_the_rest_once(
    slow_adversary: Adversary,
) -> None:
    first, _ = await _stop_then_resume(slow_adversary, signal.SIGTERM)
    assert "run stopped in" in first.stderr  # the summary says it stopped, not "finished"


@pytest.mark.slow
async def test_a_signal_while_bulk_groups_wait_for_the_limiter(slow_adversary: Adversary) -> None:
    # Groups of three rows (one text each): the limiter holds groups back as it holds items.
    await _stop_then_resume(slow_adversary, signal.SIGINT, bulk=True)


@pytest.mark.slow
async def test_a_signal_while_items_wait_in_the_per_sender_pacer(
    slow_adversary: Adversary,
) -> None:
    # No request-rate limit, but one sender paced at 20 messages per second: the items the
    # pacer holds back at the signal were never sent and must not be reported unknown.
    await _stop_then_resume(
        slow_adversary,
        signal.SIGINT,
        settings="rateLimit: false, concurrency: 10, messagesPerSecond: 20",
    )


@pytest.mark.slow
async def test_a_second_signal_stops_at_once_and_nothing_is_sent_twice(
    tmp_path: Path,
) -> None:
    # Requests take 1.5 s: the two signals arrive while ten are in flight. Those stay in
    # flight in the journal, so the resume reports them unknown rather than sending again.
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN, latency_ms=1500)
    async with Sandbox(config) as sandbox:
        adversary = Adversary(tmp_path, sandbox)
        numbers = phones(40)
        adversary.write("contacts.csv", contacts([(f"c{i}", p) for i, p in enumerate(numbers)]))
        spec = adversary.write(
            "p.yaml", pipeline(settings="rateLimit: false, concurrency: 10, timeoutSeconds: 10")
        )
        process = await adversary.start("run", str(spec), "--no-progress")
        async with asyncio.timeout(WAIT_LIMIT):
            while len(sandbox.state.request_log) < 10:  # noqa: ASYNC110 - another process's effect
                await asyncio.sleep(0.005)
        process.send_signal(signal.SIGINT)
        await asyncio.sleep(0.05)  # not an assertion: lets the first signal be handled alone
        process.send_signal(signal.SIGINT)
        first = await adversary.finish(process, ("run",))
        assert_no_traceback(first)
        assert first.code == 130, first
        lines = stop_lines(first)
        assert len(lines) == 1, first.stderr
        assert "at once by a second SIGINT" in lines[0]
        assert "--resume" in lines[0]
        states = journal_states(adversary)
        in_flight = [i for i, state in states.items() if state == "in_flight"]
        assert len(in_flight) == 10, states  # the ten requests the server was holding

        second = await adversary.run("run", str(spec), "--resume", "--no-progress")
        items = output(adversary)
        assert [i["pairedItem"]["item"] for i in items] == list(range(len(numbers)))
        unknown = [i["pairedItem"]["item"] for i in items if "error" in i]
        assert sorted(unknown) == sorted(in_flight)
        assert error_codes(items) == ["unknown_outcome"] * len(in_flight)
        assert second.code == 1, second
        adversary.assert_sent_at_most_once()
        for index in set(range(len(numbers))) - set(unknown):
            assert sandbox.state.count_for(numbers[index]) == 1
        adversary.assert_clean(first, second)


@pytest.mark.slow
async def test_a_signal_on_stdin_input_does_not_advise_resume(slow_adversary: Adversary) -> None:
    adversary = slow_adversary
    numbers = phones(60)
    data = contacts([(f"c{i}", p) for i, p in enumerate(numbers)]).encode()
    spec = adversary.write("p.yaml", pipeline(settings=LIMITED))
    run = await signalled_run(
        adversary,
        "run",
        str(spec),
        "--input",
        "-",
        "--input-format",
        "csv",
        "--no-progress",
        after_messages=10,
        stdin=data,
    )
    assert run.code == 130, run
    lines = stop_lines(run)
    assert len(lines) == 1, run.stderr
    assert "--resume" not in run.stderr
    assert "stdin" in lines[0]
    adversary.assert_sent_at_most_once()


@pytest.mark.slow
async def test_sigterm_without_a_journal_does_not_advise_resume(
    slow_adversary: Adversary,
) -> None:
    adversary = slow_adversary
    numbers = phones(60)
    adversary.write("contacts.csv", contacts([(f"c{i}", p) for i, p in enumerate(numbers)]))
    spec = adversary.write("p.yaml", pipeline(settings=LIMITED))
    run = await signalled_run(
        adversary,
        "run",
        str(spec),
        "--no-journal",
        "--no-progress",
        after_messages=10,
        signals=(signal.SIGTERM,),
    )
    assert run.code == 143, run
    lines = stop_lines(run)
    assert len(lines) == 1, run.stderr
    assert "--resume" not in run.stderr
    assert "no journal" in lines[0]
    # What was sent is all in the output: the user can tell what is left.
    sent = {m["dst"] for m in adversary.sandbox.state.messages}  # type: ignore[union-attr]
    assert {i["json"]["to"].lstrip("+") for i in output(adversary)} == sent


@pytest.mark.slow
async def test_a_resumed_run_stopped_again_then_resumed_sends_everything_once(
    slow_adversary: Adversary,
) -> None:
    adversary = slow_adversary
    numbers = phones(60)
    adversary.write("contacts.csv", contacts([(f"c{i}", p) for i, p in enumerate(numbers)]))
    spec = adversary.write("p.yaml", pipeline(settings=LIMITED))
    runs = [
        await signalled_run(adversary, "run", str(spec), "--no-progress", after_messages=10),
        await signalled_run(
            adversary, "run", str(spec), "--resume", "--no-progress", after_messages=25
        ),
    ]
    assert [r.code for r in runs] == [130, 130]
    last = await adversary.run("run", str(spec), "--resume", "--no-progress")
    assert last.code == 0, last
    items = output(adversary)
    assert [i["pairedItem"]["item"] for i in items] == list(range(len(numbers)))
    assert error_codes(items) == []
    assert sorted(adversary.sandbox.state.destination_counts.values()) == [1] * len(numbers)  # type: ignore[union-attr]
    assert "resumed: " in last.stderr


@pytest.mark.slow
async def test_a_signal_in_a_two_step_run_leaves_nothing_unknown(
    slow_adversary: Adversary,
) -> None:
    # Send, then a read per item: the signal stops both steps; the resume replays the sends
    # that finished and runs the rest of both steps.
    adversary = slow_adversary
    numbers = phones(60)
    adversary.write("contacts.csv", contacts([(f"c{i}", p) for i, p in enumerate(numbers)]))
    read_back = """  - name: Check
    node: plivo
    parameters:
      resource: account
      operation: get
"""
    spec = adversary.write("p.yaml", pipeline(settings=LIMITED, extra_step=read_back))
    first = await signalled_run(
        adversary, "run", str(spec), "--no-progress", after_messages=10, signals=(signal.SIGTERM,)
    )
    assert first.code == 143, first
    assert len(stop_lines(first)) == 1
    states = journal_states(adversary)
    assert "in_flight" not in states.values()
    second = await adversary.run("run", str(spec), "--resume", "--no-progress")
    assert second.code == 0, second
    items = output(adversary)
    assert len(items) == len(numbers)
    assert error_codes(items) == []
    assert sorted(adversary.sandbox.state.destination_counts.values()) == [1] * len(numbers)  # type: ignore[union-attr]


@pytest.mark.slow
async def test_a_second_signal_outside_the_steps_cancels_at_once_without_resume_advice(
    tmp_path: Path,
) -> None:
    # The one send is done; the run is fetching prices for its cost estimate (held 0.8 s by
    # the server) when both signals come: no step is running, so the run is cancelled there.
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN, latency_ms=800)
    async with Sandbox(config) as sandbox:
        adversary = Adversary(tmp_path, sandbox)
        adversary.write("contacts.csv", contacts([("a", phones(1)[0])]))
        spec = adversary.write("p.yaml", pipeline(settings="rateLimit: false"))
        process = await adversary.start("run", str(spec), "--no-progress")
        async with asyncio.timeout(WAIT_LIMIT):
            while not any("Pricing" in r.path for r in sandbox.state.request_log):  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        process.send_signal(signal.SIGINT)
        await asyncio.sleep(0.05)  # not an assertion: two signals sent at once may merge
        process.send_signal(signal.SIGINT)
        run = await adversary.finish(process, ("run",))
    assert_no_traceback(run)
    assert run.code == 130, run
    assert stop_lines(run) == [
        "plivo-node: stopped at once by a second SIGINT while no item was being sent"
    ]
    assert "--resume" not in run.stderr
    assert adversary.messages_sent() == 1
    adversary.assert_clean(run)
