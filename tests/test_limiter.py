"""The rate limiter and pacer, counted against a fake clock (no wall-clock timing)."""

from __future__ import annotations

import asyncio
import heapq
import itertools

import pytest

from plivo_node.limiter import Pacer, RateLimiter


class FakeClock:
    """Virtual time: sleepers wake in deadline order, and time moves only when they do."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, int]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        entry = (self.now + seconds, next(self._order))
        heapq.heappush(self._sleepers, entry)
        while True:
            # Let every task that can run reach its own wait before time moves on.
            for _ in range(20):
                await asyncio.sleep(0)
            if self._sleepers[0] == entry:
                break
        heapq.heappop(self._sleepers)
        self.now = max(self.now, entry[0])


def assert_window_holds(starts: list[float], requests: int, per_seconds: float) -> None:
    """No ``per_seconds`` window holds more than ``requests`` starts."""
    for i in range(len(starts) - requests):
        assert starts[i + requests] - starts[i] >= per_seconds, starts


async def test_holds_the_configured_rate_sequentially() -> None:
    clock = FakeClock()
    limiter = RateLimiter((3, 1.0), clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(10):
        await limiter.acquire()
        starts.append(clock.now)
    assert starts == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0]
    assert_window_holds(starts, 3, 1.0)
    assert limiter.acquired == 10


async def test_holds_the_configured_rate_with_concurrent_acquirers() -> None:
    clock = FakeClock()
    limiter = RateLimiter((5, 2.0), clock=clock, sleep=clock.sleep)
    starts: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        starts.append(clock.now)

    await asyncio.gather(*(one() for _ in range(23)))
    assert len(starts) == 23
    starts.sort()
    assert_window_holds(starts, 5, 2.0)
    assert starts[-1] == 8.0  # 23 starts at 5 per 2 s: the last batch opens at 8 s
    assert limiter.waits == 18


async def test_a_full_window_blocks_until_the_oldest_start_ages_out() -> None:
    # A leaky bucket that holds 3 would let a 4th through after 1/3 s; the window must not.
    clock = FakeClock()
    limiter = RateLimiter((3, 1.0), clock=clock, sleep=clock.sleep)
    for _ in range(3):
        assert await limiter.acquire() is False
    clock.now = 0.5
    assert await limiter.acquire() is True
    assert clock.now == 1.0
    assert clock.sleeps == [0.5]


async def test_default_is_plivos_documented_limit() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    assert limiter.rate == (300, 5.0)
    for _ in range(300):
        await limiter.acquire()
    assert clock.now == 0.0
    await limiter.acquire()
    assert clock.now == 5.0


async def test_no_rate_means_no_waiting() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        assert await limiter.acquire() is False
    assert clock.sleeps == []


async def test_slow_down_with_retry_after_pauses_every_acquirer() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep)
    assert limiter.slow_down(2.5) == 2.5
    starts: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        starts.append(clock.now)

    await asyncio.gather(*(one() for _ in range(4)))
    assert starts == [2.5, 2.5, 2.5, 2.5]
    assert limiter.waits == 4


async def test_slow_down_keeps_the_rate_after_the_pause() -> None:
    clock = FakeClock()
    limiter = RateLimiter((2, 1.0), clock=clock, sleep=clock.sleep)
    await limiter.acquire()
    limiter.slow_down(3.0)
    starts = []
    for _ in range(4):
        await limiter.acquire()
        starts.append(clock.now)
    assert starts == [3.0, 3.0, 4.0, 4.0]


async def test_slow_down_without_retry_after_escalates_only_when_429s_persist() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, base_pause=1.0, max_pause=4.0, clock=clock, sleep=clock.sleep)
    assert limiter.slow_down() == 1.0
    clock.now = 0.5
    assert limiter.slow_down() == 0.5  # a 429 from a request already in flight: same pause
    clock.now = 1.2  # the pause ended and 429s came right back: pause longer
    assert limiter.slow_down() == 2.0
    clock.now = 3.5
    assert limiter.slow_down() == 4.0
    clock.now = 8.0
    assert limiter.slow_down() == 4.0  # capped
    clock.now = 100.0  # long after: the last pause worked, start over
    assert limiter.slow_down() == 1.0
    assert limiter.paused_until == 101.0


def test_retry_after_pause_is_bounded() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, max_retry_after=60.0, clock=clock, sleep=clock.sleep)
    assert limiter.slow_down(86400.0) == 60.0


@pytest.mark.parametrize("rate", [(0, 1.0), (10, 0.0), (5, -1.0)])
def test_rejects_meaningless_rates(rate: tuple[int, float]) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        RateLimiter(rate)


async def test_pacer_spaces_sends_of_one_key() -> None:
    clock = FakeClock()
    pacer = Pacer(2.0, clock=clock, sleep=clock.sleep)
    times: dict[str, list[float]] = {"a": [], "b": []}

    async def send(key: str) -> None:
        await pacer.wait(key)
        times[key].append(clock.now)

    await asyncio.gather(send("a"), send("a"), send("a"), send("b"))
    assert sorted(times["a"]) == [0.0, 0.5, 1.0]
    assert times["b"] == [0.0]
    assert pacer.waits == 2


async def test_pacer_off_never_waits() -> None:
    clock = FakeClock()
    pacer = Pacer(None, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        assert await pacer.wait("a") is False
    assert clock.sleeps == []


def test_pacer_rejects_non_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacer(0)
