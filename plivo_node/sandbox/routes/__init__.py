"""One module per Plivo resource; each registers its routes under the account base path."""

from __future__ import annotations

from aiohttp import web

from plivo_node.sandbox.routes import (
    account,
    applications,
    calls,
    conferences,
    endpoints,
    media,
    messages,
    numbers,
    pricing,
)

RESOURCE_MODULES = (
    account,
    messages,
    media,
    calls,
    applications,
    endpoints,
    numbers,
    conferences,
    pricing,
)


def add_all_routes(router: web.UrlDispatcher, base: str) -> None:
    """Register every resource's routes; ``base`` is ``/v1/Account/{auth_id}/``."""
    for module in RESOURCE_MODULES:
        module.add_routes(router, base)
