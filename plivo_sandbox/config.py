"""How a sandbox behaves: credentials, latency, rate limit and injected faults.

Both dataclasses are frozen and check themselves on creation, so a bad value fails where it
is written (the CLI, a test) rather than deep inside a request.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal, get_args

from plivo_node.core.errors import ConfigurationError

# What an injected fault does to one request:
#   429 / 500 / 503  answer with that status and Plivo's error body; the request is NOT acted upon
#   "reset"          read the request, then close the connection with no answer; NOT acted upon
#   "reset_after"    act on the request (a message IS sent), then close with no answer
#   "timeout"        act on the request, then hold the answer for ``FaultConfig.hold_seconds``
FaultKind = Literal[429, 500, 503, "reset", "reset_after", "timeout"]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

DEFAULT_AUTH_ID = "MASANDBOX00000000000"
DEFAULT_AUTH_TOKEN = "sandbox-auth-token"  # noqa: S105 - the sandbox's documented public default

_MAIN_AUTH_ID = re.compile(r"MA[A-Z0-9]{18}")
_FAULT_PATH = re.compile(r"(?:(GET|POST|DELETE) )?([A-Za-z0-9_/%.-]*)")


@dataclass(frozen=True)
class FaultConfig:
    """Faults injected into a share (``rate``) of the requests that match ``paths``.

    The choice is made by a ``random.Random(seed)`` that draws once per matching request, in
    arrival order, so the same seed and the same request order give the same faults.

    ``paths`` are prefixes of the path below ``/v1/Account/{auth_id}/``, optionally led by a
    method: ``("POST Message/", "Call/")``. Empty means every request.
    """

    rate: float = 0.0
    seed: int = 0
    kinds: tuple[FaultKind, ...] = (500,)
    paths: tuple[str, ...] = ()
    hold_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ConfigurationError(
                f"Sandbox fault rate {self.rate!r} is outside 0..1",
                hint="use e.g. 0.2 for faults on a fifth of the requests",
            )
        if not self.kinds:
            raise ConfigurationError(
                "Sandbox fault kinds are empty", hint=f"choose among {list(FAULT_KINDS)}"
            )
        for kind in self.kinds:
            if kind not in FAULT_KINDS:
                raise ConfigurationError(
                    f"Unknown sandbox fault kind {kind!r}", hint=f"choose among {list(FAULT_KINDS)}"
                )
        for path in self.paths:
            if not _FAULT_PATH.fullmatch(path):
                raise ConfigurationError(
                    f"Sandbox fault path {path!r} is not a path prefix",
                    hint="write it like 'Message/' or 'POST Message/'",
                )
        if self.hold_seconds < 0:
            raise ConfigurationError(
                f"Sandbox fault hold_seconds {self.hold_seconds!r} is negative",
                hint="use 0 or more seconds",
            )

    def applies_to(self, method: str, resource_path: str) -> bool:
        """Whether a request (its path below the account base) may receive a fault."""
        if not self.paths:
            return True
        for entry in self.paths:
            wanted_method, _, prefix = entry.rpartition(" ")
            if wanted_method and wanted_method != method:
                continue
            if resource_path.startswith(prefix):
                return True
        return False


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox is configured with; the defaults give a quiet, fault-free server."""

    auth_id: str = DEFAULT_AUTH_ID
    auth_token: str = DEFAULT_AUTH_TOKEN
    # Added to every request before it is handled.
    latency_ms: int = 0
    # (requests, per_seconds): past it, 429 until the sliding window has room again.
    rate_limit: tuple[int, float] | None = None
    # Plivo documents no Retry-After header; set this to send one with every 429 anyway.
    retry_after_header: bool = False
    faults: FaultConfig = field(default_factory=FaultConfig)
    # How long the "slow" magic destination waits before answering.
    slow_seconds: float = 2.0
    # Seconds after acceptance at which a message reaches its outcome and a call hangs up (0: at
    # once); status and voice callbacks are spread over it (plivo_sandbox.lifecycle).
    delivery_seconds: float = 0.0
    # Post message status callbacks to the send's ``url`` (only ever to 127.0.0.1/localhost).
    callbacks: bool = True
    # Plivo's own limit on GET Message/ (the message list): 20 requests a minute; None: off.
    message_list_limit: tuple[int, float] | None = (20, 60.0)

    def __post_init__(self) -> None:
        if not _MAIN_AUTH_ID.fullmatch(self.auth_id):
            raise ConfigurationError(
                f"Sandbox auth_id {self.auth_id!r} is not a main-account Auth ID",
                hint="use 'MA' followed by 18 upper-case letters or digits",
            )
        if not self.auth_token:
            raise ConfigurationError(
                "Sandbox auth_token is empty", hint="give a token, or leave it out for the default"
            )
        if self.latency_ms < 0:
            raise ConfigurationError(
                f"Sandbox latency_ms {self.latency_ms!r} is negative", hint="use 0 or more"
            )
        if self.rate_limit is not None:
            requests, per_seconds = self.rate_limit
            if requests < 1 or not 0 < per_seconds < math.inf:  # NaN fails this too
                raise ConfigurationError(
                    f"Sandbox rate_limit {self.rate_limit!r} is invalid",
                    hint="give (requests >= 1, per_seconds > 0), e.g. (300, 5)",
                )
        if self.message_list_limit is not None:
            requests, per_seconds = self.message_list_limit
            if requests < 1 or not 0 < per_seconds < math.inf:
                raise ConfigurationError(
                    f"Sandbox message_list_limit {self.message_list_limit!r} is invalid",
                    hint="give (requests >= 1, per_seconds > 0), e.g. (20, 60), or None for off",
                )
        for name in ("slow_seconds", "delivery_seconds"):
            if getattr(self, name) < 0:
                raise ConfigurationError(
                    f"Sandbox {name} {getattr(self, name)!r} is negative", hint="use 0 or more"
                )
