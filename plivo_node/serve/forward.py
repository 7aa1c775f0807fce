"""``serve --queue``: serve accepts, checks and durably queues each event; workers run it.

The design, and why each part is there:

- Every request is still committed to serve's local SQLite queue (:mod:`.queue`) before its
  200, exactly as without ``--queue``. Redis persists with ``appendfsync everysec``, which is
  not an fsync per request: acknowledging a callback once Redis answered could lose it in a
  power cut after Plivo stopped retrying. The local commit is that per-request fsync.
- The event runner, instead of running the pipeline in this process, forwards the event to
  the workers (:func:`plivo_node.queue.triggers.enqueue_event_run`) under a cross-replica
  event id, ``<webhook>:<dedupe key>``: two serve replicas behind one load balancer, each
  receiving Plivo's retry of the same callback, queue ONE run (the first claim wins; the
  other replica only waits for that run).
- It then waits for that run to finish before it marks the local event done. That keeps
  serve's per-sender order (the dispatcher's chains start a sender's next event only when
  this one is done) and makes a serve crash harmless: the event is still queued locally, is
  forwarded again on restart, and the claim (held under this replica's id, kept in its state
  directory) turns that into "wait for the run already queued", never a second run.
- Observers (the delivery store, the suppression list) run here, in serve, on the state
  directory of serve's machine, before the event is forwarded, as they do without
  ``--queue``. Workers screen their sends against the suppression list of *their* state
  directory, opened afresh for every chunk, so a STOP that serve recorded suppresses every
  later send by workers sharing serve's state directory (the same machine, or the same
  ``PLIVO_NODE_STATE_DIR``). A worker on another machine screens against its own list, which
  this serve does not write.
- Schedules need nothing of their own: a tick is an event in the local queue with the dedupe
  key ``tick:<epoch>``, so this same forwarding fires it once across replicas.

The replica that queued a run writes its output (``serve``'s output file, each line tagged
with the local event id, as without ``--queue``), then forgets the run in Redis. A run the
workers could not run (a chunk error) is reported on stderr and left in Redis, where
``plivo-node queue status`` shows it as failed; the local event is done (it is not run
again: the run's claims say what may have been sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.items import Item
from plivo_node.core.redaction import redact
from plivo_node.queue.chunks import RunState
from plivo_node.queue.engine import ChunkQueue
from plivo_node.queue.redis_url import QueueAddress, check_server, connect, parse_queue_url
from plivo_node.queue.refusals import refuse_several_inputs
from plivo_node.queue.submit import Ordered, collect, forget_inputs
from plivo_node.queue.triggers import DAY, EventRun, enqueue_event_run
from plivo_node.run.pipeline import PipelineSpec
from plivo_node.serve.pipelines import ServedPipeline
from plivo_node.serve.queue import EventQueue, QueuedEvent

REPLICA_FILE = "replica-id"
# How long a replica that lost the claim waits for the winner to queue the run. Past it, the
# event is the winner's (still queued in its local queue, run when it comes back).
APPEAR_SECONDS = 30.0
POLL_SECONDS = 0.2
# A forgotten event run keeps its finished mark as long as the claim is remembered.
FORGET_AFTER_SECONDS = 7 * DAY

T = TypeVar("T")

# How a wait for an event's run ends.
FINISHED, FAILED, STOPPED = "finished", "failed", "stopped"


def replica_id(state: Path) -> str:
    """This serve's id, kept in its state directory so a restart is the same replica."""
    path = state / REPLICA_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    replica = uuid.uuid4().hex
    path.write_text(replica + "\n", encoding="utf-8")
    return replica


def _say(line: str) -> None:
    print(redact(line), file=sys.stderr, flush=True)


