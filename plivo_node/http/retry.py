"""The retry policy: one function, :meth:`RetryPolicy.decide`, says whether a failure is retried.

Services without idempotency keys may act twice on a repeated request, so a request is
retried only when doing it again cannot do harm. The rule, by kind of request:

- **Reads** (GET) are retried on 429, 5xx and every connection failure or timeout.
- **Sends** (the requests the node's ``sends`` names: a message, a call) are retried only when
  the service provably did not act: on 429, and on connection failures before the request was
  written (``request_sent`` False). After a 5xx, a timeout, a connection dropped after
  writing, or a 2xx answer that cannot be read, what it sends may or may not exist: that is an
  :class:`UnknownOutcomeError`, and the send is never repeated (unless the caller opts in
  with ``retry_unknown_sends``).
- **Other writes** (creates, updates, deletes, uploads) follow the same provable-only rule,
  because many are not idempotent either (creating an object twice makes two). An ambiguous
  failure is reported as the error it was.

Delays are capped exponential backoff with full jitter; a 429's ``Retry-After`` is honoured
instead when present. ``backoff=False`` makes every delay 0 (for tests).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from plivo_node.core.errors import (
    ApiError,
    PlivoNodeError,
    RateLimitedError,
    ServerError,
    TransportError,
    UnknownOutcomeError,
)

# (method, path) -> what the request sends ("message", "call"), or None when it is no send.
Sends = Callable[[str, str], str | None]


def no_sends(_method: str, _path: str) -> str | None:
    """For a service none of whose requests is a send."""
    return None


@dataclass(frozen=True)
class RetryDecision:
    """What to do after a failed attempt.

    ``outcome_unknown`` is set when the request was a send that may have reached the service: the
    caller raises :class:`UnknownOutcomeError` instead of the original error.
    """

    retry: bool
    delay: float
    reason: str
    outcome_unknown: bool = False

    @classmethod
    def give_up(cls, reason: str, *, outcome_unknown: bool = False) -> RetryDecision:
        return cls(retry=False, delay=0.0, reason=reason, outcome_unknown=outcome_unknown)


@dataclass
class RetryPolicy:
    """How often and how long to retry; see the module docstring for which failures."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    # A server asking for a longer pause than this is still obeyed up to this bound, so a
    # bogus header cannot stall a run for hours.
    max_retry_after: float = 120.0
    jitter: bool = True
    backoff: bool = True
    retry_unknown_sends: bool = False
    # Which requests are sends, and the service's name for messages: facts of the service,
    # which its node's client sets.
    sends: Sends = no_sends
    service: str = "the service"
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def decide(self, method: str, path: str, error: PlivoNodeError, attempt: int) -> RetryDecision:
        """Whether to retry after attempt number ``attempt`` (1-based) failed with ``error``."""
        method = method.upper()
        send = self.sends(method, path) is not None
        if not isinstance(error, ApiError | TransportError):
            return RetryDecision.give_up(f"{error.code} is not a transient failure")

        if _provably_not_acted_on(error):
            why = "rate limited (429)" if isinstance(error, RateLimitedError) else "not sent"
            return self._again(attempt, why, error)

        if isinstance(error, ApiError) and error.status < 400:
            # A success status with an unreadable body: the server did act on it.
            return RetryDecision.give_up(
                f"HTTP {error.status} answer could not be read", outcome_unknown=send
            )
        if not isinstance(error, ServerError | TransportError):
            return RetryDecision.give_up(f"HTTP {error.status} is not a transient failure")
        if method == "GET":
            return self._again(attempt, f"read failed with {error.code}", error)
        if send:
            if self.retry_unknown_sends:
                decision = self._again(attempt, f"send failed with {error.code} (opted in)", error)
                if decision.retry:
                    return decision
            return RetryDecision.give_up(
                f"send failed with {error.code} after it may have reached {self.service}",
                outcome_unknown=True,
            )
        return RetryDecision.give_up(
            f"write failed with {error.code} after it may have reached {self.service}"
        )

    def unknown_outcome(self, method: str, path: str, error: PlivoNodeError) -> UnknownOutcomeError:
        """The error for a send whose outcome is unknown after ``error``."""
        what = self.sends(method.upper(), path) or "request"
        return UnknownOutcomeError(
            f"The {what} may or may not have been sent: {method.upper()} {path} failed with "
            f"{error.code} ({error.message}) after the request may have reached {self.service}, "
            "and it is not re-sent automatically because a retry could send it twice",
            hint=f"check {self.service}'s {what} logs before sending it again",
        )

    def _again(self, attempt: int, why: str, error: PlivoNodeError) -> RetryDecision:
        if attempt >= self.max_attempts:
            return RetryDecision.give_up(f"{why}; gave up after {attempt} attempts")
        return RetryDecision(retry=True, delay=self._delay(attempt, error), reason=why)

    def _delay(self, attempt: int, error: PlivoNodeError) -> float:
        if not self.backoff:
            return 0.0
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return self.rng.uniform(0.0, ceiling) if self.jitter else ceiling


def _provably_not_acted_on(error: PlivoNodeError) -> bool:
    if isinstance(error, RateLimitedError):
        return True
    return isinstance(error, TransportError) and not error.request_sent
