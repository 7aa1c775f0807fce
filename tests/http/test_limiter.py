"""The rate limiter and pacer, counted against a fake clock (no wall-clock timing)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random

import pytest

from plivo_node.http.limiter import Pacer, RateLimiter
from plivo_node.nodes.plivo.factory import PlivoClientFactory


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


def assert_window_holds(times: list[float], requests: int, per_seconds: float) -> None:
    """No window ``(t - per_seconds, t]`` (how Plivo and the sandbox count) holds more."""
    times = sorted(times)
    for i in range(len(times) - requests):
        assert times[i + requests] - times[i] >= per_seconds, (i, times[i : i + requests + 1])


async def test_holds_the_configured_rate_sequentially() -> None:
    clock = FakeClock()
    limiter = RateLimiter((3, 1.0), clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(10):
        with await limiter.acquire():
            starts.append(clock.now)  # answered at once
    assert starts == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0]
    assert limiter.acquired == 10


async def test_a_slot_counts_until_per_seconds_after_its_response() -> None:
    clock = FakeClock()
    limiter = RateLimiter((2, 1.0), clock=clock, sleep=clock.sleep)
    first = await limiter.acquire()
    second = await limiter.acquire()
    clock.now = 0.3
    first.release()  # answered at 0.3: it may have arrived as late as 0.3
    clock.now = 0.4
    second.release()
    third = await limiter.acquire()
    assert clock.now == 1.3  # not 1.0: the first request may have arrived at 0.3
    assert third.waited
    assert limiter.held == 2


async def test_with_every_slot_in_flight_room_comes_per_seconds_after_the_next_response() -> None:
    clock = FakeClock()
    limiter = RateLimiter((2, 1.0), clock=clock, sleep=clock.sleep)
    slots = [await limiter.acquire(), await limiter.acquire()]
    started: list[float] = []

    async def third() -> None:
        with await limiter.acquire():
            started.append(clock.now)

    async def answer_later() -> None:
        await clock.sleep(2.0)  # a slow answer: nothing may start before it plus 1 s
        slots[1].release()

    await asyncio.gather(third(), answer_later())
    assert started == [3.0]
    slots[0].release()


async def test_releasing_twice_counts_once() -> None:
    clock = FakeClock()
    limiter = RateLimiter((2, 1.0), clock=clock, sleep=clock.sleep)
    slot = await limiter.acquire()
    with slot:
        pass
    slot.release()
    assert limiter.held == 1
    clock.now = 1.0
    assert limiter.held == 0


@pytest.mark.parametrize("seed", range(40))
async def test_every_window_of_arrival_times_holds_the_limit_whatever_the_latencies(
    seed: int,
) -> None:
    """The property the server sees: arrivals anywhere between start and response.

    Each simulated request waits a random time before it reaches the server (pool wait,
    network) and another before its answer is back; some take far longer than the window.
    A limiter counting start times (the old design) fails this for most seeds.
    """
    rng = random.Random(seed)
    requests, per_seconds = rng.randint(1, 6), rng.choice([0.5, 1.0, 5.0])
    clock = FakeClock()
    limiter = RateLimiter((requests, per_seconds), clock=clock, sleep=clock.sleep)
    arrivals: list[float] = []
    slow = rng.random() < 0.3  # sometimes latencies beyond the window itself

    def latency() -> float:
        return rng.uniform(0.0, per_seconds * (2.0 if slow else 0.2))

    async def one() -> None:
        with await limiter.acquire():
            await clock.sleep(latency())
            arrivals.append(clock.now)
            await clock.sleep(latency())

    workers = rng.randint(1, 3 * requests)
    queue = list(range(rng.randint(requests + 1, 6 * requests)))

    async def worker() -> None:
        while queue:
            queue.pop()
            await one()

    await asyncio.gather(*(worker() for _ in range(workers)))
    assert_window_holds(arrivals, requests, per_seconds)
    assert limiter.held <= requests


async def test_back_to_back_batches_lose_only_the_answer_time() -> None:
    # 3 windows' worth with 0.1 s answers: the ideal is 2 s; holding slots until the answer
    # costs one answer time per window boundary, not a window.
    clock = FakeClock()
    limiter = RateLimiter((10, 1.0), clock=clock, sleep=clock.sleep)
    starts: list[float] = []

    async def one() -> None:
        with await limiter.acquire():
            starts.append(clock.now)
            await clock.sleep(0.1)

    await asyncio.gather(*(one() for _ in range(30)))
    assert starts[-1] == pytest.approx(2.2)


async def test_the_plivo_nodes_default_is_plivos_documented_limit() -> None:
    clock = FakeClock()
    default = PlivoClientFactory().default_rate_limit
    limiter = RateLimiter(default, clock=clock, sleep=clock.sleep)
    assert limiter.rate == (300, 5.0)
    for _ in range(300):
        (await limiter.acquire()).release()
    assert clock.now == 0.0
    await limiter.acquire()
    assert clock.now == 5.0


async def test_no_rate_means_no_waiting() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        assert (await limiter.acquire()).waited is False
    assert clock.sleeps == []


async def test_an_acquirer_cancelled_while_waiting_takes_no_slot() -> None:
    clock = FakeClock()
    limiter = RateLimiter((1, 1.0), clock=clock, sleep=clock.sleep)
    held = await limiter.acquire()
    waiting = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    held.release()
    clock.now = 1.0
    assert limiter.held == 0
    (await limiter.acquire()).release()
    assert clock.now == 1.0


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


async def test_a_stray_429_under_a_known_rate_pauses_nobody() -> None:
    clock = FakeClock()
    limiter = RateLimiter((2, 1.0), clock=clock, sleep=clock.sleep)
    assert limiter.slow_down(3.0) == 0.0  # the rejected request alone waits its Retry-After
    (await limiter.acquire()).release()
    assert clock.now == 0.0
    clock.now = 1.5
    assert limiter.slow_down() == 0.0  # a window later: stray again
    clock.now = 1.7
    assert limiter.slow_down() == 1.0  # two within the window: the budget is not all ours
    slot = await limiter.acquire()
    assert clock.now == 2.7
    assert slot.waited


async def test_429s_that_persist_under_a_known_rate_honour_retry_after() -> None:
    clock = FakeClock()
    limiter = RateLimiter((2, 1.0), clock=clock, sleep=clock.sleep)
    limiter.slow_down()
    assert limiter.slow_down(4.0) == 4.0
    assert limiter.paused_until == 4.0


async def test_slow_down_keeps_the_rate_after_the_pause() -> None:
    clock = FakeClock()
    limiter = RateLimiter((2, 1.0), clock=clock, sleep=clock.sleep)
    (await limiter.acquire()).release()
    limiter.slow_down()
    limiter.slow_down(3.0)
    starts = []
    for _ in range(4):
        with await limiter.acquire():
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


@pytest.mark.parametrize(
    "rate", [(0, 1.0), (10, 0.0), (5, -1.0), (5, float("nan")), (5, float("inf"))]
)
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
