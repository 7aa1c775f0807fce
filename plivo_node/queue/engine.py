"""The job queue itself: arq, behind the few calls queue mode makes of it.

arq keeps each job in a sorted set until a worker finishes it, marks it in progress with a key
that expires, and lets ``enqueue_job`` refuse a job id that exists: that last property makes
"queue this chunk's attempt" idempotent, which the sweep relies on. Nothing else imports arq.
"""

from __future__ import annotations

import time

from arq import Worker, create_pool, func
from arq.connections import ArqRedis, RedisSettings
from arq.constants import job_key_prefix
from arq.typing import StartupShutdown, WorkerCoroutine

from plivo_node.queue import keys
from plivo_node.queue.redis_url import QueueAddress

CHUNK_JOB = "plivo_node_chunk"
# A chunk is never cancelled for running long (its sends are journaled; a stuck request ends
# with its timeout): arq's own limit is only a backstop. A dead worker's chunk is handed on
# by the sweep within seconds, not by arq's in-progress key expiring.
JOB_TIMEOUT = 24 * 3600


def redis_settings(address: QueueAddress) -> RedisSettings:
    return RedisSettings(
        host=address.host,
        port=address.port,
        database=address.database,
        password=address.password,
        conn_timeout=5,
        conn_retries=5,
        conn_retry_delay=1,
    )


class ChunkQueue:
    """Queue chunk jobs and look at the queue (depth, oldest waiting job)."""

    def __init__(self, pool: ArqRedis) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, address: QueueAddress) -> ChunkQueue:
        pool = await create_pool(redis_settings(address), default_queue_name=keys.QUEUE_NAME)
        return cls(pool)

    async def close(self) -> None:
        await self._pool.aclose()

    async def enqueue(self, run_id: str, chunk: int, attempt: int) -> None:
        """Queue a chunk's attempt; a no-op while that attempt's job exists."""
        job_id = keys.job_id(run_id, chunk, attempt)
        # The sweeps ask for every chunk not yet taken, most of them queued already: one
        # EXISTS answers that, where enqueue_job's own check takes a WATCHed transaction.
        if await self._pool.exists(job_key_prefix + job_id):
            return
        await self._pool.enqueue_job(
            CHUNK_JOB,
            run_id,
            chunk,
            attempt,
            _job_id=job_id,
            _queue_name=keys.QUEUE_NAME,
        )

    async def depth(self) -> int:
        return int(await self._pool.zcard(keys.QUEUE_NAME))

    async def oldest_wait(self) -> float | None:
        """Seconds the oldest queued job has been waiting (arq scores jobs by enqueue time)."""
        oldest = await self._pool.zrange(keys.QUEUE_NAME, 0, 0, withscores=True)
        if not oldest:
            return None
        seconds, micros = await self._pool.time()
        now_ms = seconds * 1000 + micros / 1000
        waited: float = max(now_ms - float(oldest[0][1]), 0.0) / 1000
        return waited


class ConsumingWorker(Worker):
    """arq's worker, noting each turn of its consume loop (what the health endpoint checks)."""

    last_poll = 0.0

    async def heart_beat(self) -> None:
        self.last_poll = time.monotonic()
        await super().heart_beat()


def chunk_worker(
    address: QueueAddress,
    run_chunk: WorkerCoroutine,
    *,
    max_jobs: int,
    on_startup: StartupShutdown | None = None,
) -> ConsumingWorker:
    """An arq worker running ``run_chunk(ctx, run_id, chunk, attempt)`` jobs; the caller
    handles signals (drain) and runs :meth:`Worker.main`."""
    return ConsumingWorker(
        functions=[func(run_chunk, name=CHUNK_JOB, max_tries=1, timeout=JOB_TIMEOUT)],
        queue_name=keys.QUEUE_NAME,
        redis_settings=redis_settings(address),
        max_jobs=max_jobs,
        job_timeout=JOB_TIMEOUT,
        keep_result=0,
        poll_delay=0.05,
        handle_signals=False,
        on_startup=on_startup,
    )
