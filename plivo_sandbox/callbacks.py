"""Message status callbacks, as Plivo posts them to a send's ``url``.

Only ever to the local machine: a callback whose host is not 127.0.0.1, ::1 or localhost is
skipped (and counted in ``state.callbacks_skipped``), so the sandbox never sends traffic
elsewhere. Each callback is signed with Plivo's V2 scheme (both the plain and the ``Ma-``
header) using the sandbox's Auth Token.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from plivo_sandbox.state import JsonDict, SandboxState

logger = logging.getLogger(__name__)

LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
CALLBACK_TIMEOUT_SECONDS = 8.0  # Plivo's own wait for a 2xx


def is_local_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and (parts.hostname or "") in LOCAL_HOSTS


def v2_signature(auth_token: str, url: str, nonce: str) -> str:
    """Plivo's V2 signature: Base64(HMAC-SHA256(token, scheme://authority/path + nonce))."""
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    digest = hmac.new(auth_token.encode(), (base + nonce).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class CallbackSender:
    """Posts status callbacks in the background; :meth:`close` cancels what is left."""

    def __init__(self, auth_token: str, state: SandboxState, *, enabled: bool = True) -> None:
        self._auth_token = auth_token
        self._state = state
        self._enabled = enabled
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def message_status(self, message: JsonDict, events: list[JsonDict]) -> None:
        """Schedule one callback per event (``Status`` and friends) for ``message``."""
        url = message.get("url")
        if not url or not self._enabled:
            return
        if not is_local_url(url):
            self._state.callbacks_skipped += 1
            return
        task = asyncio.get_running_loop().create_task(self._deliver(message, events))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, message: JsonDict, events: list[JsonDict]) -> None:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=CALLBACK_TIMEOUT_SECONDS)
            self._session = aiohttp.ClientSession(timeout=timeout)
        for sequence, event in enumerate(events, start=1):
            fields = {**event, "Sequence": str(sequence)}
            try:
                await self._post(message["url"], str(message.get("method") or "POST"), fields)
            except (aiohttp.ClientError, TimeoutError) as exc:
                # Plivo would retry later; the sandbox reports and moves on.
                logger.info("status callback to %s failed: %s", message["url"], exc)
                return
            self._state.callbacks_sent += 1

    async def _post(self, url: str, method: str, fields: dict[str, Any]) -> None:
        assert self._session is not None
        nonce = "".join(secrets.choice("0123456789") for _ in range(20))
        signature = v2_signature(self._auth_token, url, nonce)
        headers = {
            "X-Plivo-Signature-V2": signature,
            "X-Plivo-Signature-Ma-V2": signature,
            "X-Plivo-Signature-V2-Nonce": nonce,
        }
        form = {key: str(value) for key, value in fields.items() if value is not None}
        if method.upper() == "GET":
            request = self._session.get(url, params=form, headers=headers)
        else:
            request = self._session.post(url, data=form, headers=headers)
        async with request as response:
            await response.read()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None
