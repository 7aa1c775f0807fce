"""Client-side rate limits: the account's request rate, 429 pauses, and per-sender pacing.

:class:`RateLimiter` keeps requests within a service's documented rate (its node declares it,
e.g. 300 requests per 5 seconds per account), counted as the server counts them: by the time
each request *arrives*. The client cannot see that time, only that it lies between the
request's start and its response (pool waits, TLS and the network sit in between, and vary
from request to request). So a request
holds its place in the window from its start until ``per_seconds`` after its response: an
:meth:`RateLimiter.acquire` returns a :class:`Slot` that the caller releases when the response
arrives, and a new request may start only while fewer than ``requests`` slots are held or
were released within the last ``per_seconds``.

Why that is exact: suppose some window of ``per_seconds`` on the server's clock held
``requests + 1`` arrivals, and take the one among them that started last, ``j``. Every other
one ``i`` started no later, and arrived at most ``per_seconds`` before ``j`` arrived, so
``i``'s response came after ``start(j) - per_seconds`` (or had not come yet) when ``j``
started: ``requests`` slots were counted then, and ``j`` could not have started. A log of start
times alone (the previous design) lets a request that started late in one window but arrived
early in the next share a window with one that started early and arrived late; that drew 429s.

The clock and the sleep are injectable so tests count acquisitions against a fake clock
instead of timing real waits.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Protocol

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# The longest a 429 without Retry-After pauses every request, when the pause keeps doubling.
MAX_PAUSE = 5.0


class RequestSlot(Protocol):
    """A request's place in a rate window (a :class:`Slot`, or a lease in a shared window)."""

    def release(self) -> None: ...

    def __enter__(self) -> RequestSlot: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class RequestLimiter(Protocol):
    """What the HTTP client asks of a rate limiter: :class:`RateLimiter` in one process, or
    one whose window is shared by every worker of a queue (:mod:`plivo_node.queue.limits`)."""

    async def acquire(self) -> RequestSlot: ...

    def slow_down(self, retry_after: float | None = None) -> float: ...


class SendPacer(Protocol):
    """What the HTTP client asks of a pacer: :class:`Pacer`, or a shared one."""

    async def wait(self, key: str) -> bool: ...


class SharedLimits(Protocol):
    """Limits shared beyond this process (queue workers of one account): the run's clients
    build their limiter and pacer here instead of keeping their own."""

    def rate_limiter(self, rate: tuple[int, float]) -> RequestLimiter: ...

    def pacer(self, messages_per_second: float) -> SendPacer: ...


