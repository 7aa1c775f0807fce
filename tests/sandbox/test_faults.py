"""Rate limit, injected faults (deterministic by seed), latency and config checks."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from plivo_node.core.errors import ConfigurationError
from plivo_sandbox import FaultConfig, Sandbox, SandboxConfig
from plivo_sandbox.faults import FaultInjector, SlidingWindowLimiter

from .conftest import Api, basic_auth

SEND = {"src": "14155550100", "dst": "14155550101", "text": "hi"}


@asynccontextmanager
async def serving(config: SandboxConfig, **session: object) -> AsyncIterator[tuple[Sandbox, Api]]:
    async with Sandbox(config) as sandbox:
        header = basic_auth(config.auth_id, config.auth_token)
        async with aiohttp.ClientSession(headers={"Authorization": header}, **session) as http:
            yield sandbox, Api(http, sandbox.account_url)


# --- rate limit --------------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", [False, True])
async def test_rate_limit_answers_429_past_the_limit(retry_after: bool) -> None:
    config = SandboxConfig(rate_limit=(3, 60.0), retry_after_header=retry_after)
    async with serving(config) as (sandbox, api):
        statuses = [(await api.post("Message/", SEND)).status for _ in range(3)]
        refused = await api.post("Message/", SEND)
    assert statuses == [202, 202, 202]
    assert refused.status == 429
    assert refused.body["error"] == "too many requests"
    assert set(refused.body) == {"api_id", "error"}
    assert ("Retry-After" in refused.headers) is retry_after
    if retry_after:
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(sandbox.state.messages) == 3


async def test_rate_limit_counts_a_request_when_it_arrives_not_when_its_body_is_read() -> None:
    # A arrives first but sends its body late; B and C come and go meanwhile. Counted by
    # arrival (as Plivo counts), A and B fit the limit of 2 and C is the one refused.
    config = SandboxConfig(rate_limit=(2, 60.0))
    async with serving(config) as (sandbox, api):
        body = json.dumps(SEND).encode()
        reader, writer = await asyncio.open_connection(sandbox.host, sandbox.port)
        path = f"/v1/Account/{config.auth_id}/Message/"
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\n"
            f"Authorization: {basic_auth(config.auth_id, config.auth_token)}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        await writer.drain()
        await asyncio.sleep(0.5)  # lets the server read A's headers: a sync, not a measurement
        second = await api.post("Message/", {**SEND, "dst": "14155550102"})
        third = await api.post("Message/", {**SEND, "dst": "14155550103"})
        writer.write(body)
        answer = await reader.read()
        writer.close()
    assert answer.startswith(b"HTTP/1.1 202"), answer[:40]
    assert (second.status, third.status) == (202, 429)


async def test_requests_that_fail_auth_do_not_use_the_accounts_rate() -> None:
    config = SandboxConfig(rate_limit=(1, 60.0))
    async with serving(config) as (_, api):
        wrong = {"Authorization": basic_auth(config.auth_id, "not-the-token")}
        assert (await api.call("POST", "Message/", json=SEND, headers=wrong)).status == 401
        assert (await api.post("Message/", SEND)).status == 202
        assert (await api.post("Message/", SEND)).status == 429


def test_sliding_window_frees_slots_as_time_passes() -> None:
    now = [100.0]
    limiter = SlidingWindowLimiter(2, 10.0, clock=lambda: now[0])
    assert limiter.acquire() is None
    now[0] = 105.0
    assert limiter.acquire() is None
    assert limiter.acquire() == pytest.approx(5.0)  # the first slot frees at 110
    now[0] = 110.0
    assert limiter.acquire() is None
    assert limiter.acquire() == pytest.approx(5.0)


# --- injected faults ---------------------------------------------------------------------------


async def statuses_for(faults: FaultConfig, count: int = 24) -> list[int]:
    async with serving(SandboxConfig(faults=faults)) as (_, api):
        return [(await api.get("")).status for _ in range(count)]


@pytest.mark.parametrize("kind", [429, 500, 503])
async def test_status_faults_are_deterministic_by_seed(kind: int) -> None:
    faults = FaultConfig(rate=0.5, seed=42, kinds=(kind,))
    first = await statuses_for(faults)
    second = await statuses_for(faults)
    assert first == second
    assert set(first) == {200, kind}
    other_seed = await statuses_for(FaultConfig(rate=0.5, seed=7, kinds=(kind,)))
    assert other_seed != first


def test_injector_draws_the_same_sequence_for_the_same_seed() -> None:
    config = FaultConfig(rate=0.3, seed=5, kinds=(500, "reset", "timeout"))
    injectors = [FaultInjector(config), FaultInjector(config)]
    runs = [[injector.draw("POST", "Message/") for _ in range(50)] for injector in injectors]
    assert runs[0] == runs[1]
    assert {500, "reset", "timeout"} <= set(runs[0])
    assert None in runs[0]


async def test_status_fault_is_not_acted_upon_and_is_logged() -> None:
    faults = FaultConfig(rate=1.0, kinds=(503,), paths=("POST Message/",))
    async with serving(SandboxConfig(faults=faults)) as (sandbox, api):
        refused = await api.post("Message/", SEND)
        account = await api.get("")
    assert refused.status == 503
    assert refused.body["error"] == "service unavailable"
    assert account.status == 200  # the path filter spares other requests
    assert sandbox.state.messages == []
    [fault] = sandbox.state.fault_log
    assert (fault.method, fault.kind) == ("POST", "503")
    assert sandbox.state.request_log[fault.request_index].path.endswith("/Message/")


async def test_reset_closes_the_connection_without_acting() -> None:
    faults = FaultConfig(rate=1.0, kinds=("reset",), paths=("Message/",))
    async with serving(SandboxConfig(faults=faults)) as (sandbox, api):
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await api.post("Message/", SEND)
        assert (await api.get("Number/")).status == 200
    assert sandbox.state.messages == []
    assert [f.kind for f in sandbox.state.fault_log] == ["reset"]


async def test_reset_after_acts_then_closes_the_connection() -> None:
    faults = FaultConfig(rate=1.0, kinds=("reset_after",), paths=("POST Message/",))
    async with serving(SandboxConfig(faults=faults)) as (sandbox, api):
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await api.post("Message/", SEND)
    assert sandbox.state.destination_counts == {"14155550101": 1}


async def test_timeout_acts_then_holds_the_answer() -> None:
    faults = FaultConfig(rate=1.0, kinds=("timeout",), paths=("POST Message/",), hold_seconds=30)
    timeout = aiohttp.ClientTimeout(total=0.3)
    async with serving(SandboxConfig(faults=faults), timeout=timeout) as (sandbox, api):
        with pytest.raises(TimeoutError):
            await api.post("Message/", SEND)
    # Stopping the sandbox released the held answer: this test does not last 30 s.
    assert sandbox.state.destination_counts == {"14155550101": 1}


async def test_mixed_faults_never_duplicate_and_account_for_every_send() -> None:
    """Each send is either refused (not recorded) or recorded exactly once, never twice."""
    faults = FaultConfig(rate=0.6, seed=3, kinds=(429, 500, "reset", "reset_after"))
    outcomes: dict[str, str] = {}
    async with serving(SandboxConfig(faults=faults)) as (sandbox, api):
        for index in range(30):
            dst = f"1415555{index:04d}"
            try:
                reply = await api.post("Message/", {**SEND, "dst": dst})
                outcomes[dst] = str(reply.status)
            except aiohttp.ServerDisconnectedError:
                outcomes[dst] = "disconnected"
    kinds = [fault.kind for fault in sandbox.state.fault_log]
    assert set(kinds) == {"429", "500", "reset", "reset_after"}
    assert all(count == 1 for count in sandbox.state.destination_counts.values())
    accepted = {dst for dst, outcome in outcomes.items() if outcome == "202"}
    assert accepted <= set(sandbox.state.destination_counts)
    unrecorded = set(outcomes) - set(sandbox.state.destination_counts)
    assert len(unrecorded) == kinds.count("429") + kinds.count("500") + kinds.count("reset")


def test_fault_paths_match_prefixes_and_methods() -> None:
    faults = FaultConfig(rate=1.0, paths=("POST Message/", "Call/"))
    assert faults.applies_to("POST", "Message/")
    assert not faults.applies_to("GET", "Message/")
    assert faults.applies_to("GET", "Call/abc/")
    assert not faults.applies_to("POST", "Application/")
    assert FaultConfig(rate=1.0).applies_to("DELETE", "Endpoint/1/")


# --- latency -----------------------------------------------------------------------------------


async def test_latency_delays_every_request() -> None:
    async with serving(SandboxConfig(latency_ms=100)) as (_, api):
        started = time.monotonic()
        reply = await api.get("")
        elapsed = time.monotonic() - started
    assert reply.status == 200
    assert elapsed >= 0.095  # a lower bound only: the delay must have happened


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: SandboxConfig(auth_id="SA0000"), "not a main-account Auth ID"),
        (lambda: SandboxConfig(auth_token=""), "auth_token"),
        (lambda: SandboxConfig(latency_ms=-1), "latency_ms"),
        (lambda: SandboxConfig(rate_limit=(0, 5.0)), "rate_limit"),
        (lambda: FaultConfig(rate=1.5), "outside 0..1"),
        (lambda: FaultConfig(kinds=("explode",)), "Unknown sandbox fault kind"),  # type: ignore[arg-type]
        (lambda: FaultConfig(kinds=()), "kinds are empty"),
        (lambda: FaultConfig(paths=("POST Message/?x=1",)), "not a path prefix"),
    ],
)
def test_bad_configuration_is_a_configuration_error(build, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()
