"""Cost estimate of the SMS a run sent (or, in a dry run, would send), from Plivo's Pricing API.

The run counts SMS segments per destination country; each country's outbound message rate is
fetched once (``GET Pricing/?country_iso=XX``) and multiplied out. Countries whose price cannot
be fetched are listed, not guessed. MMS are counted apart and not priced: the Pricing API gives
SMS rates only, and pricing an MMS at them would be wrong.

The estimate is an extra: it never fails a run. A lookup that breaks in any way becomes the
summary line "estimated cost: unavailable (...)", never an exception or another exit code, and
a pipeline can switch the lookup off (``settings.costEstimate: false``).

Only messages a send actually queued count: a bulk item whose destination an earlier item of
the group already had (``duplicate_of``, status ``duplicate``) queued nothing new for it, and a
destination Plivo refused (``invalid_number``) was not sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from plivo_node.core.api import ApiClient
from plivo_node.core.errors import PlivoNodeError
from plivo_node.nodes.plivo.validation.phone import region_of

UNKNOWN_COUNTRY = "??"  # a destination whose country cannot be told from its number
MMS_NOTE = "not priced: Plivo's Pricing API gives SMS rates"


def _digits(value: object) -> str:
    return str(value).strip().removeprefix("+")


def _queued_destinations(output_json: Mapping[str, object]) -> list[str]:
    """The destinations a send's output item queued a message for (unique, in order)."""
    if output_json.get("status") == "duplicate":
        return []
    destinations = dict.fromkeys(_digits(d) for d in str(output_json.get("to", "")).split("<"))
    destinations.pop("", None)
    invalid = output_json.get("invalid_number")
    duplicates = output_json.get("duplicate_of")
    not_queued = {_digits(d) for d in invalid} if isinstance(invalid, list) else set()
    if isinstance(duplicates, Mapping):
        not_queued.update(_digits(d) for d in duplicates)
    return [d for d in destinations if d not in not_queued]


def _is_mms(output_json: Mapping[str, object]) -> bool:
    return "media_count" in output_json


def count_segments(counter: Counter[str], output_json: Mapping[str, object]) -> int:
    """Add an SMS send's segments to ``counter`` per destination country; return them.

    Any other output item (an MMS, a call, a listing, an error) counts 0.
    """
    segments = output_json.get("segments")
    if not isinstance(segments, int) or isinstance(segments, bool) or _is_mms(output_json):
        return 0
    total = 0
    for destination in _queued_destinations(output_json):
        counter[region_of(destination) or UNKNOWN_COUNTRY] += segments
        total += segments
    return total


def count_mms(counter: Counter[str], output_json: Mapping[str, object]) -> int:
    """Add an MMS send's messages to ``counter`` per destination country; return them.

    An MMS is one message per destination however long its text. Other items count 0.
    """
    if not _is_mms(output_json) or "segments" not in output_json:
        return 0
    total = 0
    for destination in _queued_destinations(output_json):
        counter[region_of(destination) or UNKNOWN_COUNTRY] += 1
        total += 1
    return total


def describe_mms(count: int) -> str:
    """The summary line for the MMS a run sent: counted, deliberately not priced."""
    noun = "message" if count == 1 else "messages"
    return f"MMS: {count} {noun} ({MMS_NOTE})"


@dataclass(frozen=True)
class CostEstimate:
    """The priced SMS: the total, each country's share, and the countries left unpriced."""

    total: Decimal
    currency: str = "USD"
    by_country: Mapping[str, Decimal] = field(default_factory=dict)
    unpriced: tuple[str, ...] = ()
    unpriced_segments: int = 0
    failure: str | None = None  # why there is no estimate at all

    def __str__(self) -> str:
        if self.failure is not None:
            return f"unavailable ({self.failure})"
        text = f"{self.total:.5f} {self.currency}"
        if self.by_country:
            shares = ", ".join(f"{c}: {v:.5f}" for c, v in sorted(self.by_country.items()))
            text += f" ({shares})"
        if self.unpriced:
            names = ", ".join(
                "unknown country" if c == UNKNOWN_COUNTRY else c for c in self.unpriced
            )
            noun = "segment" if self.unpriced_segments == 1 else "segments"
            text += f"; not included: {self.unpriced_segments} {noun} to {names} (no price)"
        return text


