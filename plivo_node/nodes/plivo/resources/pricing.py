"""pricing.get: GET Pricing/?country_iso=XX (PLIVO_API.md §16)."""

from __future__ import annotations

from plivo_node.core.items import JsonObject
from plivo_node.core.node import OperationContext
from plivo_node.nodes.plivo.resources._common import body_of
from plivo_node.nodes.plivo.validation.fields import check_country_iso

PRICING_PATH = "Pricing/"


async def get(ctx: OperationContext) -> list[JsonObject]:
    country_iso = check_country_iso(ctx.params.get("country_iso"), parameter="country_iso")
    response = await ctx.client.request("GET", PRICING_PATH, query={"country_iso": country_iso})
    return [body_of(response)]
