"""Run queued events concurrently, at most ``concurrency`` at once, in order per order key.

Events with the same order key (the same end user) form a chain: the next starts only when
the one before it has finished, so a STOP and a later START take effect in the order they
were sent. Chains run side by side. While webhook requests keep arriving, fewer events run at
once (:mod:`.run_gate`): acknowledging comes first, the queue holds the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from plivo_node.serve.queue import QueuedEvent
from plivo_node.serve.run_gate import RunGate, busy_slots_for

logger = logging.getLogger(__name__)

EventRunner = Callable[[QueuedEvent], Awaitable[None]]


class OrderedDispatcher:
    def __init__(
        self, run: EventRunner, *, concurrency: int, busy_slots: int | None = None
    ) -> None:
        self._run = run
        self._slots = RunGate(
            concurrency,
            busy_slots=busy_slots_for(concurrency) if busy_slots is None else busy_slots,
        )
        # Per order key with an event running or waiting for a slot: the events behind it.
        self._chains: dict[str, deque[QueuedEvent]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, event: QueuedEvent) -> None:
        chain = self._chains.get(event.order_key)
        if chain is not None:
            chain.append(event)
            return
        self._chains[event.order_key] = deque()
        self._start(event)

    def request_arrived(self) -> None:
        """A webhook request arrived: acceptance has priority over running for a moment."""
        self._slots.request_arrived()

    @property
    def busy(self) -> int:
        """Events submitted and not finished."""
        return sum(1 + len(chain) for chain in self._chains.values())

    def _start(self, event: QueuedEvent) -> None:
        self._idle.clear()
        task = asyncio.get_running_loop().create_task(self._chain(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _chain(self, event: QueuedEvent) -> None:
        key = event.order_key
        current: QueuedEvent | None = event
        try:
            while current is not None:
                await self._slots.acquire()
                try:
                    await self._run(current)
                except Exception:
                    # The event stays queued (it was not marked done): it runs again on the
                    # next start. The traceback goes to the log, not to the caller.
                    logger.exception("event %s failed", current.id)
                finally:
                    self._slots.release()
                chain = self._chains[key]
                current = chain.popleft() if chain else None
        finally:
            self._chains.pop(key, None)
            if not self._chains:
                self._idle.set()

    async def wait_idle(self) -> None:
        """Until every submitted event has run."""
        await self._idle.wait()

    async def cancel(self) -> None:
        """Abandon what has not finished (it stays queued and runs on the next start)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._chains.clear()
        self._slots.close()
        self._idle.set()
