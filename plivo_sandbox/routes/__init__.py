"""One module per Plivo resource; each registers its routes under the account base path."""

from __future__ import annotations

from aiohttp import web

from plivo_sandbox.middlewares import continue_when_accepted
from plivo_sandbox.routes import (
    account,
    applications,
    calls,
    conferences,
    endpoints,
    inbound,
    inbound_call,
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
    inbound,
    inbound_call,
)


def add_all_routes(router: web.UrlDispatcher, base: str) -> None:
    """Register every resource's routes; ``base`` is ``/v1/Account/{auth_id}/``.

    Each route answers ``Expect: 100-continue`` only once the request's credentials are right
    (``continue_when_accepted``): the modules register on a staging router, and their routes
    are copied over with that handler.
    """
    staging = web.UrlDispatcher()
    for module in RESOURCE_MODULES:
        module.add_routes(staging, base)
    for route in staging.routes():
        assert route.resource is not None
        router.add_route(
            route.method,
            route.resource.canonical,
            route.handler,
            expect_handler=continue_when_accepted,
        )
