"""Pipelines that ``serve`` runs on a timetable: their first step is a schedule trigger.

Each such pipeline gets a ticker: it sleeps until the timetable's next fire time, and then puts
ONE event into the same durable queue webhook callbacks go to (:mod:`.queue`), under the
pipeline's key (``schedule/<file stem>``). From there the tick is an event like any other: the
same dispatcher, run journal and run scopes run it, and it survives a crash once queued.

- Once: the event's dedupe key is ``tick:<epoch second>``, so a tick is queued once even when
  a restart lands in the same second (and a ``serve --queue`` can use the same key to fire
  once across replicas).
- No overlap, no pile-up: every tick of a pipeline has the same order key (``<key>:tick``),
  so a tick whose previous run is still going waits for it instead of running beside it (other
  pipelines' events run meanwhile). At most one tick waits: a tick that finds one already
  waiting is skipped and says so, so runs that outlast their interval do not queue up without
  bound (as cron's and Kubernetes' "forbid concurrent" policies do).
- No catching up: ticks that fell while ``serve`` was down are not fired afterwards (n8n does
  not either); a tick queued before a crash still runs on the next start.
- Rules that run every N hours, days, weeks or months remember when they last fired in
  ``STATE/serve/schedules/<key>.json`` (n8n keeps this in the workflow's static data).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from plivo_node.core.errors import ConfigurationError, PlivoNodeError
from plivo_node.core.local_zone import local_zone_name
from plivo_node.core.node import ScheduleTrigger, Timetable, WebhookEvent
from plivo_node.expressions import ExpressionContext
from plivo_node.run.pipeline import PipelineSpec
from plivo_node.run.registry import NodeRegistry
from plivo_node.run.step import Step
from plivo_node.serve.queue import EventQueue, Outcome, QueuedEvent, queued_event

SCHEDULE_PREFIX = "schedule/"
TICK = "tick"  # the kind of every tick event
# A tick found this late (a suspended machine, a clock stepped forward) is not fired.
LATE_SECONDS = 30.0
# A long sleep is cut in pieces so a wall clock that jumps (NTP, a suspended laptop) is seen.
MAX_SLEEP_SECONDS = 30.0


def schedule_trigger_of(steps: list[Step], registry: NodeRegistry) -> ScheduleTrigger | None:
    """The schedule trigger a pipeline starts with, if it starts with one."""
    if not steps:
        return None
    return registry.get(steps[0].node).type.schedule


@dataclass(frozen=True)
class ScheduleSettings:
    key: str  # the pipeline's name in the queue, its journal and output: schedule/<stem>
    timezone: str
    timetable: Timetable


def schedule_settings(
    pipeline: Path, spec: PipelineSpec, step: Step, trigger: ScheduleTrigger
) -> ScheduleSettings:
    """The trigger step's timetable, from its parameters resolved as for a run (defaults,
    checks), in ``settings.timezone`` or this machine's zone."""
    key = SCHEDULE_PREFIX + pipeline.stem
    timezone = spec.settings.timezone or local_zone_name()
    try:
        params = step.resolver.resolve(ExpressionContext(json={}, item_index=0))
        timetable = trigger.timetable(params, seed=key, timezone=timezone)
    except PlivoNodeError as exc:
        raise ConfigurationError(
            f"{pipeline}: step '{step.name}': {exc.message}",
            hint=exc.hint,
        ) from exc
    return ScheduleSettings(key=key, timezone=timezone, timetable=timetable)


def tick_event(trigger: ScheduleTrigger, settings: ScheduleSettings, at: datetime) -> WebhookEvent:
    """The one event a tick queues: the trigger's item for ``at``."""
    return WebhookEvent(
        kind=TICK,
        params=trigger.item(at, settings.timezone),
        dedupe_key=f"tick:{int(at.timestamp())}",
        # One chain per pipeline: its ticks never overlap, other pipelines' run beside them.
        order_key=f"{settings.key}:{TICK}",
    )


# --- the clock ------------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        while True:
            left = (when - self.now()).total_seconds()
            if left <= 0:
                return
            await asyncio.sleep(min(left, MAX_SLEEP_SECONDS))


# --- what recurring rules remember ---------------------------------------------------------


@dataclass
class TickMemory:
    """When each rule that runs every N units last fired, kept in a small JSON file."""

    path: Path
    values: dict[str, int] = field(default_factory=dict)

    @classmethod
    def open(cls, directory: Path, key: str) -> TickMemory:
        path = directory / (key.replace("/", "_") + ".json")
        values: dict[str, int] = {}
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                values = {str(k): int(v) for k, v in loaded.items() if isinstance(v, int)}
        return cls(path, values)

    def save(self) -> None:
        """Written whole to a temporary file, then renamed over the old one."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(self.values, stream)
            Path(temporary).replace(self.path)
        except OSError:
            Path(temporary).unlink(missing_ok=True)
            raise


# --- the ticker ----------------------------------------------------------------------------


@dataclass
class Ticker:
    """Fires one scheduled pipeline: each tick is queued once, then handed to ``submit``."""

    trigger: ScheduleTrigger
    settings: ScheduleSettings
    memory: TickMemory
    queue: EventQueue
    submit: Callable[[QueuedEvent], None]
    # How many events with an order key wait to start (the dispatcher's count).
    waiting: Callable[[str], int] = lambda _key: 0
    clock: Clock = field(default_factory=SystemClock)
    fired: int = 0
    skipped: int = 0

    def next_fire(self) -> datetime:
        return self.settings.timetable.next_fire(self.clock.now())

    async def run(self) -> None:
        """Tick until cancelled."""
        after = self.clock.now()
        while True:
            at = self.settings.timetable.next_fire(after)
            await self.clock.sleep_until(at)
            now = self.clock.now()
            if (now - at).total_seconds() > LATE_SECONDS:
                # The machine slept or its clock jumped ahead: like a stopped serve, do not
                # fire the ticks that fell meanwhile; carry on from now.
                print(
                    f"plivo-node: {self.settings.key}: woke at {now.isoformat()}, after the "
                    f"tick at {at.isoformat()}; ticks in between are not caught up",
                    file=sys.stderr,
                )
                after = now
                continue
            after = at
            if self.settings.timetable.fires(at, self.memory.values):
                await self._queue(at)

    async def _queue(self, at: datetime) -> None:
        event = tick_event(self.trigger, self.settings, at)
        key = self.settings.key
        if self.waiting(event.order_key):
            self.skipped += 1
            print(
                f"plivo-node: {key}: skipped the tick at {at.isoformat()}: an earlier tick "
                "is still waiting for the run before it to finish",
                file=sys.stderr,
            )
            return
        try:
            outcome, event_id = await self.queue.put(key, event, f"{key}:{event.dedupe_key}")
            self.memory.save()
        except (PlivoNodeError, OSError) as exc:
            print(
                f"plivo-node: {key}: the tick at {at.isoformat()} was not queued: {exc}",
                file=sys.stderr,
            )
            return
        if outcome is Outcome.QUEUED:  # else: this tick was queued before (a restart)
            self.fired += 1
            self.submit(queued_event(event_id, key, event))


def describe_next(settings: ScheduleSettings, at: datetime) -> str:
    """How serve announces a schedule: its next tick, in the pipeline's zone."""
    local = at.astimezone(ZoneInfo(settings.timezone))
    return f"next tick {local.isoformat()} ({settings.timezone})"