class Slot:
    """One request's place in the rate window, held until :meth:`release` (or the ``with``).

    ``waited`` says whether getting it meant waiting (for room in the window or a pause).
    Releasing twice is harmless, so a ``finally`` and an explicit release can both run.
    """

    __slots__ = ("_limiter", "waited")

    def __init__(self, limiter: RateLimiter | None, *, waited: bool) -> None:
        self._limiter = limiter
        self.waited = waited

    def release(self) -> None:
        """The response arrived (or the attempt ended): start the slot's last ``per_seconds``."""
        limiter, self._limiter = self._limiter, None
        if limiter is not None:
            limiter._release()  # the slot is the limiter's own handle

    def __enter__(self) -> Slot:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class RateLimiter:
    """At most ``requests`` arrivals in any ``per_seconds`` window; ``None`` means no limit.

    :meth:`slow_down` (called on a 429) pauses every acquirer for the server's Retry-After or,
    without one, a pause that doubles while 429s keep coming; with a known rate, a single 429
    (none other within ``per_seconds``) pauses nobody: the rejected request alone is retried.
    """

    def __init__(
        self,
        rate: tuple[int, float] | None,
        *,
        base_pause: float = 1.0,
        max_pause: float = MAX_PAUSE,
        max_retry_after: float = 120.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate is not None:
            requests, per_seconds = rate
            if requests < 1 or not 0 < per_seconds < math.inf:  # NaN fails this too
                raise ValueError("a rate limit needs at least 1 request per a positive period")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._in_flight = 0  # slots acquired and not yet released
        # Release times within the last per_seconds, oldest first (the clock only goes up).
        self._released: deque[float] = deque()
        self._on_release: asyncio.Future[None] | None = None  # a waiter for any release
        # One acquirer at a time waits for a slot: asyncio.Lock is FIFO, so order is kept.
        self._lock = asyncio.Lock()
        self._base_pause = base_pause
        self._max_pause = max_pause
        self._max_retry_after = max_retry_after
        self._paused_until = 0.0
        self._pause = base_pause
        self._last_rejection: float | None = None
        self.waits = 0  # acquisitions that had to wait (for slots or a pause)
        self.acquired = 0

    @property
    def paused_until(self) -> float:
        """The clock time before which no request starts (0 when never paused)."""
        return self._paused_until

    @property
    def in_flight(self) -> int:
        """Slots acquired and not yet released: requests waiting for their answer."""
        return self._in_flight

    @property
    def held(self) -> int:
        """Slots counted now: in flight, or released within the last ``per_seconds``."""
        if self.rate is not None:
            self._forget_released(self._clock(), self.rate[1])
        return self._in_flight + len(self._released)

    async def acquire(self) -> Slot:
        """Wait until a request may start; release the slot when its response arrives."""
        if self.rate is None and self._paused_until <= self._clock():
            self.acquired += 1
            return Slot(None, waited=False)
        # The lock is only ever held by an acquirer that is waiting, so finding it taken means
        # this one is being throttled too.
        queued = self._lock.locked()
        async with self._lock:
            waited = await self._wait_for_slot() or queued
        self.acquired += 1
        if waited:
            self.waits += 1
        return Slot(self if self.rate is not None else None, waited=waited)

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
            self._forget_released(now, per_seconds)
            if self._in_flight + len(self._released) < requests:
                self._in_flight += 1
                return waited
            waited = True
            if self._released:
                # A release during this sleep ages out later than the oldest one: no room sooner.
                await self._sleep(self._released[0] + per_seconds - now)
            else:
                # Every slot is in flight: room comes ``per_seconds`` after the next response.
                self._on_release = asyncio.get_running_loop().create_future()
                await self._on_release

    def _forget_released(self, now: float, per_seconds: float) -> None:
        released = self._released
        # The same sum as the wait in _wait_for_slot, so waking at it always frees the slot
        # (``now - released[0]`` can round below ``per_seconds`` and spin).
        while released and released[0] + per_seconds <= now:
            released.popleft()

    def _release(self) -> None:
        self._in_flight -= 1
        self._released.append(self._clock())
        waiter, self._on_release = self._on_release, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def slow_down(self, retry_after: float | None = None) -> float:
        """After a 429: pause all acquirers; returns the seconds until requests resume.

        With a known rate, the first 429 in ``per_seconds`` pauses nobody (returns 0): the
        window already spaces requests as the server counts them, so a stray 429 (another
        client on the account, a boundary the server rounds differently) is answered by
        retrying that one request. A second 429 within ``per_seconds`` shows the budget is
        not all ours, and pauses everyone as a limiter without a rate always does:

        With ``retry_after`` the pause is exactly that (bounded by ``max_retry_after``).
        Without it, a 429 that arrives during a pause came from a request already in flight
        and changes nothing; one that arrives soon after a pause ended shows the pause was too
        short, so it doubles (up to ``max_pause``); otherwise the pause is ``base_pause``.
        """
        now = self._clock()
        last, self._last_rejection = self._last_rejection, now
        if self.rate is not None and (last is None or now - last >= self.rate[1]):
            return max(self._paused_until - now, 0.0)
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

    Messaging services queue messages beyond a sender's messages-per-second instead of
    rejecting them, and expire queued messages after a while; pacing keeps that queue short.
    ``mps=None`` is off.
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
