"""Magic destination numbers: send to one of these to make the sandbox misbehave on purpose.

They live in the 555-0xxx exchange of area code 307, set aside for fiction, and pass
libphonenumber's checks so that the node's own validation lets them reach the sandbox.
POST Message/ and POST Call/ look at every destination of a request (after stripping
``+ - . / ( )`` and spaces); the first magic one found decides the answer for the whole request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from plivo_sandbox.faults import drop_connection
from plivo_sandbox.wire import RejectedError, config_of, pause

MagicAction = Literal["error", "slow", "reset", "reset_after", "fail_delivery", "call_outcome"]


@dataclass(frozen=True)
class MagicBehaviour:
    """What one magic destination does.

    ``error``: answer ``status`` with Plivo's error body, act on nothing.
    ``slow``: wait ``SandboxConfig.slow_seconds``, then accept normally.
    ``reset``: close the connection without an answer, act on nothing.
    ``reset_after``: accept (record the send), then close the connection without an answer.
    ``fail_delivery``: accept normally; the message later reads as ``state`` with ``error_code``.
    ``call_outcome``: accept normally; a call to it is never answered and ends as ``state``
    (a ``CallStatus``) with ``error_code`` as its ``HangupCause``. Messages to it are delivered.
    """

    action: MagicAction
    description: str
    status: int | None = None
    state: str | None = None
    error_code: str | None = None


MAGIC_DESTINATIONS: dict[str, MagicBehaviour] = {
    "13075550400": MagicBehaviour("error", "400 bad request, nothing sent", status=400),
    "13075550401": MagicBehaviour("error", "401 authentication failed, nothing sent", status=401),
    "13075550403": MagicBehaviour(
        "error", "403 forbidden (geo permission), nothing sent", status=403
    ),
    "13075550429": MagicBehaviour("error", "429 too many requests, nothing sent", status=429),
    "13075550500": MagicBehaviour("error", "500 server error, nothing sent", status=500),
    "13075550503": MagicBehaviour("error", "503 service unavailable, nothing sent", status=503),
    "13075550598": MagicBehaviour("reset", "connection closed before any answer, nothing sent"),
    "13075550599": MagicBehaviour("reset_after", "sent, then connection closed with no answer"),
    "13075550999": MagicBehaviour("slow", "sent, answered after slow_seconds (default 2 s)"),
    "13075550030": MagicBehaviour(
        "fail_delivery", "sent, then undelivered (error 30)", state="undelivered", error_code="30"
    ),
    "13075550200": MagicBehaviour(
        "fail_delivery",
        "sent, then failed: opted out (error 200)",
        state="failed",
        error_code="200",
    ),
    "13075550480": MagicBehaviour(
        "call_outcome",
        "call placed, never answered (no-answer)",
        state="no-answer",
        error_code="NO_ANSWER",
    ),
    "13075550486": MagicBehaviour(
        "call_outcome", "call placed, line busy (busy)", state="busy", error_code="USER_BUSY"
    ),
}

# The error text each magic error status answers with (Plivo's wording where it has one).
MAGIC_ERROR_TEXT: dict[int, str] = {
    400: "magic destination 13075550400: the request was rejected as invalid",
    401: "authentication failed",
    403: "destination country is not enabled in Geo Permissions",
    429: "too many requests",
    500: "internal server error",
    503: "service unavailable",
}


def first_magic(destinations: list[str]) -> MagicBehaviour | None:
    """The behaviour of the first magic destination among ``destinations`` (digits only)."""
    for destination in destinations:
        behaviour = MAGIC_DESTINATIONS.get(destination)
        if behaviour is not None:
            return behaviour
    return None


def delivery_outcome(destination: str) -> tuple[str, str]:
    """``(message_state, error_code)`` a message to ``destination`` (digits only) ends with."""
    behaviour = MAGIC_DESTINATIONS.get(destination)
    if behaviour is None or behaviour.action != "fail_delivery":
        return "delivered", "000"
    assert behaviour.state is not None
    assert behaviour.error_code is not None
    return behaviour.state, behaviour.error_code


def call_outcome(destination: str) -> tuple[str, str] | None:
    """``(CallStatus, HangupCause)`` of a call to ``destination`` never answered, else None."""
    behaviour = MAGIC_DESTINATIONS.get(destination)
    if behaviour is None or behaviour.action != "call_outcome":
        return None
    assert behaviour.state is not None
    assert behaviour.error_code is not None
    return behaviour.state, behaviour.error_code


async def before_acting(
    request: web.Request, behaviour: MagicBehaviour | None
) -> web.StreamResponse | None:
    """Apply what a magic destination does before a send is recorded.

    Raises the magic error, returns the dropped-connection response for ``reset``, waits for
    ``slow``; ``None`` means: go on and record the send.
    """
    if behaviour is None:
        return None
    if behaviour.action == "error":
        assert behaviour.status is not None
        raise RejectedError(behaviour.status, MAGIC_ERROR_TEXT[behaviour.status])
    if behaviour.action == "reset":
        return drop_connection(request)
    if behaviour.action == "slow":
        await pause(request, config_of(request).slow_seconds)
    return None


def after_acting(
    request: web.Request, behaviour: MagicBehaviour | None, response: web.StreamResponse
) -> web.StreamResponse:
    """The answer to send once the send is recorded: dropped for ``reset_after``."""
    if behaviour is not None and behaviour.action == "reset_after":
        return drop_connection(request)
    return response
