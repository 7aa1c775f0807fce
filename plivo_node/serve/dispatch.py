"""Run queued events concurrently, at most ``concurrency`` at once, in order per order key.

Events with the same order key (the same end user) form a chain: the next starts only when
the one before it has finished, so a STOP and a later START take effect in the order they
were sent. Chains run side by side. During a burst of webhook requests fewer events run at
once (:mod:`.run_gate`): acknowledging comes first, the queue holds the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from plivo_node.serve.queue import QueuedEvent
from plivo_node.serve.run_gate import QUIET_SECONDS, RunGate, busy_slots_for

logger = logging.getLogger(__name__)

EventRunner = Callable[[QueuedEvent], Awaitable[None]]


class OrderedDispatcher:
    """Events wait in line (their chain's first in ``_ready``, the rest in their chain) and
    get a task only when a slot is theirs: a burst's backlog is a list, not thousands of
    waiting tasks."""

    def __init__(
        self,
        run: EventRunner,
        *,
        concurrency: int,
        busy_slots: int | None = None,
        quiet_seconds: float = QUIET_SECONDS,
    ) -> None:
        self._run = run
        self._slots = RunGate(
            concurrency,
            busy_slots=busy_slots_for(concurrency) if busy_slots is None else busy_slots,
            reopened=self._start_ready,
            quiet_seconds=quiet_seconds,
        )
        # Per order key with an event running or waiting: the events behind that one.
        self._chains: dict[str, deque[QueuedEvent]] = {}
        # Events whose turn in their chain has come, waiting for a slot, oldest first.
        self._ready: deque[QueuedEvent] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, event: QueuedEvent) -> None:
        chain = self._chains.get(event.order_key)
        if chain is not None:
            chain.append(event)
            return
        self._chains[event.order_key] = deque()
        self._idle.clear()
        self._ready.append(event)
        self._start_ready()

    def request_arrived(self) -> None:
        """A webhook request arrived (many in a short time: acceptance comes first)."""
        self._slots.request_arrived()

    def waiting(self, order_key: str) -> int:
        """Events with this order key submitted and not yet started."""
        chain = self._chains.get(order_key)
        return len(chain) if chain is not None else 0

    @property
    def busy(self) -> int:
        """Events submitted and not finished."""
        return sum(1 + len(chain) for chain in self._chains.values())

    def _start_ready(self) -> None:
        """Start waiting events while the gate has slots for them."""
        while self._ready and self._slots.try_acquire():
            event = self._ready.popleft()
            task = asyncio.get_running_loop().create_task(self._run_one(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_one(self, event: QueuedEvent) -> None:
        try:
            await self._run(event)
        except Exception:
            # The event stays queued (it was not marked done): it runs again on the next
            # start. The traceback goes to the log, not to the caller.
            logger.exception("event %s failed", event.id)
        finally:
            self._slots.release()
        chain = self._chains.get(event.order_key)
        if chain is None:
            return  # cancel() dropped every chain: nothing more starts
        if chain:
            self._ready.append(chain.popleft())  # the next of the same sender, after it
        else:
            del self._chains[event.order_key]
            if not self._chains:
                self._idle.set()
        self._start_ready()

    async def wait_idle(self) -> None:
        """Until every submitted event has run."""
        await self._idle.wait()

    async def cancel(self) -> None:
        """Abandon what has not finished (it stays queued and runs on the next start)."""
        self._ready.clear()
        self._chains.clear()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._slots.close()
        self._idle.set()
