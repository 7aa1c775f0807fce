"""Pricing/?country_iso=XX: the seeded rates of one country."""

from __future__ import annotations

import re

from aiohttp import web

from plivo_sandbox.wire import RejectedError, respond, state_of, stored

_COUNTRY_ISO = re.compile(r"[A-Za-z]{2}")


def add_routes(router: web.UrlDispatcher, base: str) -> None:
    router.add_get(base + "Pricing/", get_pricing)


async def get_pricing(request: web.Request) -> web.StreamResponse:
    country_iso = request.query.get("country_iso", "")
    if not country_iso:
        raise RejectedError(400, "country_iso is a required parameter and was not given")
    if not _COUNTRY_ISO.fullmatch(country_iso):
        raise RejectedError(400, f"country_iso must be a two-letter ISO code, not {country_iso!r}")
    pricing = stored(state_of(request).pricing, country_iso.upper())
    return respond(pricing)
