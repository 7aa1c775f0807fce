"""One account's limits shared by every worker: the rate window, in-flight leases, the 429
pause and per-sender pacing, each kept in Redis and decided by a Lua script on Redis's clock.

The window is the one :class:`plivo_node.http.limiter.RateLimiter` keeps in one process (see
its proof): a request holds its place from its start until ``per_seconds`` after its answer.
Here the place is a *lease*, a member of a sorted set scored by its expiry: released on the
answer (it then stays counted ``per_seconds`` in the released set), or, when its worker was
killed, expired after ``lease_seconds`` (the request timeout and a margin), so a dead worker's
slots come back and are counted as released at their expiry, never earlier. At most
``requests`` leases and recent releases exist at once, and at most ``max_in_flight`` leases.

Times come from Redis's ``TIME``, read inside each script, so hosts with skewed clocks share
one window. A script runs atomically: two workers cannot both take the last place.

Why not ``limits``' moving window: it counts request starts, which lets a request that started
late in one window and arrived early in the next share a window on the server's side (what
the one-process limiter's design avoids), it has no leases, and its Redis storage reads the
clock of the host it runs on.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable
from types import TracebackType

import redis.asyncio as aioredis

from plivo_node.http.limiter import MAX_PAUSE, RequestLimiter, RequestSlot, SendPacer
from plivo_node.queue import keys

# Returns 0 with the lease taken, or how many ms to wait before asking again.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local leases, released, pause = KEYS[1], KEYS[2], KEYS[3]
local id, requests, per, ttl, in_flight_max =
    ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local paused = tonumber(redis.call('GET', pause) or '0')
if now < paused then return paused - now end
-- a lease whose worker died: counted as released when it expired
local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'WITHSCORES')
for i = 1, #expired, 2 do
  redis.call('ZREM', leases, expired[i])
  redis.call('ZADD', released, expired[i + 1], expired[i])
end
redis.call('ZREMRANGEBYSCORE', released, '-inf', now - per)
local flying = redis.call('ZCARD', leases)
local held = flying + redis.call('ZCARD', released)
if held < requests and flying < in_flight_max then
  redis.call('ZADD', leases, now + ttl, id)
  redis.call('PEXPIRE', leases, ttl + per)
  redis.call('PEXPIRE', released, ttl + per)
  return 0
end
local oldest = redis.call('ZRANGE', released, 0, 0, 'WITHSCORES')
if flying < in_flight_max and #oldest > 0 then
  return math.max(tonumber(oldest[2]) + per - now, 1)
end
return -1  -- every place is in flight: room comes per after an answer
"""

_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
end
return 0
"""

# The 429 rule of RateLimiter.slow_down, shared: KEYS pause-until, last-rejection, pause-length.
_SLOW_DOWN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per, retry_after, base, max_pause, max_retry =
    tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local keep = 3600000
local last = tonumber(redis.call('GET', KEYS[2]) or '-1')
redis.call('SET', KEYS[2], now, 'PX', keep)
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if last < 0 or now - last >= per then return math.max(paused - now, 0) end
if retry_after >= 0 then
  local untl = math.max(paused, now + math.min(retry_after, max_retry))
  redis.call('SET', KEYS[1], untl, 'PX', keep)
  return untl - now
end
if now < paused then return paused - now end
local pause = tonumber(redis.call('GET', KEYS[3]) or tostring(base))
if paused > 0 and now - paused < pause then pause = math.min(pause * 2, max_pause)
else pause = base end
redis.call('SET', KEYS[3], pause, 'PX', keep)
redis.call('SET', KEYS[1], now + pause, 'PX', keep)
return pause
"""

