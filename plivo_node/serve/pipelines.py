"""One served pipeline: its webhook, its clients, and how one queued event runs through it.

An event runs through the pipeline with the batch runner (:func:`plivo_node.run.runner.execute`)
as a run of one input item, journaled in the pipeline's run journal in the state directory
(``serve/journals/<webhook>.journal.sqlite``, one for all its events, see
:mod:`.event_journal`). The journal is what keeps a crash from sending twice: a send is marked
in flight before its request goes out, so when ``serve`` restarts and runs the event again (it
is still queued), the journal replays what had finished and reports a send whose outcome is
unknown as ``unknown_outcome`` instead of repeating it. Only once the event's output is
written and its done mark committed to the queue are its journal entries discarded.

Clients are opened once per pipeline and shared by all of its events: one connection pool,
one rate limiter and one pacer for everything the pipeline sends.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from plivo_node.core.api import ApiClient
from plivo_node.core.errors import ConfigurationError, PlivoNodeError
from plivo_node.core.items import Item
from plivo_node.core.node import WebhookOptions, WebhookTrigger
from plivo_node.core.redaction import redact
from plivo_node.run.engine import RunStop, Step
from plivo_node.run.item_io import OutputWriter
from plivo_node.run.journal import JOURNAL_SUFFIX, RunJournal
from plivo_node.run.pipeline import PipelineSpec
from plivo_node.run.registry import NodeRegistry
from plivo_node.run.runner import execute
from plivo_node.serve.event_journal import EventJournal
from plivo_node.serve.queue import EventQueue, QueuedEvent

logger = logging.getLogger(__name__)

WEBHOOK_PREFIX = "/webhook/"


def webhook_trigger_of(steps: Sequence[Step], registry: NodeRegistry) -> WebhookTrigger | None:
    """The webhook trigger a pipeline starts with, if it starts with one."""
    if not steps:
        return None
    return registry.get(steps[0].node).type.webhook


def refuse_webhook_pipeline(pipeline: Path, steps: Sequence[Step], registry: NodeRegistry) -> None:
    """``run`` on a pipeline that waits for requests: there is nothing to run it on."""
    if webhook_trigger_of(steps, registry) is not None:
        raise ConfigurationError(
            f"{pipeline} starts with the webhook trigger '{steps[0].node}': it runs on "
            "incoming requests, not on an input file",
            hint=f"serve it with `plivo-node serve {pipeline}`",
        )


@dataclass(frozen=True)
class WebhookSettings:
    path: str  # below /webhook/, no leading slash
    events: frozenset[str]  # event kinds (aliases resolved)
    options: WebhookOptions = field(default_factory=WebhookOptions)


def webhook_settings(pipeline: Path, step: Step, trigger: WebhookTrigger) -> WebhookSettings:
    """The trigger step's ``path`` (default: the pipeline file's stem), ``events`` (a kind or
    one of its aliases) and what else the trigger reads from its parameters."""
    raw = step.raw_parameters
    path = str(raw.get("path") or pipeline.stem).strip().strip("/")
    if not path or any(part in {"", ".", ".."} for part in path.split("/")):
        raise ConfigurationError(
            f"{pipeline}: step '{step.name}': path {path!r} is not a usable webhook path",
            hint="use letters, digits, '-' and '/' (e.g. path: inbound-sms)",
        )
    chosen = raw.get("events", [trigger.event_kinds[0]])
    events = [e.strip() for e in chosen.split(",")] if isinstance(chosen, str) else list(chosen)
    aliases = trigger.event_aliases
    unknown = [e for e in events if e not in trigger.event_kinds and e not in aliases]
    if unknown or not events:
        raise ConfigurationError(
            f"{pipeline}: step '{step.name}': events {events!r} "
            + (f"has unknown kinds {unknown}" if unknown else "is empty"),
            hint=f"choose among {', '.join([*trigger.event_kinds, *aliases])}",
        )
    try:
        options = trigger.options(raw)
    except ConfigurationError as exc:
        raise ConfigurationError(
            f"{pipeline}: step '{step.name}': {exc.message}", hint=exc.hint
        ) from exc
    kinds = frozenset(aliases.get(str(e), str(e)) for e in events)
    return WebhookSettings(path=path, events=kinds, options=options)


@dataclass
class ServedPipeline:
    """A pipeline ``serve`` runs for each accepted request to its webhook."""

    file: Path
    spec: PipelineSpec
    steps: list[Step]
    trigger: WebhookTrigger | None  # None: a schedule trigger's pipeline (its ticks are events)
    settings: WebhookSettings
    fields: Mapping[str, str]  # the trigger's credentials: what signatures are checked with
    clients: Mapping[str, ApiClient]
    output: OutputWriter
    journal: RunJournal
    _stops: set[RunStop] = field(default_factory=set)
    _closing: bool = False

    @property
    def webhook(self) -> str:
        return self.settings.path

    def url(self, base: str) -> str:
        return base.rstrip("/") + WEBHOOK_PREFIX + self.settings.path

    def stop(self) -> None:
        """Shutting down: running events start nothing new, waiting ones do not start (both
        stay queued; a journaled event resumes on the next start)."""
        self._closing = True
        for stop in list(self._stops):
            stop.request()

    async def run_event(self, event: QueuedEvent, queue: EventQueue) -> None:
        """Run one event to its end, then mark it done; interrupted, it stays queued."""
        if self._closing:
            return
        self.observe(event)
        if event.kind in self.settings.events:
            lines = await self._execute(event)
            if lines is None:
                return  # stopped by a shutdown: it runs (resumes) on the next start
            self.write_output(event.id, lines)
        await queue.done(event.id)
        EventJournal(self.journal, event.id).discard()

    def write_output(self, event_id: int, lines: Sequence[str]) -> None:
        """An event's output lines, each tagged with the event's id."""
        for line in lines:
            self.output.write_line(_with_event(line, event_id))
        self.output.flush()

    def observe(self, event: QueuedEvent) -> None:
        """The trigger's observers (delivery store, suppression list) see the event."""
        for observer in self.trigger.observers if self.trigger is not None else ():
            try:
                observer(event.kind, event.params)
            except Exception as exc:  # noqa: BLE001 - an observer's bug must not stop the event
                print(
                    redact(f"plivo-node: event {event.id}: an event observer failed: {exc!r}"),
                    file=sys.stderr,
                )

    async def _execute(self, event: QueuedEvent) -> list[str] | None:
        if self._closing:
            return None
        stop = RunStop()
        self._stops.add(stop)
        lines: list[str] = []
        finished = False
        try:
            summary = await execute(
                self.steps,
                [Item(json=dict(event.params))],
                self.clients,
                lines.append,
                graph=self.spec.graph,
                journal=EventJournal(self.journal, event.id, fresh=event.fresh),
                stop=stop,
            )
            finished = not summary.interrupted
        except PlivoNodeError as exc:
            # An input the steps cannot read, an unwritable journal: the event stays queued.
            print(redact(f"plivo-node: event {event.id}: {exc}"), file=sys.stderr)
        finally:
            self._stops.discard(stop)
        return lines if finished else None


def _with_event(line: str, event_id: int) -> str:
    """An output line (a JSON object, as :func:`~plivo_node.run.item_io.encode_line` writes
    it) with the event's id added as its last key, without decoding it again."""
    return f'{line[:-1]},"event":{event_id}}}'


def open_journal(directory: Path, webhook: str, *, sandbox: bool) -> RunJournal:
    """The pipeline's journal: resumed when an earlier serve left one (unfinished events)."""
    path = directory / (webhook.replace("/", "_") + JOURNAL_SUFFIX)
    return RunJournal.open(
        path, run_key=f"serve webhook {webhook}", resume=path.exists(), sandbox=sandbox
    )
