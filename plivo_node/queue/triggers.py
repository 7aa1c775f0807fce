"""What ``serve --queue`` needs to hand an event to the workers: queue one run per event,
however many serve replicas received it.

The run is made idempotent by a key set with ``SET NX`` before anything is queued: a webhook
delivered twice (the sender retried, possibly to another replica behind the same load
balancer) queues one run. The key holds the id of the replica that won it, so that replica,
restarted after a crash, knows the run is its own to create (if the crash came first), wait
for and collect; another replica only waits for it. The key outlives any retry window
(``remember_seconds``), and a run is queued with the same chunks, journal and workers as
``run --queue`` (:mod:`plivo_node.queue.submit`).

Schedules need nothing more: a tick enters each replica's local event queue as an event with
the dedupe key ``tick:<epoch>``, so the same forwarding fires it once across replicas.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import redis.asyncio as aioredis

from plivo_node.core.items import Item
from plivo_node.queue import keys
from plivo_node.queue.chunks import RunState
from plivo_node.queue.engine import ChunkQueue
from plivo_node.queue.submit import DEFAULT_CHUNK_SIZE, chunk_texts, create_run

DAY = 24 * 3600


# KEYS the claim. ARGV holder, milliseconds to remember it. Returns who holds it now.
_CLAIM_ONCE = """
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
"""


async def claim_once(
    redis: aioredis.Redis, name: str, *, holder: str, remember_seconds: float
) -> str:
    """Claim ``name`` for ``holder`` unless someone holds it (within ``remember_seconds``);
    returns who holds it now (``holder`` when the claim is new or already its own)."""
    key = f"{keys.PREFIX}:once:{name}"
    claim = redis.register_script(_CLAIM_ONCE)
    current = await claim(keys=[key], args=[holder, round(remember_seconds * 1000)])
    return str(current.decode() if isinstance(current, bytes) else current)


def event_run_id(event_id: str) -> str:
    return hashlib.sha256(f"event\0{event_id}".encode()).hexdigest()[:20]


@dataclass(frozen=True)
class EventRun:
    run_id: str
    ours: bool  # this holder queued it: it collects the output and forgets the run


async def enqueue_event_run(
    redis: aioredis.Redis,
    queue: ChunkQueue,
    *,
    event_id: str,
    holder: str,
    pipeline_text: str,
    pipeline_file: str,
    items: Iterable[Item],
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    remember_seconds: float = 7 * DAY,
) -> EventRun:
    """The run of the pipeline over an event's items (``event_id``: the same for every
    delivery of the event), queued unless it was queued before."""
    claimed_by = await claim_once(
        redis, f"event:{event_id}", holder=holder, remember_seconds=remember_seconds
    )
    run_id = event_run_id(event_id)
    ours = claimed_by == holder
    state = RunState(redis, run_id)
    # Ours and not there: the first delivery, or a crash of this holder between its claim and
    # the run's creation. Ours and there: a re-forward after a crash, the run goes on.
    if ours and not await redis.exists(state.meta):
        await create_run(
            state,
            queue,
            pipeline_text=pipeline_text,
            pipeline_file=pipeline_file,
            mode="auto",
            chunks=list(chunk_texts(iter(items), chunk_size)),
        )
    return EventRun(run_id, ours)
