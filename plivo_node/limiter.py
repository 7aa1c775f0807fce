"""Client-side rate limits: the account's request rate, 429 pauses, and per-sender pacing.

:class:`RateLimiter` keeps requests within Plivo's documented 300 requests per 5 seconds per
account. It is a sliding-window log rather than a leaky bucket: a bucket that holds 300 lets
300 through at once and then refills at 60/s, so one 5-second window can see 600 requests and
draw 429s. The log remembers the start times of the last ``requests`` acquisitions and lets a
new one start only once the oldest is ``per_seconds`` old, so *every* window of
``per_seconds`` holds at most ``requests`` starts, whichever way the server counts.

The clock and the sleep are injectable so tests count acquisitions against a fake clock
instead of timing real waits.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

PLIVO_REQUESTS = 300
PLIVO_PER_SECONDS = 5.0


class RateLimiter:
    """At most ``requests`` request starts in any ``per_seconds`` window; ``None`` means no limit.

    :meth:`slow_down` (called on a 429) pauses every acquirer for the server's Retry-After or,
    without one, a pause that doubles while 429s keep coming.
    """

    def __init__(
        self,
        rate: tuple[int, float] | None = (PLIVO_REQUESTS, PLIVO_PER_SECONDS),
        *,
        base_pause: float = 1.0,
        max_pause: float = PLIVO_PER_SECONDS,
        max_retry_after: float = 120.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate is not None:
            requests, per_seconds = rate
            if requests < 1 or per_seconds <= 0:
                raise ValueError("a rate limit needs at least 1 request per a positive period")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        # One acquirer at a time waits for a slot: asyncio.Lock is FIFO, so order is kept.
        self._lock = asyncio.Lock()
        self._base_pause = base_pause
        self._max_pause = max_pause
        self._max_retry_after = max_retry_after
        self._paused_until = 0.0
        self._pause = base_pause
        self.waits = 0  # acquisitions that had to wait (for slots or a pause)
        self.acquired = 0

    @property
    def paused_until(self) -> float:
        """The clock time before which no request starts (0 when never paused)."""
        return self._paused_until

    async def acquire(self) -> bool:
        """Wait until a request may start; ``True`` when that meant waiting."""
        if self.rate is None and self._paused_until <= self._clock():
            self.acquired += 1
            return False
        # The lock is only ever held by an acquirer that is waiting, so finding it taken means
        # this one is being throttled too.
        queued = self._lock.locked()
        async with self._lock:
            waited = await self._wait_for_slot() or queued
        self.acquired += 1
        if waited:
            self.waits += 1
        return waited

    async def _wait_for_slot(self) -> bool:
        waited = False
        while True:
            now = self._clock()
            if now < self._paused_until:
                waited = True
                await self._sleep(self._paused_until - now)
                continue
            if self.rate is None:
                return waited
            requests, per_seconds = self.rate
            starts = self._starts
            while starts and now - starts[0] >= per_seconds:
                starts.popleft()
            if len(starts) < requests:
                starts.append(now)
                return waited
            waited = True
            await self._sleep(starts[0] + per_seconds - now)

    def slow_down(self, retry_after: float | None = None) -> float:
        """Pause all acquirers after a 429; returns the seconds until requests resume.

        With ``retry_after`` the pause is exactly that (bounded by ``max_retry_after``).
        Without it, a 429 that arrives during a pause came from a request already in flight
        and changes nothing; one that arrives soon after a pause ended shows the pause was too
        short, so it doubles (up to ``max_pause``); otherwise the pause is ``base_pause``.
        """
        now = self._clock()
        if retry_after is not None and retry_after >= 0:
            until = now + min(retry_after, self._max_retry_after)
            self._paused_until = max(self._paused_until, until)
            return self._paused_until - now
        if now < self._paused_until:
            return self._paused_until - now
        if self._paused_until and now - self._paused_until < self._pause:
            self._pause = min(self._pause * 2, self._max_pause)
        else:
            self._pause = self._base_pause
        self._paused_until = now + self._pause
        return self._pause


class Pacer:
    """Spaces requests that share a key (a source number or powerpack) ``1/mps`` seconds apart.

    Plivo queues messages beyond a sender's messages-per-second instead of rejecting them, and
    expires queued messages after a while; pacing keeps that queue short. ``mps=None`` is off.
    """

    def __init__(
        self,
        mps: float | None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if mps is not None and mps <= 0:
            raise ValueError("messages per second must be positive")
        self.mps = mps
        self._clock = clock
        self._sleep = sleep
        self._next_slot: dict[str, float] = {}
        self.waits = 0

    async def wait(self, key: str) -> bool:
        """Wait for ``key``'s next slot; ``True`` when that meant waiting."""
        if self.mps is None:
            return False
        now = self._clock()
        # The slot is reserved before awaiting, so concurrent callers queue up behind it.
        slot = max(now, self._next_slot.get(key, now))
        self._next_slot[key] = slot + 1.0 / self.mps
        if slot <= now:
            return False
        self.waits += 1
        await self._sleep(slot - now)
        return True
