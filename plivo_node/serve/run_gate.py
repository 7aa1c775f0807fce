"""How many queued events may run at once: fewer during a burst of webhook requests.

Acknowledging a callback quickly is what stops the caller (Plivo) retrying it, and every
event acknowledged is already durable, so under a burst acceptance comes first. A burst is
``busy_requests`` or more requests arriving within ``quiet_seconds`` (200 a second by default);
during one, and for ``quiet_seconds`` after, at most ``busy_slots`` events run and the rest
wait in the queue; then all ``concurrency`` slots open and the backlog catches up. Steadier
traffic never counts as a burst, so its events run at full concurrency however slow the
service they call. ``busy_slots`` is never 0, so events keep running through a burst that
does not end.

One event loop runs both the HTTP side and the events; this gate is what keeps the events from
taking the CPU time the HTTP side needs to answer within a few milliseconds.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

# A burst: this many requests within QUIET_SECONDS (200 a second), where one event loop
# starts to be short of time for both answering and running.
BUSY_REQUESTS = 10
# The window requests are counted in, and how long after the last busy one a burst is over.
QUIET_SECONDS = 0.05


def busy_slots_for(concurrency: int) -> int:
    """Events that run at once during a burst: a tenth of the pipeline's concurrency, >= 1."""
    return max(1, concurrency // 10)


class RunGate:
    """A counter of running events whose limit drops to ``busy_slots`` during a burst.

    :meth:`try_acquire` takes a slot if one is free under the current limit. One refused only
    because of a burst makes the gate call ``reopened`` once the burst may be over, so that the
    caller can start what waits (a released slot is the caller's to reuse at once).
    """

    def __init__(
        self,
        concurrency: int,
        *,
        busy_slots: int,
        reopened: Callable[[], None],
        busy_requests: int = BUSY_REQUESTS,
        quiet_seconds: float = QUIET_SECONDS,
    ) -> None:
        if concurrency < 1 or busy_slots < 1:
            raise ValueError("a run gate needs at least one slot")
        self._concurrency = concurrency
        self._busy_slots = min(busy_slots, concurrency)
        self._reopened = reopened
        self._busy_requests = busy_requests
        self._quiet = quiet_seconds
        self._running = 0
        # Requests counted in the window that started at _window (a fixed window: cheap).
        self._window = -math.inf
        self._requests = 0
        self._last_busy = -math.inf  # when a window last reached busy_requests
        self._timer: asyncio.TimerHandle | None = None

    @property
    def running(self) -> int:
        return self._running

    def request_arrived(self) -> None:
        """A webhook request arrived; ``busy_requests`` within ``quiet_seconds`` make a burst,
        and until ``quiet_seconds`` after it only ``busy_slots`` events may run."""
        now = time.monotonic()
        if now - self._window >= self._quiet:
            self._window, self._requests = now, 0
        self._requests += 1
        if self._requests >= self._busy_requests:
            self._last_busy = now

    def try_acquire(self) -> bool:
        quiet_for = time.monotonic() - self._last_busy
        limit = self._concurrency if quiet_for >= self._quiet else self._busy_slots
        if self._running < limit:
            self._running += 1
            return True
        if limit < self._concurrency and self._timer is None:
            # Refused for the burst alone: look again when it may be over.
            delay = max(self._quiet - quiet_for, 0.001)
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)
        return False

    def release(self) -> None:
        self._running -= 1

    def _on_timer(self) -> None:
        self._timer = None
        self._reopened()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
