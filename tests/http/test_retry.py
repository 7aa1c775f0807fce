"""The retry decision table: method x path x error -> retry or not, and the delays."""

from __future__ import annotations

import random
from typing import Any

import pytest

from plivo_node.core.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConnectionFailedError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    ParameterError,
    PlivoNodeError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    UnknownOutcomeError,
)
from plivo_node.http.retry import RetryPolicy
from plivo_node.nodes.plivo.client import sent_by


def policy_for_plivo(**options: Any) -> RetryPolicy:
    """The policy with Plivo's sends (POST Message/ and Call/), as the Plivo client sets it."""
    return RetryPolicy(sends=sent_by, service="Plivo", **options)


def api(cls: type[ApiError], status: int, retry_after: float | None = None) -> ApiError:
    return cls(status=status, method="X", path="p", retry_after=retry_after)


def refused() -> ConnectionFailedError:
    return ConnectionFailedError("refused", request_sent=False)


def dropped() -> ConnectionFailedError:
    return ConnectionFailedError("dropped", request_sent=True)


def read_timeout() -> RequestTimeoutError:
    return RequestTimeoutError("read timeout", request_sent=True)


def connect_timeout() -> RequestTimeoutError:
    return RequestTimeoutError("connect timeout", request_sent=False)


# (method, path, error, retry?, outcome unknown?)
TABLE: list[tuple[str, str, PlivoNodeError, bool, bool]] = [
    # reads: every transient failure
    ("GET", "Message/", api(RateLimitedError, 429), True, False),
    ("GET", "Message/", api(ServerError, 500), True, False),
    ("GET", "Call/abc/", api(ServerError, 502), True, False),
    ("GET", "", api(ServerError, 503), True, False),
    ("GET", "Message/", refused(), True, False),
    ("GET", "Message/", dropped(), True, False),
    ("GET", "Message/", read_timeout(), True, False),
    ("GET", "Message/", connect_timeout(), True, False),
    ("GET", "Message/", api(BadRequestError, 400), False, False),
    ("GET", "Message/x/", api(NotFoundError, 404), False, False),
    ("GET", "", api(AuthenticationError, 401), False, False),
    ("GET", "", api(ForbiddenError, 403), False, False),
    ("GET", "Message/", api(InvalidRequestError, 422), False, False),
    # sends: only when Plivo provably did not act
    ("POST", "Message/", api(RateLimitedError, 429), True, False),
    ("POST", "Message/", refused(), True, False),
    ("POST", "Message/", connect_timeout(), True, False),
    ("POST", "Message/", api(ServerError, 500), False, True),
    ("POST", "Message/", api(ServerError, 503), False, True),
    ("POST", "Message/", dropped(), False, True),
    ("POST", "Message/", read_timeout(), False, True),
    ("POST", "Message/", api(BadRequestError, 400), False, False),
    ("POST", "Message/", api(ApiError, 202), False, True),  # unreadable success body
    ("POST", "Call/", api(RateLimitedError, 429), True, False),
    ("POST", "Call/", refused(), True, False),
    ("POST", "Call/", api(ServerError, 500), False, True),
    ("POST", "Call/", read_timeout(), False, True),
    ("POST", "Call/", dropped(), False, True),
    # other writes: provable cases only, ambiguous ones reported as they are
    ("POST", "Application/", api(RateLimitedError, 429), True, False),
    ("POST", "Application/", refused(), True, False),
    ("POST", "Application/", api(ServerError, 500), False, False),
    ("POST", "Application/", read_timeout(), False, False),
    ("POST", "Endpoint/", dropped(), False, False),
    ("POST", "Media/", api(ServerError, 502), False, False),
    ("POST", "Media/", refused(), True, False),
    ("POST", "Call/abc/Play/", api(ServerError, 500), False, False),
    ("POST", "Application/", api(ApiError, 200), False, False),
    ("DELETE", "Application/123/", api(RateLimitedError, 429), True, False),
    ("DELETE", "Application/123/", refused(), True, False),
    ("DELETE", "Application/123/", api(ServerError, 500), False, False),
    ("DELETE", "Endpoint/1/", read_timeout(), False, False),
    ("DELETE", "Application/123/", api(NotFoundError, 404), False, False),
    # not a transport or API failure at all
    ("GET", "Message/", ParameterError("bad"), False, False),
    ("POST", "Message/", ParameterError("bad"), False, False),
]


