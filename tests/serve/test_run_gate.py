"""The run gate: fewer events run at once while webhook requests keep arriving, all slots once
they pause; the dispatcher starts what waits when the gate reopens."""

from __future__ import annotations

import asyncio

import pytest

from plivo_node.serve.dispatch import OrderedDispatcher
from plivo_node.serve.queue import QueuedEvent
from plivo_node.serve.run_gate import BUSY_REQUESTS, RunGate, busy_slots_for

# Long enough that a busy machine cannot end a burst between two statements of a test.
QUIET = 0.2


def test_a_tenth_of_the_concurrency_runs_during_a_burst_and_never_none() -> None:
    assert busy_slots_for(50) == 5
    assert busy_slots_for(20) == 2
    assert busy_slots_for(5) == 1
    assert busy_slots_for(1) == 1
    with pytest.raises(ValueError, match="at least one slot"):
        RunGate(4, busy_slots=0, reopened=lambda: None)


async def test_all_slots_open_when_no_request_arrives() -> None:
    gate = RunGate(4, busy_slots=1, reopened=lambda: None, quiet_seconds=QUIET)
    assert [gate.try_acquire() for _ in range(5)] == [True] * 4 + [False]
    gate.release()
    assert gate.try_acquire()
    assert gate.running == 4


async def test_a_burst_holds_runs_to_the_busy_slots_then_reopens_the_gate() -> None:
    reopened = asyncio.Event()
    gate = RunGate(4, busy_slots=1, reopened=reopened.set, busy_requests=3, quiet_seconds=QUIET)
    for _ in range(3):
        gate.request_arrived()
    assert [gate.try_acquire() for _ in range(3)] == [True, False, False]
    # The burst goes on: a finished run lets only one more start.
    gate.request_arrived()
    gate.release()
    assert [gate.try_acquire() for _ in range(2)] == [True, False]
    assert not reopened.is_set()
    # The burst is over: the gate says so without anyone releasing a slot, and opens fully.
    await asyncio.sleep(QUIET * 1.5)
    assert reopened.is_set()
    assert [gate.try_acquire() for _ in range(4)] == [True, True, True, False]
    gate.close()


async def test_steady_requests_are_no_burst() -> None:
    # Two requests in each window (e.g. 40 a second), their events calling a slow service.
    gate = RunGate(4, busy_slots=1, reopened=lambda: None, busy_requests=3, quiet_seconds=0.01)
    for _ in range(5):
        gate.request_arrived()
        gate.request_arrived()
        await asyncio.sleep(0.012)  # the next window
    gate.request_arrived()
    assert [gate.try_acquire() for _ in range(5)] == [True] * 4 + [False]
    gate.close()


def test_a_gate_that_is_full_anyway_sets_no_timer() -> None:
    # No running loop is needed: a refusal at full concurrency waits for a release instead.
    gate = RunGate(1, busy_slots=1, reopened=lambda: None, quiet_seconds=QUIET)
    assert gate.try_acquire()
    assert not gate.try_acquire()
    gate.close()


async def test_the_dispatcher_runs_fewer_events_while_requests_arrive() -> None:
    running = 0
    most_in_burst = 0
    burst = True

    async def run(queued: QueuedEvent) -> None:
        nonlocal running, most_in_burst
        running += 1
        if burst:
            most_in_burst = max(most_in_burst, running)
        await asyncio.sleep(0.005)
        running -= 1

    dispatcher = OrderedDispatcher(run, concurrency=10, busy_slots=2, quiet_seconds=QUIET)
    for number in range(40):
        for _ in range(BUSY_REQUESTS):  # a burst: requests keep arriving
            dispatcher.request_arrived()
        dispatcher.submit(QueuedEvent(number, "sms", "inboundMessage", {}, f"user-{number}"))
        await asyncio.sleep(0.001)
    burst = False
    await asyncio.wait_for(dispatcher.wait_idle(), timeout=5)
    assert most_in_burst == 2
    assert dispatcher.busy == 0


async def test_events_waiting_for_a_slot_have_no_task_and_cancel_drops_them() -> None:
    started: list[int] = []
    release = asyncio.Event()

    async def run(queued: QueuedEvent) -> None:
        started.append(queued.id)
        await release.wait()

    dispatcher = OrderedDispatcher(run, concurrency=2, busy_slots=1)
    for number in range(100):
        dispatcher.submit(QueuedEvent(number, "sms", "inboundMessage", {}, f"user-{number}"))
    await asyncio.sleep(0.01)
    assert started == [0, 1]
    assert len(asyncio.all_tasks()) <= 3  # this test and the two running events
    assert dispatcher.busy == 100
    await dispatcher.cancel()
    assert dispatcher.busy == 0
    await asyncio.wait_for(dispatcher.wait_idle(), timeout=1)
