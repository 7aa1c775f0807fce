"""Scheduled pipelines in ``serve``: each tick is one event in the durable queue, queued once
(``tick:<epoch>``), run in order without overlap, never caught up after a stop, and a serve
restarted in the middle runs no tick twice."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from plivo_node.nodes.core.node import SCHEDULE_TRIGGER
from plivo_node.nodes.core.schedule_trigger import timetable
from plivo_node.serve.dispatch import OrderedDispatcher
from plivo_node.serve.queue import EventQueue, QueuedEvent
from plivo_node.serve.schedule import ScheduleSettings, Ticker, TickMemory
from plivo_sandbox import Sandbox
from tests.serve.conftest import auto_reply, serve_env, start_serve

START = datetime(2026, 12, 3, 8, 0, 0, 400000, tzinfo=UTC)


class FakeClock:
    """Time moves only when the ticker sleeps; past ``until`` it sleeps for ever."""

    def __init__(self, now: datetime, until: datetime) -> None:
        self.current = now
        self.until = until
        self.done = asyncio.Event()

    def now(self) -> datetime:
        return self.current

    async def sleep_until(self, when: datetime) -> None:
        if when > self.until:
            self.done.set()
            await asyncio.Event().wait()
        self.current = max(self.current, when)
        await asyncio.sleep(0)


def ticker(
    queue: EventQueue,
    submit: object,
    clock: FakeClock,
    state: Path,
    waiting: object = lambda _key: 0,
) -> Ticker:
    assert SCHEDULE_TRIGGER.schedule is not None
    settings = ScheduleSettings(
        key="schedule/every",
        timezone="Europe/Berlin",
        timetable=timetable(
            {"rule": {"interval": [{"field": "seconds", "secondsInterval": 1}]}},
            seed="schedule/every",
            timezone="Europe/Berlin",
        ),
    )
    return Ticker(
        trigger=SCHEDULE_TRIGGER.schedule,
        settings=settings,
        memory=TickMemory.open(state, settings.key),
        queue=queue,
        submit=submit,  # type: ignore[arg-type]
        waiting=waiting,  # type: ignore[arg-type]
        clock=clock,
    )


async def run_ticks(tick: Ticker, clock: FakeClock) -> None:
    task = asyncio.create_task(tick.run())
    await asyncio.wait_for(clock.done.wait(), 10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_each_tick_is_one_queued_event_run_in_order_without_overlap(tmp_path: Path) -> None:
    queue = EventQueue.open(tmp_path)
    running = 0
    overlaps = 0
    ran: list[str] = []

    async def run(event: QueuedEvent) -> None:
        nonlocal running, overlaps
        running += 1
        overlaps += running > 1
        await asyncio.sleep(0.01)  # slower than the fake clock's ticks: they must wait
        ran.append(event.params["Second"])
        running -= 1
        await queue.done(event.id)

    dispatcher = OrderedDispatcher(run, concurrency=10)
    clock = FakeClock(START, START + timedelta(seconds=5))
    tick = ticker(queue, dispatcher.submit, clock, tmp_path)
    await run_ticks(tick, clock)
    await dispatcher.wait_idle()
    assert ran == ["01", "02", "03", "04", "05"]
    assert overlaps == 0
    assert tick.fired == 5
    waiting_before = queue.counts()
    assert waiting_before == {"done": 5}

    # The same seconds again (a restart within them, a clock stepped back): nothing is queued.
    again = FakeClock(START, START + timedelta(seconds=5))
    second = ticker(queue, dispatcher.submit, again, tmp_path)
    await run_ticks(second, again)
    assert second.fired == 0
    assert queue.counts() == {"done": 5}
    queue.close()


async def test_at_most_one_tick_waits_behind_a_run_that_outlasts_its_interval(
    tmp_path: Path,
) -> None:
    queue = EventQueue.open(tmp_path)
    ran: list[str] = []

    async def run(event: QueuedEvent) -> None:
        await asyncio.sleep(0.05)  # the fake clock's five ticks pass meanwhile
        ran.append(event.params["Second"])
        await queue.done(event.id)

    dispatcher = OrderedDispatcher(run, concurrency=10)
    clock = FakeClock(START, START + timedelta(seconds=5))
    tick = ticker(queue, dispatcher.submit, clock, tmp_path, waiting=dispatcher.waiting)
    await run_ticks(tick, clock)
    await dispatcher.wait_idle()
    # 01 runs, 02 waits for it, 03-05 find 02 waiting and are skipped (never queued).
    assert ran == ["01", "02"]
    assert (tick.fired, tick.skipped) == (2, 3)
    assert queue.counts() == {"done": 2}
    queue.close()


class SleepyClock(FakeClock):
    """A machine suspended for an hour during its first sleep."""

    async def sleep_until(self, when: datetime) -> None:
        await super().sleep_until(when)
        if not getattr(self, "slept", False):
            self.slept = True
            self.current = when + timedelta(hours=1)


async def test_ticks_missed_while_the_machine_slept_are_not_caught_up(tmp_path: Path) -> None:
    queue = EventQueue.open(tmp_path)
    submitted: list[QueuedEvent] = []
    clock = SleepyClock(START, START + timedelta(hours=1, seconds=3))
    tick = ticker(queue, submitted.append, clock, tmp_path)
    await run_ticks(tick, clock)
    # Not 3602 ticks: it woke at 10:00:01 (Berlin) and fires from the next second on.
    assert [e.params["Minute"] + e.params["Second"] for e in submitted] == ["0002", "0003"]
    assert [e.params["Hour"] for e in submitted] == ["10", "10"]
    queue.close()


async def test_a_tick_queued_before_a_crash_runs_once_after_it(tmp_path: Path) -> None:
    queue = EventQueue.open(tmp_path)
    submitted: list[QueuedEvent] = []
    clock = FakeClock(START, START + timedelta(seconds=2))
    await run_ticks(ticker(queue, submitted.append, clock, tmp_path), clock)
    assert len(submitted) == 2
    queue.close()  # killed before either ran

    reopened = EventQueue.open(tmp_path)
    waiting = reopened.waiting()
    assert [e.params["Second"] for e in waiting] == ["01", "02"]
    assert {e.webhook for e in waiting} == {"schedule/every"}
    reopened.close()


def test_tick_memory_survives_a_restart(tmp_path: Path) -> None:
    memory = TickMemory.open(tmp_path, "schedule/every")
    memory.values["0"] = 62
    memory.save()
    assert TickMemory.open(tmp_path, "schedule/every").values == {"0": 62}
    (tmp_path / "schedule_every.json").write_text("not json")
    assert TickMemory.open(tmp_path, "schedule/every").values == {}


SCHEDULED = """
version: 1
settings: {timezone: Europe/Berlin, rateLimit: false}
steps:
  - name: Every second
    node: scheduleTrigger
    parameters:
      rule:
        interval:
          - {field: seconds, secondsInterval: 1}
  - name: Account
    node: plivo
    parameters: {resource: account, operation: get}
