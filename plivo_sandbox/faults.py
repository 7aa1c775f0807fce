"""Injected faults and the rate limit: the ways a sandbox refuses or loses a request on purpose."""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable

from aiohttp import web

from plivo_sandbox.config import FaultConfig, FaultKind


class FaultInjector:
    """Decides, request by request, whether to inject a fault and which one.

    One ``random.Random(seed)`` makes two draws for every request the config applies to, in
    arrival order, whether or not a fault results: the same seed and request order always
    give the same faults.
    """

    def __init__(self, config: FaultConfig) -> None:
        self._config = config
        self._random = random.Random(config.seed)  # noqa: S311 - reproducibility, not secrecy

    def draw(self, method: str, resource_path: str) -> FaultKind | None:
        config = self._config
        if config.rate <= 0.0 or not config.applies_to(method, resource_path):
            return None
        roll = self._random.random()
        kind = config.kinds[self._random.randrange(len(config.kinds))]
        return kind if roll < config.rate else None


class SlidingWindowLimiter:
    """At most ``requests`` accepted in any ``per_seconds`` window; refused ones do not count."""

    def __init__(
        self, requests: int, per_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._requests = requests
        self._per_seconds = per_seconds
        self._clock = clock
        self._accepted: deque[float] = deque()

    def acquire(self) -> float | None:
        """``None`` when the request may go on, else the seconds until one would be allowed."""
        now = self._clock()
        window_start = now - self._per_seconds
        accepted = self._accepted
        while accepted and accepted[0] <= window_start:
            accepted.popleft()
        if len(accepted) < self._requests:
            accepted.append(now)
            return None
        return accepted[0] + self._per_seconds - now


def retry_after_value(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


def drop_connection(request: web.Request) -> web.Response:
    """Close the client's connection with no answer at all.

    The transport is aborted first, so the response returned afterwards (aiohttp needs one)
    is never written: the client sees the connection end before any status line.
    """
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=499)
