"""How many queued events may run at once: fewer while webhook requests keep arriving.

Acknowledging a callback quickly is what stops the caller (Plivo) retrying it, and every
event acknowledged is already durable, so under a burst acceptance comes first: while requests
keep arriving (one within the last ``quiet_seconds``), at most ``busy_slots`` events run, and
the rest wait in the queue; once requests pause, all ``concurrency`` slots open and the backlog
catches up. ``busy_slots`` is never 0, so events keep running through a burst that does not end.

One event loop runs both the HTTP side and the events; this gate is what keeps the events from
taking the CPU time the HTTP side needs to answer within a few milliseconds.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque

# How long after the last request the burst counts as over.
QUIET_SECONDS = 0.05


def busy_slots_for(concurrency: int) -> int:
    """Events that run at once during a burst: a tenth of the pipeline's concurrency, >= 1."""
    return max(1, concurrency // 10)


class RunGate:
    """A semaphore whose size drops to ``busy_slots`` while requests keep arriving."""

    def __init__(
        self, concurrency: int, *, busy_slots: int, quiet_seconds: float = QUIET_SECONDS
    ) -> None:
        if concurrency < 1 or busy_slots < 1:
            raise ValueError("a run gate needs at least one slot")
        self._concurrency = concurrency
        self._busy_slots = min(busy_slots, concurrency)
        self._quiet = quiet_seconds
        self._running = 0
        self._last_request = -math.inf
        # Waiting acquirers, first come first served; a future's result means "slot granted".
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def running(self) -> int:
        return self._running

    def request_arrived(self) -> None:
        """A webhook request arrived: for ``quiet_seconds``, only ``busy_slots`` may run."""
        self._last_request = time.monotonic()

    def _limit(self) -> int:
        if time.monotonic() - self._last_request < self._quiet:
            return self._busy_slots
        return self._concurrency

    async def acquire(self) -> None:
        if not self._waiters and self._running < self._limit():
            self._running += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._arm()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted, then cancelled before it could run: pass it on
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self._running -= 1
        self._wake()

    def _wake(self) -> None:
        limit = self._limit()
        while self._waiters and self._running < limit:
            waiter = self._waiters.popleft()
            if waiter.done():
                continue  # cancelled; its task removes nothing more
            self._running += 1
            waiter.set_result(None)
        self._arm()

    def _arm(self) -> None:
        """While some wait only because of a burst, look again once it may be over."""
        if self._timer is not None or not self._waiters or self._running >= self._concurrency:
            return
        delay = self._last_request + self._quiet - time.monotonic()
        self._timer = asyncio.get_running_loop().call_later(max(delay, 0.001), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._wake()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