class EventForwarder:
    """The event runner of ``serve --queue``."""

    def __init__(
        self,
        address: QueueAddress,
        redis: aioredis.Redis,
        queue: ChunkQueue,
        replica: str,
    ) -> None:
        self._address = address
        self._redis = redis
        self._queue = queue
        self._replica = replica
        self._pipelines: Mapping[str, ServedPipeline] = {}
        self._texts: dict[str, str] = {}
        self._stopping = asyncio.Event()

    def attach(self, pipelines: Mapping[str, ServedPipeline]) -> None:
        """The served pipelines, by webhook path, whose events this forwards."""
        self._pipelines = pipelines
        # Read once, as serve checked them: every event's run uses what serve started with.
        self._texts = {path: p.file.read_text(encoding="utf-8") for path, p in pipelines.items()}

    def stop(self) -> None:
        """Shutting down: waits end, their events stay queued and are forwarded again (a
        no-op claim) on the next start."""
        self._stopping.set()

    async def close(self) -> None:
        await self._queue.close()
        await self._redis.aclose()

    async def run_event(self, event: QueuedEvent, local: EventQueue) -> None:
        """Forward one event, wait for its run, then mark it done; stopped, it stays queued."""
        if self._stopping.is_set():
            return
        served = self._pipelines[event.webhook]
        served.observe(event)
        run: EventRun | None = None
        outcome: str | None = None
        lines: list[str] = []
        if event.kind in served.settings.events:
            run = await self._retrying(lambda: self._enqueue(served, event))
            if run is None:
                return
            outcome = await self._retrying(lambda: self._wait(served, event, run, lines))
            if outcome is None or outcome == STOPPED:
                return
            if run.ours and outcome == FINISHED:
                served.write_output(event.id, lines)
        await local.done(event.id)
        if run is not None and run.ours and outcome == FINISHED:
            await self._retrying(lambda: self._forget(run))

    async def _enqueue(self, served: ServedPipeline, event: QueuedEvent) -> EventRun:
        return await enqueue_event_run(
            self._redis,
            self._queue,
            event_id=f"{served.webhook}:{event.dedupe}",
            holder=self._replica,
            pipeline_text=self._texts[served.webhook],
            pipeline_file=served.file.name,
            items=[Item(json=dict(event.params))],
        )

    async def _wait(
        self, served: ServedPipeline, event: QueuedEvent, run: EventRun, lines: list[str]
    ) -> str:
        """Until the run ends: FINISHED (its output lines in ``lines`` when it is ours),
        FAILED, or STOPPED when serve stops first."""
        state = RunState(self._redis, run.run_id)
        if not run.ours:
            return await self._wait_elsewhere(state, event)
        chunks = int(await self._redis.hget(state.meta, "chunks") or 0)  # type: ignore[misc]
        lines.clear()
        ordered = Ordered(lines.append, served.spec.graph.terminal)
        # No sweep per event: the workers' sweep covers every run (and nothing runs while
        # no worker is alive); hundreds of waiting events each sweeping would cost more than
        # running them.
        await collect(
            state,
            self._queue,
            ordered,
            chunks,
            on_written=_ignore,
            stop=self._stopping,
            sweep=False,
        )
        error = ordered.collected.error
        if error is not None:
            _say(
                f"plivo-node: event {event.id}: its queued run {run.run_id} failed on the "
                f"workers: {error} (`plivo-node queue status` lists it)"
            )
            return FAILED
        return FINISHED if ordered.next_chunk >= chunks else STOPPED

    async def _wait_elsewhere(self, state: RunState, event: QueuedEvent) -> str:
        """Another replica queued the event's run: wait until it has run (keeping this
        replica's order for the sender), writing no output of ours."""
        appear_by = time.monotonic() + APPEAR_SECONDS
        while not self._stopping.is_set():
            meta: dict[bytes, bytes] = await self._redis.hgetall(state.meta)  # type: ignore[misc]
            if meta:
                if b"finished_at" in meta:
                    return FINISHED
                done = int(await self._redis.scard(state.done))  # type: ignore[misc]
                if done >= int(meta.get(b"chunks", b"0")):
                    return FINISHED
            elif time.monotonic() > appear_by:
                _say(
                    f"plivo-node: event {event.id} was taken by another serve replica, whose "
                    "run has not appeared; that replica runs it from its own queue"
                )
                return FINISHED
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), POLL_SECONDS)
        return STOPPED

    async def _forget(self, run: EventRun) -> None:
        state = RunState(self._redis, run.run_id)
        chunks = int(await self._redis.hget(state.meta, "chunks") or 0)  # type: ignore[misc]
        await forget_inputs(state, chunks)
        # The finished mark tells a replica that lost the claim the run is over.
        await self._redis.expire(state.meta, FORGET_AFTER_SECONDS)

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """``call()``, again every second while Redis does not answer (a restart), until
        serve stops (None: the event stays queued)."""
        told = False
        while not self._stopping.is_set():
            try:
                return await call()
            except RedisError as exc:
                if not told:
                    _say(
                        f"plivo-node: the queue at {self._address.shown} is unavailable "
                        f"({exc}); retrying"
                    )
                    told = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 1.0)
        return None


def _ignore(_result: object) -> None:
    return None


async def open_forwarder(
    url: str, pipelines: Sequence[tuple[Path, PipelineSpec]], state: Path
) -> EventForwarder:
    """The forwarder, once every pipeline is one the workers can run and the queue answers
    and keeps what it is given (else exit 2, before serve listens or checks credentials)."""
    for file, spec in pipelines:
        refuse_several_inputs(
            spec,
            where=f"{file}: ",
            instead="serve it without --queue, or split the step's inputs",
        )
    address = parse_queue_url(url)
    redis = connect(address)
    try:
        await check_server(redis, address)
        queue = await ChunkQueue.open(address)
    except (ConfigurationError, RedisError, OSError) as exc:
        await redis.aclose()
        if isinstance(exc, ConfigurationError):
            raise
        raise ConfigurationError(
            f"cannot use the queue at {address.shown}: {exc}",
            hint="start redis-server there, or pass the right --queue",
        ) from None
    return EventForwarder(address, redis, queue, replica_id(state))