async def estimate_cost(client: ApiClient, segments_by_country: Mapping[str, int]) -> CostEstimate:
    """Price ``segments_by_country`` at each country's outbound SMS rate; never raises."""
    try:
        return await _price(client, segments_by_country)
    except Exception as exc:  # noqa: BLE001 - the messages are sent: a price must not fail the run
        reason = exc.message if isinstance(exc, PlivoNodeError) else type(exc).__name__
        return CostEstimate(total=Decimal(0), failure=f"the price lookup failed: {reason}")


async def _price(client: ApiClient, segments_by_country: Mapping[str, int]) -> CostEstimate:
    import asyncio  # noqa: PLC0415  (running already; the node's module must not need it: validate)

    countries = sorted(c for c, n in segments_by_country.items() if n > 0)
    rates = await asyncio.gather(*(_outbound_rate(client, country) for country in countries))
    total = Decimal(0)
    by_country: dict[str, Decimal] = {}
    unpriced: list[str] = []
    unpriced_segments = 0
    for country, rate in zip(countries, rates, strict=True):
        segments = segments_by_country[country]
        if rate is None:
            unpriced.append(country)
            unpriced_segments += segments
            continue
        by_country[country] = rate * segments
        total += by_country[country]
    return CostEstimate(
        total=total,
        by_country=by_country,
        unpriced=tuple(unpriced),
        unpriced_segments=unpriced_segments,
    )


async def _outbound_rate(client: ApiClient, country: str) -> Decimal | None:
    """A country's outbound SMS rate, or ``None`` when there is no usable one."""
    if country == UNKNOWN_COUNTRY:
        return None
    try:
        response = await client.request("GET", "Pricing/", query={"country_iso": country})
    except PlivoNodeError:
        return None
    body = response.body if isinstance(response.body, Mapping) else {}
    message = body.get("message")
    outbound = message.get("outbound") if isinstance(message, Mapping) else None
    rate = outbound.get("rate") if isinstance(outbound, Mapping) else None
    if rate is None or isinstance(rate, bool):
        return None
    try:
        value = Decimal(str(rate))
    except InvalidOperation:
        return None
    # "NaN", "Infinity" and negative numbers parse, but are no price.
    return value if value.is_finite() and value >= 0 else None


@dataclass
class MessageTally:
    """The Plivo node's share of the run summary (a :class:`plivo_node.core.node.RunTally`):
    SMS segments and MMS per destination country, and the SMS cost estimate."""

    segments_by_country: Counter[str] = field(default_factory=Counter)
    mms_by_country: Counter[str] = field(default_factory=Counter)
    estimate: CostEstimate | None = None

    @property
    def segments(self) -> int:
        """SMS segments sent (or, in a dry run, to be sent)."""
        return sum(self.segments_by_country.values())

    @property
    def mms(self) -> int:
        """MMS messages sent (or to be sent)."""
        return sum(self.mms_by_country.values())

    def count(self, output: Mapping[str, object]) -> None:
        count_segments(self.segments_by_country, output)
        count_mms(self.mms_by_country, output)

    def counts(self) -> dict[str, Any]:
        return {"sms": dict(self.segments_by_country), "mms": dict(self.mms_by_country)}

    def merge(self, counts: Mapping[str, Any]) -> None:
        for mine, theirs in (
            (self.segments_by_country, counts.get("sms")),
            (self.mms_by_country, counts.get("mms")),
        ):
            if isinstance(theirs, Mapping):
                mine.update({str(c): int(n) for c, n in theirs.items()})

    async def complete(self, client: ApiClient) -> None:
        if self.segments_by_country:
            self.estimate = await estimate_cost(client, self.segments_by_country)

    def lines(self) -> list[str]:
        lines: list[str] = []
        if self.segments:
            lines.append(f"SMS segments: {self.segments}")
        if self.mms:
            lines.append(describe_mms(self.mms))
        if self.estimate is not None:
            lines.append(f"estimated cost: {self.estimate}")
        return lines
