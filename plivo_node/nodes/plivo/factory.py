"""The Plivo node's client factory: how a run connects to Plivo, or to the embedded sandbox.

It is part of the node type, so it is imported whenever the node is (``validate`` included):
it imports the HTTP client (and aiohttp, and the limiter's asyncio) only in
:meth:`PlivoClientFactory.connect`, and the sandbox package only when the run falls back to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plivo_node.core.api import ApiClient
from plivo_node.core.node import ClientOptions, SandboxSession
from plivo_node.nodes.plivo.credentials import (
    SERVICE,
    check_credentials,
    credentials_from,
    test_credentials,
)
from plivo_node.nodes.plivo.description import CREDENTIAL_TYPE
from plivo_node.nodes.plivo.dry_run import DryRunClient

if TYPE_CHECKING:
    from plivo_node.http.limiter import RequestLimiter, SendPacer
    from plivo_node.nodes.plivo.client import PlivoClient

# Plivo's documented API limit: 300 requests per 5 seconds per account.
PLIVO_RATE_LIMIT = (300, 5.0)


@contextlib.asynccontextmanager
async def _embedded_sandbox() -> AsyncIterator[SandboxSession]:
    from plivo_node.http.aiohttp_import import import_aiohttp  # noqa: PLC0415

    # Before the sandbox imports aiohttp itself: without the TLS contexts it builds at import,
    # which a run on the sandbox never uses (see plivo_node/http/aiohttp_import.py).
    import_aiohttp()
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
        from plivo_node.http.limiter import Pacer, RateLimiter  # noqa: PLC0415
        from plivo_node.http.retry import RetryPolicy  # noqa: PLC0415
        from plivo_node.nodes.plivo.client import PlivoClient  # noqa: PLC0415

        shared = options.shared_limits
        limiter: RequestLimiter | None = None
        if options.rate_limit:
            limiter = (
                shared.rate_limiter(options.rate_limit)
                if shared is not None
                else RateLimiter(options.rate_limit)
            )
        pacer: SendPacer | None = None
        if options.messages_per_second:
            mps = options.messages_per_second
            pacer = shared.pacer(mps) if shared is not None else Pacer(mps)
        return PlivoClient(
            credentials_from(fields),
            concurrency=options.concurrency,
            timeout=options.timeout,
            rate_limiter=limiter,
            retry_policy=RetryPolicy(retry_unknown_sends=options.retry_unknown),
            pacer=pacer,
        )

    async def test(self, client: ApiClient, fields: Mapping[str, str]) -> tuple[bool, str]:
        return await test_credentials(client, fields.get("authId", ""))

    async def check(self, client: ApiClient, fields: Mapping[str, str]) -> None:
        await check_credentials(client, fields.get("authId", ""))

    def sandbox(self) -> contextlib.AbstractAsyncContextManager[SandboxSession]:
        return _embedded_sandbox()

    def dry_run(self, client: ApiClient, fields: Mapping[str, str]) -> ApiClient:
        return DryRunClient(client, auth_id=fields.get("authId", ""))
