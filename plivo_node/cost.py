"""Cost estimate of the SMS a run sent (or, in a dry run, would send), from Plivo's Pricing API.

The run counts segments per destination country; each country's outbound message rate is
fetched once (``GET Pricing/?country_iso=XX``) and multiplied out. Countries whose price cannot
be fetched are listed, not guessed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from plivo_node.context import ApiClient
from plivo_node.errors import PlivoNodeError
from plivo_node.validation.phone import region_of


def count_segments(counter: Counter[str], output_json: Mapping[str, object]) -> int:
    """Add a send's segments to ``counter`` per destination country; return the segments."""
    segments = output_json.get("segments")
    if not isinstance(segments, int) or isinstance(segments, bool):
        return 0
    uuids = output_json.get("message_uuid")
    destinations = [d for d in str(output_json.get("to", "")).split("<") if d]
    total = 0
    # One segment count per queued message: bulk sends queue one message per valid destination.
    sent = destinations[: len(uuids)] if isinstance(uuids, list) and uuids else destinations
    for destination in sent:
        counter[region_of(destination) or "??"] += segments
        total += segments
    return total


@dataclass(frozen=True)
class CostEstimate:
    total: Decimal
    currency: str = "USD"
    by_country: Mapping[str, Decimal] = field(default_factory=dict)
    unpriced: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.total:.5f} {self.currency}"
        if self.by_country:
            text += (
                " (" + ", ".join(f"{c}: {v:.5f}" for c, v in sorted(self.by_country.items())) + ")"
            )
        if self.unpriced:
            text += f"; no price for {', '.join(self.unpriced)}"
        return text


async def estimate_cost(client: ApiClient, segments_by_country: Mapping[str, int]) -> CostEstimate:
    """Price ``segments_by_country`` at each country's outbound SMS rate."""
    total = Decimal(0)
    by_country: dict[str, Decimal] = {}
    unpriced: list[str] = []
    for country, segments in sorted(segments_by_country.items()):
        rate = await _outbound_rate(client, country) if country != "??" else None
        if rate is None:
            unpriced.append(country)
            continue
        by_country[country] = rate * segments
        total += by_country[country]
    return CostEstimate(total=total, by_country=by_country, unpriced=tuple(unpriced))


async def _outbound_rate(client: ApiClient, country: str) -> Decimal | None:
    try:
        response = await client.request("GET", "Pricing/", query={"country_iso": country})
    except PlivoNodeError:
        return None
    body = response.body or {}
    message = body.get("message")
    outbound = message.get("outbound") if isinstance(message, dict) else None
    rate = outbound.get("rate") if isinstance(outbound, dict) else None
    try:
        return Decimal(str(rate)) if rate is not None else None
    except InvalidOperation:
        return None