"""


def outputs(state: Path) -> list[dict[str, object]]:
    file = state / "serve" / "output" / "schedule_every.jsonl"
    return [json.loads(line) for line in file.read_text().splitlines()] if file.exists() else []


@pytest.mark.slow
async def test_serve_fires_a_one_second_schedule_and_a_restart_runs_no_tick_twice(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    pipeline = tmp_path / "every.yaml"
    pipeline.write_text(SCHEDULED, encoding="utf-8")
    state = tmp_path / "state"
    for _ in range(2):
        serve = await start_serve(sandbox, state, pipeline)
        before = len(outputs(state))
        async with asyncio.timeout(30):
            while len(outputs(state)) < before + 2:  # noqa: ASYNC110 - another process writes it
                await asyncio.sleep(0.05)
        assert await serve.stop(signal.SIGTERM) == 0
        assert b"ticks fired" in serve.stderr
    lines = outputs(state)
    assert len(lines) >= 4
    # Every line is a run of its own tick: one event each, none repeated across the restart.
    events = [line["event"] for line in lines]
    assert len(events) == len(set(events))
    assert all(line["json"]["auth_id"] == sandbox.config.auth_id for line in lines)  # type: ignore[index]
    ticks = EventQueue.open(state / "serve")
    try:
        assert ticks.counts().get("queued", 0) == 0
        rows = ticks._connection.execute(
            "SELECT dedupe FROM event WHERE webhook = 'schedule/every'"
        ).fetchall()
    finally:
        ticks.close()
    dedupes = [row[0] for row in rows]
    assert len(dedupes) == len(set(dedupes)) >= len(lines)
    assert all(key.startswith("tick:") for key in dedupes)


@pytest.mark.slow
async def test_serve_announces_the_next_tick_and_refuses_bad_rules(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    pipeline = tmp_path / "daily.yaml"
    pipeline.write_text(
        SCHEDULED.replace(
            "{field: seconds, secondsInterval: 1}", "{field: days, triggerAtHour: 9}"
        ),
        encoding="utf-8",
    )
    # Served beside a webhook pipeline, in one process.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "plivo_node.cli", "serve", str(pipeline), str(auto_reply(tmp_path)),
        "--port", "0", env=serve_env(sandbox, tmp_path / "state"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    lines = []
    async with asyncio.timeout(30):
        while not lines or "listening on" not in lines[-1]:
            lines.append((await process.stdout.readline()).decode())
    process.send_signal(signal.SIGINT)
    await process.communicate()
    assert any(line.rstrip().endswith("/webhook/sms (inboundMessage)") for line in lines)
    announced = next(line for line in lines if "next tick" in line)
    # n8n's stable second for this pipeline's key ("schedule/daily"), at 09:00 Berlin time.
    assert "T09:00:12+01:00 (Europe/Berlin)" in announced
    assert any("not caught up" in line for line in lines)

    pipeline.write_text(
        SCHEDULED.replace(
            "{field: seconds, secondsInterval: 1}", '{field: cronExpression, expression: "* * *"}'
        ),
        encoding="utf-8",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "plivo_node.cli", "serve", str(pipeline), "--port", "0",
        env=serve_env(sandbox, tmp_path / "state"), stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await process.communicate()
    assert process.returncode == 2
    assert "parameters.rule.interval[0].expression: '* * *' is not a valid cron" in err.decode()


@pytest.mark.slow
async def test_serve_runs_an_n8n_workflow_that_starts_with_a_schedule_trigger(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    workflow = {
        "name": "Every second",
        "nodes": [
            {
                "parameters": {"rule": {"interval": [{"field": "seconds", "secondsInterval": 1}]}},
                "name": "Schedule Trigger",
                "type": "n8n-nodes-base.scheduleTrigger",
                "typeVersion": 1.2,
                "position": [0, 0],
            },
            {
                "parameters": {},
                "name": "No Operation, do nothing",
                "type": "n8n-nodes-base.noOp",
                "typeVersion": 1,
                "position": [220, 0],
            },
        ],
        "connections": {
            "Schedule Trigger": {
                "main": [[{"node": "No Operation, do nothing", "type": "main", "index": 0}]]
            }
        },
        "settings": {"timezone": "America/New_York"},
    }
    path = tmp_path / "every.json"
    path.write_text(json.dumps(workflow), encoding="utf-8")
    state = tmp_path / "state"
    serve = await start_serve(sandbox, state, path)
    try:
        async with asyncio.timeout(30):
            while not outputs(state):  # noqa: ASYNC110 - another process writes it
                await asyncio.sleep(0.05)
    finally:
        assert await serve.stop() == 0
    first = outputs(state)[0]["json"]
    assert first["Timezone"].startswith("America/New_York (UTC-0")  # type: ignore[index]
