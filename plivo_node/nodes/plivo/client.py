"""The Plivo node's API client: the runtime's HTTP client set up for Plivo.

What the runtime's client needs to know of Plivo is here: every path is relative to the
account (``{base}/Account/{auth_id}/``), requests carry Basic auth, errors carry Plivo's
``api_id``, ``POST Message/`` and ``POST Call/`` are the sends (never blindly retried), and
sends are paced per sender (source number or Powerpack). Its factory, the node's entry for
the run, is :mod:`plivo_node.nodes.plivo.factory`; this module (and aiohttp with it) is
imported only when a run connects.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from plivo_node.http.limiter import RequestLimiter, SendPacer
from plivo_node.http.retry import RetryPolicy
from plivo_node.http.transport import HttpClient, ServiceProfile
from plivo_node.nodes.plivo.credentials import ENV_BASE_URL, SERVICE, Credentials

if TYPE_CHECKING:
    import aiohttp  # imported by the transport (see plivo_node/http/aiohttp_import.py)
# Plivo's message list allows 20 requests a minute, below the account's 300 per 5 s (§4).
ENDPOINT_RATE_LIMITS: Mapping[tuple[str, str], tuple[int, float]] = {
    ("GET", "Message/"): (20, 60.0),
}

# The two requests that make Plivo send something the account pays for.
_SENDS = {"Message": "message", "Call": "call"}


def sent_by(method: str, path: str) -> str | None:
    """What ``method path`` makes Plivo send ("message", "call"), or None for other requests."""
    if method.upper() != "POST":
        return None
    return _SENDS.get(path.strip("/"))


def pacing_key(body: Mapping[str, Any]) -> str | None:
    """The sender a send is paced by: its Powerpack, else its source number."""
    key = body.get("powerpack_uuid") or body.get("src")
    return str(key) if key else None


def plivo_profile(credentials: Credentials) -> ServiceProfile:
    token = base64.b64encode(f"{credentials.auth_id}:{credentials.auth_token}".encode())
    return ServiceProfile(
        base_url=f"{credentials.base_url}Account/{credentials.auth_id}/",
        authorization=f"Basic {token.decode('ascii')}",
        service=SERVICE,
        base_url_source=f"{ENV_BASE_URL} (or the credentials' baseUrl)",
        request_id_field="api_id",
        pacing_key=pacing_key,
        endpoint_rate_limits=ENDPOINT_RATE_LIMITS,
    )


class PlivoClient(HttpClient):
    """The HTTP client for one Plivo account; use it as ``async with``.

    ``rate_limiter=None`` means no client-side request rate; pass
    ``RateLimiter(PLIVO_RATE_LIMIT)`` (from :mod:`plivo_node.nodes.plivo.factory`) for Plivo's
    documented account limit. Whatever ``retry_policy`` is given, Plivo's sends are its sends.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        concurrency: int = 50,
        timeout: float = 30.0,
        rate_limiter: RequestLimiter | None = None,
        retry_policy: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
        pacer: SendPacer | None = None,
    ) -> None:
        super().__init__(
            plivo_profile(credentials),
            concurrency=concurrency,
            timeout=timeout,
            rate_limiter=rate_limiter,
            retry_policy=replace(retry_policy or RetryPolicy(), sends=sent_by, service=SERVICE),
            session=session,
            pacer=pacer,
        )
        self.auth_id = credentials.auth_id
