"""A queued run's state in Redis: its chunks, who runs each, and the sweep.

A run is split into chunks of consecutive items. A chunk is run by one worker at a time: the
worker *takes* it (becomes its owner) before running it and *finishes* it by publishing its
result, both in Lua scripts, so ownership changes hands atomically. The owner is a holder
token, ``<worker id>#<attempt>``, which every claim, outcome and result is checked against (a
fencing token): an attempt the sweep gave up can write nothing more, even when its worker
lives on and takes the chunk's next attempt itself. Every chunk job carries an
attempt number; a job of an old attempt (arq delivering it again late) finds the attempt
moved on and does nothing.

The sweep (run by every worker and by the run itself, every couple of seconds) looks for
chunks whose owner is gone (its liveness key expired: killed, or cut off from Redis): it turns
that owner's in-flight claims into ``unknown`` (maybe sent, never sent again), never into
``done``, frees the chunk and queues its next attempt, which replays what was finished and
sends only what was never claimed (requeued). A chunk with no owner that is not done is
queued again (a no-op while its job is still queued), so a job lost between the two steps
is not lost for good.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from plivo_node.queue import keys

# KEYS owners, attempts, done, meta. ARGV chunk, attempt, worker.
_TAKE = """
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 'done' end
if redis.call('HGET', KEYS[4], 'cancelled') == '1' then return 'cancelled' end
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 'stale' end
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner and owner ~= ARGV[3] then return 'busy' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 'taken'
"""

# KEYS owners, done, results. ARGV chunk, worker, attempt, kind, payload.
_FINISH = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('XADD', KEYS[3], '*', 'chunk', ARGV[1], 'attempt', ARGV[3], 'kind', ARGV[4],
           'payload', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""

# A drained worker gives its unfinished chunk back (its claims stay: they are its sends).
# KEYS owners, attempts. ARGV chunk, worker. Returns the next attempt, or -1.
_RELEASE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return -1 end
redis.call('HDEL', KEYS[1], ARGV[1])
return redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
"""

# KEYS owners, attempts, the chunk's journal. ARGV chunk, the vanished owner.
_SWEEP = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return -1 end
local all = redis.call('HGETALL', KEYS[3])
for i = 1, #all, 2 do
  local record = cjson.decode(all[i + 1])
  if record['s'] == 'in_flight' then
    record['s'] = 'unknown'
    redis.call('HSET', KEYS[3], all[i], cjson.encode(record))
  end
end
redis.call('HDEL', KEYS[1], ARGV[1])
return redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
"""

Enqueue = Callable[[str, int, int], Awaitable[None]]  # (run id, chunk, attempt)


@dataclass(frozen=True)
class ChunkResult:
    chunk: int
    kind: str  # "result", or "error" (the chunk could not run: the payload says why)
    payload: dict[str, Any]


class RunState:
    """One queued run's keys and scripts."""

    def __init__(self, redis: aioredis.Redis, run_id: str) -> None:
        self.redis = redis
        self.run_id = run_id
        self.owners = keys.run(run_id, "owners")
        self.attempts = keys.run(run_id, "attempts")
        self.done = keys.run(run_id, "done")
        self.results = keys.run(run_id, "results")
        self.meta = keys.run(run_id, "meta")
        self._take = redis.register_script(_TAKE)
        self._finish = redis.register_script(_FINISH)
        self._release = redis.register_script(_RELEASE)
        self._sweep = redis.register_script(_SWEEP)

    def input_key(self, chunk: int) -> str:
        return keys.run(self.run_id, f"input:{chunk}")

    async def create(self, meta: Mapping[str, str], chunks: list[str]) -> None:
        """Store the run and its chunks' input (JSON lines); attempts start at 0."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.meta, mapping={**meta, "chunks": str(len(chunks))})
            for chunk, text in enumerate(chunks):
                pipe.set(self.input_key(chunk), text)
            if chunks:
                pipe.hset(self.attempts, mapping=dict.fromkeys(map(str, range(len(chunks))), 0))
            pipe.sadd(keys.RUNS, self.run_id)
            await pipe.execute()

    async def take(self, chunk: int, attempt: int, worker: str) -> str:
        args: list[str | int] = [chunk, attempt, worker]
        found = await self._take(keys=[self.owners, self.attempts, self.done, self.meta], args=args)
        return str(found.decode())

    async def finish(
        self, chunk: int, worker: str, attempt: int, kind: str, payload: Mapping[str, Any]
    ) -> bool:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        args: list[str | int] = [chunk, worker, attempt, kind, text]
        done = await self._finish(keys=[self.owners, self.done, self.results], args=args)
        return bool(done)

    async def release(self, chunk: int, worker: str, enqueue: Enqueue) -> None:
        attempt = int(await self._release(keys=[self.owners, self.attempts], args=[chunk, worker]))
        if attempt >= 0:
            await enqueue(self.run_id, chunk, attempt)

    async def sweep(self, enqueue: Enqueue) -> list[int]:
        """Hand on the chunks of vanished owners; queue again what lost its job. Returns the
        chunks taken from a vanished owner."""
        owners: dict[bytes, bytes] = await self.redis.hgetall(self.owners)  # type: ignore[misc]
        handed_on = []
        for raw_chunk, raw_owner in owners.items():
            chunk, owner = int(raw_chunk), raw_owner.decode()
            # The owner is a holder token, "<worker id>#<attempt>".
            if await self.redis.exists(keys.worker_alive(owner.rsplit("#", 1)[0])):
                continue
            journal = keys.chunk_journal(self.run_id, chunk)
            attempt = int(
                await self._sweep(keys=[self.owners, self.attempts, journal], args=[chunk, owner])
            )
            if attempt >= 0:
                handed_on.append(chunk)
        await self.ensure_queued(enqueue)
        return handed_on

    async def ensure_queued(self, enqueue: Enqueue) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self.attempts)
            pipe.smembers(self.done)
            pipe.hkeys(self.owners)
            attempts, done, owned = await pipe.execute()
        busy = {int(c) for c in done} | {int(c) for c in owned}
        for raw_chunk, raw_attempt in attempts.items():
            if int(raw_chunk) not in busy:
                await enqueue(self.run_id, int(raw_chunk), int(raw_attempt))

    async def read_results(self, after: str, block_ms: int) -> tuple[str, list[ChunkResult]]:
        """Results published after stream id ``after`` ("0" for all), waiting up to
        ``block_ms`` for one; 0 does not wait (Redis's BLOCK 0 would wait for ever)."""
        found = await self.redis.xread({self.results: after}, block=block_ms or None, count=1000)
        results = []
        for _stream, entries in found or ():
            for entry_id, fields in entries:
                after = entry_id.decode()
                results.append(
                    ChunkResult(
                        int(fields[b"chunk"]),
                        fields[b"kind"].decode(),
                        json.loads(fields[b"payload"]),
                    )
                )
        return after, results

    async def delete(self, chunks: int) -> None:
        """Forget a finished run (its journal too: the output file now holds the outcome)."""
        names = [self.owners, self.attempts, self.done, self.results, self.meta]
        for chunk in range(chunks):
            names += [self.input_key(chunk), keys.chunk_journal(self.run_id, chunk)]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(*names)
            pipe.srem(keys.RUNS, self.run_id)
            await pipe.execute()
