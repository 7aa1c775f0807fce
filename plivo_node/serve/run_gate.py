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
from collections.abc import Callable

# How long after the last request the burst counts as over.
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
        quiet_seconds: float = QUIET_SECONDS,
    ) -> None:
        if concurrency < 1 or busy_slots < 1:
            raise ValueError("a run gate needs at least one slot")
        self._concurrency = concurrency
        self._busy_slots = min(busy_slots, concurrency)
        self._reopened = reopened
        self._quiet = quiet_seconds
        self._running = 0
        self._last_request = -math.inf
        self._timer: asyncio.TimerHandle | None = None

    @property
    def running(self) -> int:
        return self._running

    def request_arrived(self) -> None:
        """A webhook request arrived: for ``quiet_seconds``, only ``busy_slots`` may run."""
        self._last_request = time.monotonic()

    def try_acquire(self) -> bool:
        quiet_for = time.monotonic() - self._last_request
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