# Per-sender pacing: reserve the key's next slot; returns ms to wait for it.
_PACE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], slot + interval, 'PX', math.floor(slot - now + interval + 60000))
return slot - now
"""

# How long to wait before asking again when every place is in flight.
_POLL = 0.02


class Lease:
    """One request's place in the shared window; :meth:`release` when its answer arrives."""

    __slots__ = ("_id", "_limiter")

    def __init__(self, limiter: SharedRateLimiter, lease_id: str) -> None:
        self._limiter: SharedRateLimiter | None = limiter
        self._id = lease_id

    def release(self) -> None:
        limiter, self._limiter = self._limiter, None
        if limiter is not None:
            limiter.release(self._id)

    def __enter__(self) -> RequestSlot:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class SharedRateLimiter:
    """A :class:`plivo_node.http.limiter.RequestLimiter` whose window lives in Redis."""

    def __init__(
        self,
        redis: aioredis.Redis,
        account: str,
        rate: tuple[int, float],
        *,
        owner: str,
        lease_seconds: float,
        max_in_flight: int = 100,
        base_pause: float = 1.0,
        max_retry_after: float = 120.0,
    ) -> None:
        self._redis = redis
        self._keys = [
            keys.account(account, "leases"),
            keys.account(account, "released"),
            keys.account(account, "paused-until"),
        ]
        self._pause_keys = [
            keys.account(account, "paused-until"),
            keys.account(account, "last-429"),
            keys.account(account, "pause"),
        ]
        self._requests, per_seconds = rate
        self._per_ms = round(per_seconds * 1000)
        self._ttl_ms = round(lease_seconds * 1000)
        self._max_in_flight = max_in_flight
        self._base_ms = round(base_pause * 1000)
        self._max_retry_ms = round(max_retry_after * 1000)
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._slow_down = redis.register_script(_SLOW_DOWN)
        self._owner = owner
        self._ids = itertools.count()
        # One acquirer of this process asks Redis at a time: order is kept, and a throttled
        # worker does not flood Redis with one script call per waiting request.
        self._lock = asyncio.Lock()
        self._background: set[asyncio.Task[object]] = set()
        self.waits = 0
        self.acquired = 0
        self.rejections = 0  # 429 answers reported through slow_down

    async def try_acquire(self) -> tuple[Lease | None, float]:
        """One attempt: the lease, or ``None`` and how many seconds to wait before the next
        (0 when every place is in flight: room comes with the next answer)."""
        lease_id = f"{self._owner}:{next(self._ids)}"
        args: list[str | int] = [
            lease_id,
            self._requests,
            self._per_ms,
            self._ttl_ms,
            self._max_in_flight,
        ]
        wait_ms = int(await self._acquire(keys=self._keys, args=args))
        if wait_ms == 0:
            return Lease(self, lease_id), 0.0
        return None, max(wait_ms, 0) / 1000

    async def acquire(self) -> RequestSlot:
        waited = False
        async with self._lock:
            while True:
                lease, wait = await self.try_acquire()
                if lease is not None:
                    break
                waited = True
                await asyncio.sleep(min(wait, 1.0) if wait > 0 else _POLL)
        self.acquired += 1
        self.waits += waited
        return lease

    def release(self, lease_id: str) -> None:
        self._spawn(
            self._release(keys=self._keys[:2], args=[lease_id, self._per_ms + self._ttl_ms])
        )

    def slow_down(self, retry_after: float | None = None) -> float:
        """Share a 429: the pause (computed in Redis as the one-process limiter does) holds
        every worker's next acquire. Returns 0: the pause is known only to the next acquire."""
        self.rejections += 1
        retry_ms = -1 if retry_after is None or retry_after < 0 else round(retry_after * 1000)
        args = [
            self._per_ms,
            retry_ms,
            self._base_ms,
            round(MAX_PAUSE * 1000),
            self._max_retry_ms,
        ]
        self._spawn(self._slow_down(keys=self._pause_keys, args=args))
        return 0.0

    def _spawn(self, call: Awaitable[object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(call)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for releases and pauses still being written to Redis."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


class SharedPacer:
    """A :class:`plivo_node.http.limiter.SendPacer` whose slots live in Redis."""

    def __init__(self, redis: aioredis.Redis, account: str, messages_per_second: float) -> None:
        if messages_per_second <= 0:
            raise ValueError("messages per second must be positive")
        self._account = account
        self._interval_ms = max(round(1000 / messages_per_second), 1)
        self._pace = redis.register_script(_PACE)
        self.waits = 0

    async def wait(self, key: str) -> bool:
        wait_ms = int(
            await self._pace(
                keys=[keys.account(self._account, f"pace:{key}")], args=[self._interval_ms]
            )
        )
        if wait_ms <= 0:
            return False
        self.waits += 1
        await asyncio.sleep(wait_ms / 1000)
        return True


class AccountLimits:
    """A :class:`plivo_node.http.limiter.SharedLimits` for one account, on one Redis."""

    def __init__(
        self, redis: aioredis.Redis, account: str, *, owner: str, lease_seconds: float
    ) -> None:
        self._redis = redis
        self._account = account
        self._owner = owner
        self._lease_seconds = lease_seconds
        self.limiters: list[SharedRateLimiter] = []

    def rate_limiter(self, rate: tuple[int, float]) -> RequestLimiter:
        limiter = SharedRateLimiter(
            self._redis, self._account, rate, owner=self._owner, lease_seconds=self._lease_seconds
        )
        self.limiters.append(limiter)
        return limiter

    def pacer(self, messages_per_second: float) -> SendPacer:
        return SharedPacer(self._redis, self._account, messages_per_second)
