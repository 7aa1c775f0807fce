"""A sandbox message's life, one timeline for both its record and its status callbacks.

Outbound, as Plivo reports it (PLIVO_API.md §17.1): ``queued`` on acceptance, then ``sent``
(handed to the carrier, charged) halfway through ``SandboxConfig.delivery_seconds``, then its
outcome at ``delivery_seconds``: ``delivered``, or ``undelivered`` with an error code. A message
that ``failed`` (opted out, for one) goes from ``queued`` straight to ``failed`` and is not
charged. With ``delivery_seconds = 0`` (the default) a message is final at once.

Inbound messages (injected, see routes/inbound.py) are ``received`` from the start.
"""

from __future__ import annotations

from plivo_sandbox.state import JsonDict

INBOUND = "inbound"
RECEIVED = "received"


def timeline(final_state: str, delivery_seconds: float) -> list[tuple[float, str]]:
    """``(seconds after acceptance, state)`` for each state an outbound message passes."""
    if final_state == "failed":
        return [(0.0, "queued"), (delivery_seconds, "failed")]
    return [(0.0, "queued"), (delivery_seconds / 2, "sent"), (delivery_seconds, final_state)]


def state_at(message: JsonDict, now: float, delivery_seconds: float) -> tuple[str, str | None]:
    """``(message_state, error_code)`` of ``message`` at epoch time ``now``.

    The error code is ``None`` until the outcome is known, ``"000"`` once delivered, the
    failure's code otherwise (PLIVO_API.md §6.2).
    """
    if message.get("direction") == INBOUND:
        return RECEIVED, None
    elapsed = now - float(message["accepted_at"])
    current = "queued"
    for offset, state in timeline(message["final_state"], delivery_seconds):
        if elapsed >= offset:
            current = state
    if current != message["final_state"]:
        return current, None
    return current, message["final_error_code"]


def charged(state: str) -> bool:
    """Plivo charges a message once it is sent; a failed (or still queued) one costs nothing."""
    return state not in {"queued", "failed"}
