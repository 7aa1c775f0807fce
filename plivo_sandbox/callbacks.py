"""Callbacks the sandbox makes as Plivo does: message status, inbound messages, voice events.

Only ever to the local machine: a callback whose host is not 127.0.0.1, ::1 or localhost is
skipped (and counted in ``state.callbacks_skipped``), so the sandbox never sends traffic
elsewhere. Messaging callbacks are signed with Plivo's V2 scheme, voice callbacks with V3
(PLIVO_API.md §18), each with both the plain and the ``Ma-`` header, using the sandbox's
Auth Token (it is the main account).

The callbacks of one message or call go out in order from one task, each at its ``delay``
after scheduling (the lifecycle's timeline); after a failed delivery the rest of that
sequence is dropped (Plivo would retry later; the sandbox reports it and moves on).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import aiohttp

from plivo_sandbox.signatures import new_nonce, v2_signature, v3_signature
from plivo_sandbox.state import CallbackReply, SandboxState

logger = logging.getLogger(__name__)

LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
CALLBACK_TIMEOUT_SECONDS = 8.0  # Plivo's own wait for a 2xx
MAX_REPLY_BYTES = 4096  # of a reply kept in state.callback_replies
Scheme = Literal["v2", "v3"]


def is_local_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and (parts.hostname or "") in LOCAL_HOSTS


@dataclass(frozen=True)
class Callback:
    """One request to a customer's URL: ``params`` sent with ``method``, ``delay`` s after now."""

    url: str
    method: str
    params: dict[str, str]
    scheme: Scheme
    delay: float = 0.0


def signature_headers(auth_token: str, callback: Callback) -> dict[str, str]:
    """The signature headers Plivo sends with ``callback`` (a fresh nonce each time)."""
    nonce = new_nonce()
    if callback.scheme == "v2":
        signature = v2_signature(auth_token, callback.url, nonce)
        return {
            "X-Plivo-Signature-V2": signature,
            "X-Plivo-Signature-Ma-V2": signature,
            "X-Plivo-Signature-V2-Nonce": nonce,
        }
    signature = v3_signature(auth_token, callback.method, callback.url, callback.params, nonce)
    return {
        "X-Plivo-Signature-V3": signature,
        "X-Plivo-Signature-Ma-V3": signature,
        "X-Plivo-Signature-V3-Nonce": nonce,
    }


class CallbackSender:
    """Posts callbacks in the background; :meth:`close` cancels what is left."""

    def __init__(self, auth_token: str, state: SandboxState, *, enabled: bool = True) -> None:
        self._auth_token = auth_token
        self._state = state
        self._enabled = enabled
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def send_in_order(self, callbacks: Sequence[Callback]) -> bool:
        """Schedule ``callbacks`` (one message's or call's); False when none may be sent.

        Callbacks to a non-local URL are dropped; each such URL counts once as skipped.
        """
        if not self._enabled:
            return False
        local = [callback for callback in callbacks if is_local_url(callback.url)]
        self._state.callbacks_skipped += len({c.url for c in callbacks} - {c.url for c in local})
        if not local:
            return False
        task = asyncio.get_running_loop().create_task(self._deliver(local, time.monotonic()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _deliver(self, callbacks: Sequence[Callback], started: float) -> None:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=CALLBACK_TIMEOUT_SECONDS)
            self._session = aiohttp.ClientSession(timeout=timeout)
        for callback in callbacks:
            wait = started + callback.delay - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                await self._send(callback)
            except (aiohttp.ClientError, TimeoutError) as exc:
                logger.info("callback to %s failed: %s", callback.url, exc)
                return
            self._state.callbacks_sent += 1

    async def _send(self, callback: Callback) -> None:
        assert self._session is not None
        headers = signature_headers(self._auth_token, callback)
        if callback.method.upper() == "GET":
            request = self._session.get(callback.url, params=callback.params, headers=headers)
        else:
            request = self._session.post(callback.url, data=callback.params, headers=headers)
        async with request as response:
            body = await response.content.read(MAX_REPLY_BYTES)
            self._state.callback_replies.append(
                CallbackReply(
                    callback.url,
                    dict(callback.params),
                    response.status,
                    response.content_type,
                    body.decode("utf-8", "replace"),
                )
            )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None
