"""What ``serve --queue`` needs to hand work to the workers: enqueue a run for an event, and
fire a scheduled run once however many servers share the queue.

Both are made idempotent by a key set with ``SET NX`` before anything is queued: a webhook
delivered twice (the sender retried) or a schedule tick seen by three replicas queues one run.
The key outlives any retry window (``remember_seconds``), and a run is queued with the same
chunks, journal and workers as ``run --queue`` (:mod:`plivo_node.queue.submit`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import redis.asyncio as aioredis

from plivo_node.core.items import Item
from plivo_node.queue import keys
from plivo_node.queue.chunks import RunState
from plivo_node.queue.engine import ChunkQueue
from plivo_node.queue.submit import DEFAULT_CHUNK_SIZE, chunk_texts, create_run

DAY = 24 * 3600


async def claim_once(redis: aioredis.Redis, name: str, *, remember_seconds: float) -> bool:
    """``True`` for the first caller with ``name`` (within ``remember_seconds``), else False."""
    key = f"{keys.PREFIX}:once:{name}"
    return bool(await redis.set(key, "1", nx=True, px=round(remember_seconds * 1000)))


async def enqueue_event_run(
    redis: aioredis.Redis,
    queue: ChunkQueue,
    *,
    event_id: str,
    pipeline_text: str,
    pipeline_file: str,
    items: Iterable[Item],
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    remember_seconds: float = 7 * DAY,
) -> str | None:
    """Queue a run of the pipeline over an event's items; its run id, or ``None`` when this
    event (its id: the sender's delivery id, or a digest of the body) was queued before."""
    if not await claim_once(redis, f"event:{event_id}", remember_seconds=remember_seconds):
        return None
    run_id = hashlib.sha256(f"event\0{event_id}".encode()).hexdigest()[:20]
    await create_run(
        RunState(redis, run_id),
        queue,
        pipeline_text=pipeline_text,
        pipeline_file=pipeline_file,
        mode="auto",
        chunks=list(chunk_texts(iter(items), chunk_size)),
    )
    return run_id


async def fire_schedule_once(
    redis: aioredis.Redis,
    queue: ChunkQueue,
    *,
    schedule: str,
    fire_time: int,
    pipeline_text: str,
    pipeline_file: str,
    remember_seconds: float = 7 * DAY,
) -> str | None:
    """Queue a scheduled run for the tick ``fire_time`` (its epoch second, as every replica
    computes it from the schedule); ``None`` when another replica already fired this tick."""
    return await enqueue_event_run(
        redis,
        queue,
        event_id=f"schedule:{schedule}:{fire_time}",
        pipeline_text=pipeline_text,
        pipeline_file=pipeline_file,
        items=[Item(json={})],  # like n8n's schedule trigger: one empty item
        remember_seconds=remember_seconds,
    )
