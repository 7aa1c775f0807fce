"""The Plivo node's API client: the runtime's HTTP client set up for Plivo, and its factory.

What the runtime's client needs to know of Plivo is here: every path is relative to the
account (``{base}/Account/{auth_id}/``), requests carry Basic auth, errors carry Plivo's
``api_id``, ``POST Message/`` and ``POST Call/`` are the sends (never blindly retried), and
sends are paced per sender (source number or Powerpack). The factory also gives the run its
sandbox fallback (the embedded Plivo-compatible server, imported only then), its credentials
check and its dry-run client.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import aiohttp

from plivo_node.core.api import ApiClient
from plivo_node.core.node import ClientOptions, SandboxSession
from plivo_node.http.limiter import Pacer, RateLimiter
from plivo_node.http.retry import RetryPolicy
from plivo_node.http.transport import HttpClient, ServiceProfile
from plivo_node.nodes.plivo.credentials import (
    ENV_BASE_URL,
    SERVICE,
    Credentials,
    check_credentials,
    credentials_from,
    test_credentials,
)
from plivo_node.nodes.plivo.description import CREDENTIAL_TYPE
from plivo_node.nodes.plivo.dry_run import DryRunClient

# Plivo's documented API limit: 300 requests per 5 seconds per account.
PLIVO_RATE_LIMIT = (300, 5.0)

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
    )


class PlivoClient(HttpClient):
    """The HTTP client for one Plivo account; use it as ``async with``.

    ``rate_limiter=None`` means no client-side request rate; pass
    ``RateLimiter(PLIVO_RATE_LIMIT)`` for Plivo's documented account limit. Whatever
    ``retry_policy`` is given, Plivo's sends are its sends.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        concurrency: int = 50,
        timeout: float = 30.0,
        rate_limiter: RateLimiter | None = None,
        retry_policy: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
        pacer: Pacer | None = None,
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


@contextlib.asynccontextmanager
async def _embedded_sandbox() -> AsyncIterator[SandboxSession]:
    # Imported here only: the sandbox is a separate package the runtime never needs otherwise.
    from plivo_sandbox import Sandbox, SandboxConfig  # noqa: PLC0415

    config = SandboxConfig()
    async with Sandbox(config) as sandbox:
        fields = {"authId": config.auth_id, "authToken": config.auth_token, "baseUrl": sandbox.url}
        yield SandboxSession(url=sandbox.url, fields=fields)


@dataclass(frozen=True)
class PlivoClientFactory:
    """The Plivo node's :class:`plivo_node.core.node.ClientFactory`."""

    credential_type: str = CREDENTIAL_TYPE
    service: str = SERVICE
    default_rate_limit: tuple[int, float] | None = PLIVO_RATE_LIMIT

    def connect(self, fields: Mapping[str, str], options: ClientOptions) -> PlivoClient:
        return PlivoClient(
            credentials_from(fields),
            concurrency=options.concurrency,
            timeout=options.timeout,
            rate_limiter=RateLimiter(options.rate_limit) if options.rate_limit else None,
            retry_policy=RetryPolicy(retry_unknown_sends=options.retry_unknown),
            pacer=Pacer(options.messages_per_second) if options.messages_per_second else None,
        )

    async def test(self, client: ApiClient, fields: Mapping[str, str]) -> tuple[bool, str]:
        return await test_credentials(client, fields.get("authId", ""))

    async def check(self, client: ApiClient, fields: Mapping[str, str]) -> None:
        await check_credentials(client, fields.get("authId", ""))

    def sandbox(self) -> contextlib.AbstractAsyncContextManager[SandboxSession]:
        return _embedded_sandbox()

    def dry_run(self, client: ApiClient, fields: Mapping[str, str]) -> ApiClient:
        return DryRunClient(client, auth_id=fields.get("authId", ""))
