"""The run gate: fewer events run at once while webhook requests keep arriving, all slots once
they pause, and a waiter cancelled at any point never leaks a slot."""

from __future__ import annotations

import asyncio

import pytest

from plivo_node.serve.dispatch import OrderedDispatcher
from plivo_node.serve.queue import QueuedEvent
from plivo_node.serve.run_gate import RunGate, busy_slots_for

QUIET = 0.05


async def acquired(gate: RunGate, count: int) -> list[asyncio.Task[None]]:
    """Start ``count`` acquirers; return them once the loop has let each try."""
    tasks = [asyncio.create_task(gate.acquire()) for _ in range(count)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return tasks


def test_a_tenth_of_the_concurrency_runs_during_a_burst_and_never_none() -> None:
    assert busy_slots_for(50) == 5
    assert busy_slots_for(20) == 2
    assert busy_slots_for(5) == 1
    assert busy_slots_for(1) == 1
    with pytest.raises(ValueError, match="at least one slot"):
        RunGate(4, busy_slots=0)


async def test_all_slots_open_when_no_request_arrives() -> None:
    gate = RunGate(4, busy_slots=1, quiet_seconds=QUIET)
    tasks = await acquired(gate, 6)
    assert gate.running == 4
    assert sum(task.done() for task in tasks) == 4
    gate.release()
    await asyncio.sleep(0)
    assert gate.running == 4
    assert sum(task.done() for task in tasks) == 5
    gate.close()
    for task in tasks:
        task.cancel()


async def test_requests_hold_runs_to_the_busy_slots_until_they_pause() -> None:
    gate = RunGate(4, busy_slots=1, quiet_seconds=QUIET)
    gate.request_arrived()
    tasks = await acquired(gate, 4)
    assert gate.running == 1  # a burst: one at a time
    # Requests keep arriving: a finished run lets only one more start.
    gate.request_arrived()
    gate.release()
    await asyncio.sleep(0)
    assert gate.running == 1
    assert sum(task.done() for task in tasks) == 2
    # The burst is over: the waiting ones start without anyone releasing a slot.
    await asyncio.sleep(QUIET * 3)
    assert gate.running == 3
    assert all(task.done() for task in tasks)
    gate.close()


async def test_a_cancelled_waiter_leaks_no_slot() -> None:
    gate = RunGate(1, busy_slots=1, quiet_seconds=QUIET)
    await gate.acquire()
    waiting, granted = await acquired(gate, 2)
    waiting.cancel()  # cancelled while waiting
    await asyncio.sleep(0)
    gate.release()  # grants the slot to `granted`, which is then cancelled before it runs
    granted.cancel()
    await asyncio.gather(waiting, granted, return_exceptions=True)
    assert gate.running == 0
    await gate.acquire()  # the slot is free again
    assert gate.running == 1
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

    dispatcher = OrderedDispatcher(run, concurrency=10, busy_slots=2)
    for number in range(40):
        dispatcher.request_arrived()
        dispatcher.submit(QueuedEvent(number, "sms", "inboundMessage", {}, f"user-{number}"))
        await asyncio.sleep(0.001)
    burst = False
    await asyncio.wait_for(dispatcher.wait_idle(), timeout=5)
    assert most_in_burst == 2
    assert dispatcher.busy == 0
