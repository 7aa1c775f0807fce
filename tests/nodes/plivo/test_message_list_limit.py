"""Plivo's 20 message-list requests a minute: the client paces them, the sandbox enforces it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from plivo_node.core.errors import RateLimitedError
from plivo_node.http.limiter import RateLimiter
from plivo_node.http.retry import RetryPolicy
from plivo_node.nodes.plivo.client import ENDPOINT_RATE_LIMITS, PlivoClient
from plivo_node.nodes.plivo.credentials import Credentials
from plivo_sandbox import Sandbox, SandboxConfig

LIST = ("GET", "Message/")


class FakeTime:
    """A clock that only moves when the limiter sleeps, so waits are counted, not timed."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig()) as running:
        yield running


@pytest.fixture
async def unlimited_sandbox() -> AsyncIterator[Sandbox]:
    # The client's own pacing on a fake clock is under test: the real minute never passes.
    async with Sandbox(SandboxConfig(message_list_limit=None)) as running:
        yield running


def client_for(sandbox: Sandbox, **options: object) -> PlivoClient:
    credentials = Credentials(
        auth_id=sandbox.config.auth_id, auth_token=sandbox.config.auth_token, base_url=sandbox.url
    )
    return PlivoClient(credentials, **options)  # type: ignore[arg-type]


def test_the_message_list_is_limited_to_20_a_minute() -> None:
    assert ENDPOINT_RATE_LIMITS == {LIST: (20, 60.0)}


async def test_the_client_waits_for_the_list_window_and_nothing_else(
    unlimited_sandbox: Sandbox,
) -> None:
    fake = FakeTime()
    async with client_for(unlimited_sandbox) as client:
        client.endpoint_limiters[LIST] = RateLimiter((20, 60.0), clock=fake.clock, sleep=fake.sleep)
        for _ in range(20):
            await client.request("GET", "Message/", query={"limit": 1, "offset": 0})
        for _ in range(5):  # other endpoints are not held back by the list's limit
            await client.request("GET", "Number/")
        assert fake.sleeps == []
        await client.request("GET", "Message/", query={"limit": 1, "offset": 0})
    assert len(fake.sleeps) == 1
    assert fake.sleeps[0] == pytest.approx(60.0, abs=1.0)


async def test_the_sandbox_answers_429_to_the_21st_list_request_in_a_minute(
    sandbox: Sandbox,
) -> None:
    # No client-side pacing and no retries: the sandbox's own limit shows.
    async with client_for(sandbox, retry_policy=RetryPolicy(max_attempts=1)) as client:
        client.endpoint_limiters.clear()
        for _ in range(20):
            await client.request("GET", "Message/")
        with pytest.raises(RateLimitedError):
            await client.request("GET", "Message/")
        # Only the list is limited: other reads go on.
        response = await client.request("GET", "Number/")
    assert response.status == 200
