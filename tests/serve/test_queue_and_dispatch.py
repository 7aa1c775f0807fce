"""The event queue (commit before acknowledging, dedupe, replay refusal, survival across a
reopen, one serve per file) and the dispatcher (bounded concurrency, order per key)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.node import WebhookEvent
from plivo_node.serve import queue as queue_module
from plivo_node.serve.dispatch import OrderedDispatcher
from plivo_node.serve.queue import EventQueue, Outcome, QueuedEvent


def event(dedupe: str, order: str = "a") -> WebhookEvent:
    return WebhookEvent(
        kind="inboundMessage",
        params={"MessageUUID": dedupe, "From": order},
        dedupe_key=dedupe,
        order_key=order,
    )


async def test_events_are_committed_deduplicated_and_survive_a_reopen(tmp_path: Path) -> None:
    queue = EventQueue.open(tmp_path)
    first = await queue.put("sms", event("m-1"), "n-1")
    assert first == (Outcome.QUEUED, 1)
    assert (await queue.put("sms", event("m-1"), "n-2"))[0] is Outcome.DUPLICATE
    assert (await queue.put("sms", event("m-2"), "n-1"))[0] is Outcome.REPLAYED
    # The same dedupe key on another webhook is another event.
    assert (await queue.put("other", event("m-1"), "n-3"))[0] is Outcome.QUEUED
    queue.close()  # as a killed process leaves it: nothing marked done

    reopened = EventQueue.open(tmp_path)
    waiting = reopened.waiting()
    assert [(e.webhook, e.params["MessageUUID"]) for e in waiting] == [
        ("sms", "m-1"),
        ("other", "m-1"),
    ]
    await reopened.done(waiting[0].id)
    assert [e.id for e in reopened.waiting()] == [waiting[1].id]
    # A retry after the event ran is still a duplicate, and a replayed nonce still refused.
    assert (await reopened.put("sms", event("m-1"), "n-9"))[0] is Outcome.DUPLICATE
    assert (await reopened.put("sms", event("m-5"), "n-1"))[0] is Outcome.REPLAYED
    reopened.close()


async def test_requests_in_one_loop_turn_share_a_commit(tmp_path: Path) -> None:
    queue = EventQueue.open(tmp_path)
    results = await asyncio.gather(
        *(queue.put("sms", event(f"m-{i}"), f"n-{i}") for i in range(50))
    )
    assert [outcome for outcome, _ in results] == [Outcome.QUEUED] * 50
    assert len({event_id for _, event_id in results}) == 50
    queue.close()


def test_a_second_serve_on_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    queue = EventQueue.open(tmp_path)
    try:
        with pytest.raises(ConfigurationError, match="in use by another plivo-node serve"):
            EventQueue.open(tmp_path)
    finally:
        queue.close()


async def test_dispatch_runs_in_order_per_key_with_a_bound() -> None:
    running = 0
    most = 0
    seen: dict[str, list[int]] = {}

    async def run(queued: QueuedEvent) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01 if queued.id % 3 else 0.03)  # uneven durations
        seen.setdefault(queued.order_key, []).append(queued.id)
        running -= 1

    dispatcher = OrderedDispatcher(run, concurrency=4)
    for number in range(60):
        dispatcher.submit(QueuedEvent(number, "sms", "inboundMessage", {}, f"user-{number % 7}"))
    await dispatcher.wait_idle()
    assert most == 4
    assert sum(map(len, seen.values())) == 60
    for ids in seen.values():
        assert ids == sorted(ids)


async def test_a_long_running_queue_forgets_old_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = EventQueue.open(tmp_path)
    _, event_id = await queue.put("sms", event("m-old"), "n-old")
    await queue.done(event_id)
    _, pending_id = await queue.put("sms", event("m-pending"), "n-pending")
    later = time.time() + queue_module.KEEP_SECONDS + queue_module.PRUNE_EVERY_SECONDS + 1
    monkeypatch.setattr(queue_module.time, "time", lambda: later)
    await queue.put("sms", event("m-new"), "n-new")  # this commit prunes
    # A day later the old nonce and the finished event are forgotten; a queued one is not.
    assert (await queue.put("sms", event("m-old"), "n-old"))[0] is Outcome.QUEUED
    assert pending_id in [e.id for e in queue.waiting()]
    queue.close()


async def test_unsigned_events_have_no_replay_key_and_are_still_deduplicated(
    tmp_path: Path,
) -> None:
    queue = EventQueue.open(tmp_path)
    try:
        assert (await queue.put("open", event("m-1"), None))[0] is Outcome.QUEUED
        assert (await queue.put("open", event("m-2"), None))[0] is Outcome.QUEUED
        assert (await queue.put("open", event("m-1"), None))[0] is Outcome.DUPLICATE
    finally:
        queue.close()