@pytest.mark.parametrize(("method", "path", "error", "retry", "unknown"), TABLE)
def test_decision_table(
    method: str, path: str, error: PlivoNodeError, retry: bool, unknown: bool
) -> None:
    decision = policy_for_plivo(backoff=False).decide(method, path, error, attempt=1)
    assert (decision.retry, decision.outcome_unknown) == (retry, unknown), decision.reason
    assert decision.reason


@pytest.mark.parametrize(
    ("method", "path", "send"),
    [
        ("POST", "Message/", True),
        ("post", "Message", True),
        ("POST", "Call/", True),
        ("GET", "Message/", False),
        ("GET", "Call/", False),
        ("POST", "Media/", False),
        ("POST", "Call/abc/Play/", False),
        ("POST", "Message/abc/", False),
        ("DELETE", "Call/abc/", False),
        ("POST", "Application/", False),
    ],
)
def test_is_send(method: str, path: str, send: bool) -> None:
    assert (sent_by(method, path) is not None) is send


def test_without_sends_an_ambiguous_write_failure_is_reported_as_it_was() -> None:
    """A service none of whose requests is a send: nothing becomes unknown_outcome."""
    decision = RetryPolicy(backoff=False).decide("POST", "Message/", api(ServerError, 500), 1)
    assert not decision.retry
    assert not decision.outcome_unknown


def test_gives_up_after_max_attempts() -> None:
    policy = policy_for_plivo(max_attempts=3, backoff=False)
    error = api(ServerError, 500)
    assert policy.decide("GET", "Message/", error, attempt=2).retry
    final = policy.decide("GET", "Message/", error, attempt=3)
    assert not final.retry
    assert "3 attempts" in final.reason


def test_send_gives_up_as_not_sent_when_attempts_run_out_on_provable_failures() -> None:
    decision = policy_for_plivo(max_attempts=2, backoff=False).decide(
        "POST", "Message/", refused(), attempt=2
    )
    assert not decision.retry
    assert not decision.outcome_unknown


def test_retry_unknown_sends_opt_in() -> None:
    policy = policy_for_plivo(max_attempts=3, backoff=False, retry_unknown_sends=True)
    assert policy.decide("POST", "Message/", api(ServerError, 500), attempt=1).retry
    assert policy.decide("POST", "Call/", read_timeout(), attempt=2).retry
    last = policy.decide("POST", "Message/", api(ServerError, 500), attempt=3)
    assert not last.retry
    assert last.outcome_unknown


def test_retry_after_is_honoured() -> None:
    policy = policy_for_plivo(rng=random.Random(1))
    decision = policy.decide("POST", "Message/", api(RateLimitedError, 429, 7.0), attempt=1)
    assert decision.retry
    assert decision.delay == 7.0


def test_retry_after_is_bounded() -> None:
    policy = policy_for_plivo(max_retry_after=30.0)
    decision = policy.decide("GET", "", api(RateLimitedError, 429, 3600.0), attempt=1)
    assert decision.delay == 30.0


def test_backoff_off_makes_every_delay_zero() -> None:
    policy = policy_for_plivo(backoff=False)
    for error in (api(RateLimitedError, 429, 7.0), api(ServerError, 500), refused()):
        for attempt in (1, 2, 4):
            assert policy.decide("GET", "Message/", error, attempt).delay == 0.0


def test_exponential_backoff_is_capped_without_jitter() -> None:
    policy = policy_for_plivo(max_attempts=10, base_delay=0.5, max_delay=3.0, jitter=False)
    delays = [policy.decide("GET", "", api(ServerError, 500), n).delay for n in range(1, 7)]
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_full_jitter_stays_between_zero_and_the_ceiling() -> None:
    policy = policy_for_plivo(max_attempts=10, base_delay=1.0, max_delay=4.0, rng=random.Random(7))
    delays = [policy.decide("GET", "", refused(), attempt=3).delay for _ in range(200)]
    assert all(0.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 100  # actually jittered, not a constant


def test_unknown_outcome_error_says_what_happened() -> None:
    policy = policy_for_plivo()
    error = policy.unknown_outcome("POST", "Message/", api(ServerError, 500))
    assert isinstance(error, UnknownOutcomeError)
    assert error.code == "unknown_outcome"
    assert "may or may not have been sent" in error.message
    assert "not re-sent automatically" in error.message
    assert "message" in error.message
    call = policy.unknown_outcome("POST", "Call/", read_timeout())
    assert "call may or may not" in call.message.lower()


def test_max_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
