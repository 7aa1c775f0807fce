"""The send journal of one chunk, shared by every worker through Redis.

A :class:`plivo_node.run.journal.ItemJournal`: the engine and
:class:`plivo_node.run.step_journal.StepJournal` use it exactly as they use a run's SQLite
journal, so a redelivered chunk replays what its earlier attempt finished, reports what that
attempt left in flight as ``unknown_outcome``, and sends only what was never claimed.

Each item is one field of a hash (``step:index`` -> ``{"s": state, "o": outputs, "f":
fingerprint, "w": worker}``). :meth:`ChunkJournal.begin` *claims* items in one Lua script,
which succeeds only while this worker still owns the chunk and no other worker claimed the
items: a worker the sweep gave up for dead (its chunk handed to another) can claim nothing
more, so two workers never both send one item. Outcomes (:meth:`ChunkJournal.complete`) are
written in batches under the same ownership check. Redis must run with ``appendonly yes``
(checked on connect): a claim is in the append-only file before Redis answers it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from plivo_node.core.errors import PlivoNodeError
from plivo_node.core.items import JsonObject
from plivo_node.queue import keys
from plivo_node.run.journal import ItemState, Record, journal_text

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

# KEYS: the journal hash, the run's owners hash. ARGV: chunk, worker, then field/value pairs.
# Writes the claims no other worker holds; returns the fields it refused (every one when the
# chunk is no longer this worker's).
_CLAIM = """
local refused = {}
local mine = redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2]
for i = 3, #ARGV, 2 do
  local old = mine and redis.call('HGET', KEYS[1], ARGV[i])
  if not mine or (old and cjson.decode(old)['w'] ~= ARGV[2]) then
    refused[#refused + 1] = ARGV[i]
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
if not mine then return {'chunk'} end
return refused
"""

# Outcomes: written only while the chunk is still ours (else another worker redoes it).
_COMPLETE = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 'chunk' end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return ''
"""


class ClaimLostError(PlivoNodeError):
    """This worker no longer owns the chunk, or another claimed the item: nothing is sent."""

    code = "claim_lost"


class ChunkJournal:
    """The shared journal of one chunk of a queued run, as this worker sees it."""

    def __init__(
        self,
        redis: aioredis.Redis,
        run_id: str,
        chunk: int,
        worker: str,
        recorded: dict[int, dict[int, Record]],
    ) -> None:
        self._redis = redis
        self._keys = [keys.chunk_journal(run_id, chunk), keys.run(run_id, "owners")]
        self._chunk = str(chunk)
        self._worker = worker
        self._recorded = recorded
        self._claim = redis.register_script(_CLAIM)
        self._complete = redis.register_script(_COMPLETE)
        self._pending: list[str] = []
        self._claims: list[str] = []  # field/value pairs waiting for the next claim call
        self._claim_waiters: list[asyncio.Future[set[str]]] = []
        self._claiming: asyncio.TimerHandle | None = None
        self._claim_tasks: set[asyncio.Task[None]] = set()
        self._flushing: asyncio.Task[None] | None = None
        self.lost = False  # an outcome could not be written: the chunk is no longer ours
        self.claimed = 0  # items this attempt claimed: their requests went (or may have gone) out

    @classmethod
    async def load(
        cls, redis: aioredis.Redis, run_id: str, chunk: int, worker: str
    ) -> ChunkJournal:
        raw: dict[bytes, bytes] = await redis.hgetall(keys.chunk_journal(run_id, chunk))  # type: ignore[misc]
        recorded: dict[int, dict[int, Record]] = {}
        for field, value in raw.items():
            step, index = (int(part) for part in field.decode().split(":"))
            data = json.loads(value)
            outputs = json.loads(data["o"]) if data.get("o") is not None else None
            recorded.setdefault(step, {})[index] = Record(ItemState(data["s"]), outputs, data["f"])
        return cls(redis, run_id, chunk, worker, recorded)

    def records(self, step: int) -> dict[int, Record]:
        return dict(self._recorded.get(step, {}))

    async def begin(
        self,
        step: int,
        indices: Sequence[int],
        fingerprints: Sequence[str | None] | None = None,
    ) -> None:
        """Claim items; returns once the claims are in Redis, or raises
        :class:`ClaimLostError` (nothing may be sent) for a claim refused.

        Claims arriving within a millisecond share one script call, as the run journal's
        marks share one commit: one Redis round trip per item would cost more CPU than the
        send itself.
        """
        if not indices:
            return
        prints = fingerprints if fingerprints is not None else [None] * len(indices)
        fields = [f"{step}:{index}" for index in indices]
        for field, fingerprint in zip(fields, prints, strict=True):
            self._claims += [field, self._value(ItemState.IN_FLIGHT, None, fingerprint)]
        waiter: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
        self._claim_waiters.append(waiter)
        if self._claiming is None:
            self._claiming = asyncio.get_running_loop().call_later(0.001, self._start_claims)
        refused = await waiter
        lost = [field for field in fields if field in refused or "chunk" in refused]
        if lost:
            what = (
                "the chunk was handed on to another worker or attempt"
                if "chunk" in refused
                else f"item {lost[0]} was claimed by another worker or attempt"
            )
            raise ClaimLostError(f"not sent: {what}")
        self.claimed += len(indices)

    def _start_claims(self) -> None:
        self._claiming = None
        claims, self._claims = self._claims, []
        waiters, self._claim_waiters = self._claim_waiters, []
        task = asyncio.ensure_future(self._write_claims(claims, waiters))
        self._claim_tasks.add(task)
        task.add_done_callback(self._claim_tasks.discard)

    async def _write_claims(
        self, claims: list[str], waiters: list[asyncio.Future[set[str]]]
    ) -> None:
        try:
            answer = await self._claim(keys=self._keys, args=[self._chunk, self._worker, *claims])
        except (RedisError, asyncio.CancelledError) as exc:
            # Redis gone (or the worker stopping at once): no claim is known to be written,
            # so nothing is sent; one that was written is reported unknown by the next attempt.
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(
                        exc if isinstance(exc, RedisError) else ClaimLostError("not sent: stopped")
                    )
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        refused = {field.decode() for field in answer}
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(refused)

    def complete(
        self,
        step: int,
        index: int,
        state: ItemState | str,
        outputs: Sequence[JsonObject] | str,
        fingerprint: str | None = None,
    ) -> None:
        encoded = journal_text(outputs)
        self._pending += [f"{step}:{index}", self._value(ItemState(state), encoded, fingerprint)]
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.ensure_future(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(0.005)  # outcomes arriving within a few ms share one script call
        await self._write_pending()

    async def _write_pending(self) -> None:
        while self._pending:
            pending, self._pending = self._pending, []
            refused = await self._complete(
                keys=self._keys, args=[self._chunk, self._worker, *pending]
            )
            self.lost = self.lost or bool(refused)

    async def flush(self) -> None:
        """Write every outcome recorded so far."""
        if self._flushing is not None:
            await self._flushing
        await self._write_pending()

    def _value(self, state: ItemState, outputs: str | None, fingerprint: str | None) -> str:
        return _ENCODER.encode(
            {"s": state.value, "o": outputs, "f": fingerprint, "w": self._worker}
        )
