"""SMS segments and MMS counted per destination country, and the cost estimate priced from them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from plivo_node.core.api import ApiResponse, HttpMethod, UploadFile
from plivo_node.core.errors import NotFoundError, RequestTimeoutError, ServerError
from plivo_node.core.items import JsonObject
from plivo_node.nodes.plivo.bulk import MessageGroup, split_response
from plivo_node.nodes.plivo.client import PlivoClient
from plivo_node.nodes.plivo.cost import (
    UNKNOWN_COUNTRY,
    CostEstimate,
    MessageTally,
    count_mms,
    count_segments,
    describe_mms,
    estimate_cost,
)
from plivo_node.nodes.plivo.credentials import Credentials
from plivo_node.nodes.plivo.dry_run import DryRunClient
from plivo_node.nodes.plivo.resources.sms import PreparedMessage
from plivo_node.nodes.plivo.validation.media import MediaPlan
from plivo_node.nodes.plivo.validation.sms_encoding import analyze_text
from plivo_node.run.item_io import read_items
from plivo_node.run.pipeline import build_steps, load_pipeline
from plivo_node.run.runner import execute
from plivo_sandbox import Sandbox, SandboxConfig
from plivo_sandbox.seed import MESSAGE_RATES

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
US, US2, CA, IN, DE = "14155550101", "14155550102", "14165550123", "919876543210", "4915112345678"
NOT_A_NUMBER = "1234"


def sms_output(to: str, segments: int = 1, **extra: Any) -> JsonObject:
    return {
        "status": "queued",
        "message_uuid": [f"uuid-{n}" for n, _ in enumerate(to.split("<"))],
        "to": to,
        "encoding": "GSM",
        "segments": segments,
        **extra,
    }


# --- counting --------------------------------------------------------------------------------


def test_sms_segments_count_per_destination_country() -> None:
    counter: Counter[str] = Counter()
    assert count_segments(counter, sms_output(US, segments=3)) == 3
    assert count_segments(counter, sms_output(f"{US2}<{IN}<{DE}", segments=2)) == 6
    assert counter == {"US": 5, "IN": 2, "DE": 2}


def test_repeated_destination_of_one_request_is_one_message() -> None:
    counter: Counter[str] = Counter()
    assert count_segments(counter, sms_output(f"{US}<{US}<{CA}")) == 2
    assert counter == {"US": 1, "CA": 1}


def test_destinations_plivo_refused_are_not_counted() -> None:
    counter: Counter[str] = Counter()
    output = sms_output(f"{US}<{IN}<{DE}", segments=2, invalid_number=[f"+{IN}"])
    assert count_segments(counter, output) == 4
    assert counter == {"US": 2, "DE": 2}


def test_unknown_country_is_counted_apart() -> None:
    counter: Counter[str] = Counter()
    assert count_segments(counter, sms_output(NOT_A_NUMBER)) == 1
    assert counter == {UNKNOWN_COUNTRY: 1}


def test_outputs_that_are_not_sms_count_nothing() -> None:
    counter: Counter[str] = Counter()
    others: list[Mapping[str, object]] = [
        {"status": "fired", "request_uuid": "x", "to": US},  # a call
        {"app_id": "123", "message": "created"},  # an application
        {"error": "Bad request"},  # an error item
        sms_output(US, segments=True),  # not a count
        sms_output(US, segments="2"),  # not a count
    ]
    for output in others:
        assert count_segments(counter, output) == 0
        assert count_mms(counter, output) == 0
    assert counter == {}


def test_mms_is_counted_as_messages_not_as_sms_segments() -> None:
    sms: Counter[str] = Counter()
    mms: Counter[str] = Counter()
    output = sms_output(f"{US}<{CA}", segments=1, media_count=2, encoding="UCS-2")
    assert count_segments(sms, output) == 0
    assert count_mms(mms, output) == 2
    assert sms == {}
    assert mms == {"US": 1, "CA": 1}
    # An SMS never counts as an MMS.
    assert count_mms(mms, sms_output(US, segments=4)) == 0
    assert mms == {"US": 1, "CA": 1}


def test_mms_summary_line_says_they_are_not_priced() -> None:
    assert describe_mms(4) == "MMS: 4 messages (not priced: Plivo's Pricing API gives SMS rates)"
    assert describe_mms(1).startswith("MMS: 1 message (")


# --- bulk outputs, built by the real bulk splitter ---------------------------------------------


def prepared(
    *destinations: str, text: str = "Hi", media: MediaPlan | None = None
) -> PreparedMessage:
    body = {"src": "14155550100", "text": text, "type": "mms" if media else "sms"}
    return PreparedMessage(
        body={**body, "dst": "<".join(destinations)},
        destinations=tuple(destinations),
        sender="14155550100",
        powerpack_uuid="",
        encoding=analyze_text(text),
        media=media,
    )


def bulk_outputs(
    members: Sequence[PreparedMessage], response: Mapping[str, Any]
) -> list[JsonObject | None]:
    group = MessageGroup()
    for index, member in enumerate(members):
        group.add(index, member)
    return [o if isinstance(o, dict) else None for o in split_response(group, response)]


def test_bulk_outputs_count_each_queued_message_once() -> None:
    long_text = "x" * 200  # two GSM-7 segments
    members = [
        prepared(US, text=long_text),
        prepared(IN, text=long_text),
        prepared(US, text=long_text),  # a duplicate of item 0: nothing new queued
        prepared(US, DE, text=long_text),  # US is item 0's, DE is its own
        prepared(CA, text=long_text),  # refused by Plivo: an error item, no output
    ]
    response = {
        "api_id": "a",
        "message": "message(s) queued",
        "message_uuid": ["u-us", "u-in", "u-de"],
        "invalid_number": [CA],
    }
    outputs = bulk_outputs(members, response)
    assert outputs[4] is None
    assert outputs[2] is not None
    assert outputs[2]["status"] == "duplicate"
    counter: Counter[str] = Counter()
    counted = [count_segments(counter, o) if o is not None else 0 for o in outputs]
    assert counted == [2, 2, 0, 2, 0]
    assert counter == {"US": 2, "IN": 2, "DE": 2}


def test_bulk_item_with_a_refused_and_a_sent_destination_counts_the_sent_one() -> None:
    outputs = bulk_outputs(
        [prepared(US, NOT_A_NUMBER)],
        {"api_id": "a", "message_uuid": ["u-us"], "invalid_number": [NOT_A_NUMBER]},
    )
    counter: Counter[str] = Counter()
    assert outputs[0] is not None
    assert count_segments(counter, outputs[0]) == 1
    assert counter == {"US": 1}


def test_bulk_mms_outputs_are_counted_as_mms() -> None:
    media = MediaPlan(urls=["https://example.com/a.jpg"])
    outputs = bulk_outputs(
        [prepared(US, media=media), prepared(US, media=media), prepared(CA, media=media)],
        {"api_id": "a", "message_uuid": ["u-us", "u-ca"]},
    )
    sms: Counter[str] = Counter()
    mms: Counter[str] = Counter()
    for output in outputs:
        assert output is not None
        assert count_segments(sms, output) == 0
    assert [count_mms(mms, o) for o in outputs if o is not None] == [1, 0, 1]
    assert sms == {}
    assert mms == {"US": 1, "CA": 1}


# --- pricing ---------------------------------------------------------------------------------


def pricing_body(rate: object) -> JsonObject:
    return {"country_iso": "XX", "message": {"inbound": {"rate": "0"}, "outbound": {"rate": rate}}}


class FakePricing:
    """Answers GET Pricing/ from a table; a value that is an exception is raised instead."""

    def __init__(self, answers: Mapping[str, JsonObject | Exception]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    @property
    def auth_id(self) -> str:
        return "MATEST"

    async def request(
        self,
        method: HttpMethod,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Sequence[UploadFile] | None = None,
    ) -> ApiResponse:
        assert (method, path) == ("GET", "Pricing/")
        country = str((query or {})["country_iso"])
        self.asked.append(country)
        answer = self.answers.get(country)
        if answer is None:
            raise NotFoundError(status=404, method=method, path=path)
        if isinstance(answer, Exception):
            raise answer
        return ApiResponse(200, answer)


async def test_estimate_multiplies_each_countrys_rate_by_its_segments() -> None:
    client = FakePricing({"US": pricing_body("0.00650"), "GB": pricing_body(0.04)})
    estimate = await estimate_cost(client, {"US": 7, "GB": 3})
    assert estimate.by_country == {"US": Decimal("0.04550"), "GB": Decimal("0.12")}
    assert estimate.total == Decimal("0.16550")
    assert estimate.unpriced == ()
    assert estimate.unpriced_segments == 0
    assert sorted(client.asked) == ["GB", "US"]  # one lookup per country
    assert str(estimate) == "0.16550 USD (GB: 0.12000, US: 0.04550)"


async def test_countries_without_a_usable_price_are_listed_not_guessed() -> None:
    client = FakePricing(
        {
            "US": pricing_body("0.00650"),
            "FR": ServerError(status=500, method="GET", path="Pricing/"),
            "JP": RequestTimeoutError("no answer", request_sent=True),
            "UY": pricing_body("x"),
            "BR": pricing_body("NaN"),
            "MX": pricing_body("-0.5"),
            "PE": pricing_body(None),
            "CL": {"message": "no outbound here"},
            "AR": pricing_body(rate=True),
        }
    )
    segments = {
        "US": 10,
        "FR": 1,
        "JP": 2,
        "ZZ": 3,  # no pricing at all: 404
        "BR": 4,
        "MX": 5,
        "PE": 6,
        "CL": 7,
        "AR": 8,
        "UY": 10,
        UNKNOWN_COUNTRY: 9,
    }
    estimate = await estimate_cost(client, segments)
    assert estimate.total == Decimal("0.06500")
    assert estimate.by_country == {"US": Decimal("0.06500")}
    assert estimate.unpriced == ("??", "AR", "BR", "CL", "FR", "JP", "MX", "PE", "UY", "ZZ")
    assert estimate.unpriced_segments == sum(segments.values()) - 10
    assert UNKNOWN_COUNTRY not in client.asked  # nothing to look up for an unknown country
    assert str(estimate) == (
        "0.06500 USD (US: 0.06500); not included: 55 segments to unknown country, "
        "AR, BR, CL, FR, JP, MX, PE, UY, ZZ (no price)"
    )


async def test_nothing_to_price_asks_nothing() -> None:
    client = FakePricing({})
    estimate = await estimate_cost(client, {"US": 0})
    assert estimate == CostEstimate(total=Decimal(0))
    assert client.asked == []
    assert str(estimate) == "0.00000 USD"


# --- the send_sms example against the sandbox's seeded pricing ---------------------------------


async def test_send_sms_example_estimate_equals_the_hand_computed_sum() -> None:
    spec = load_pipeline(EXAMPLES / "send_sms.yaml")
    steps = build_steps(spec)
    assert spec.input_path is not None
    outputs: list[str] = []
    config = SandboxConfig()
    async with Sandbox(config) as sandbox:
        credentials = Credentials(config.auth_id, config.auth_token, sandbox.url)
        async with PlivoClient(credentials) as client:
            tally = MessageTally()
            summary = await execute(
                steps,
                read_items(spec.input_path),
                {"plivo": DryRunClient(client, auth_id=config.auth_id)},
                outputs.append,
                tallies={"plivo": tally},
            )
            estimate = await estimate_cost(client, tally.segments_by_country)
        assert summary.failed == 0
        writes = [r for r in sandbox.state.request_log if r.method != "GET"]
    assert writes == []
    assert len(outputs) == 5
    # contacts.csv: two US numbers, one each in Canada, India and Germany; each text fits one
    # GSM-7 segment. Seeded rates: US 0.00650, CA 0.00350, IN 0.00290, DE 0.08500.
    assert tally.segments_by_country == {"US": 2, "CA": 1, "IN": 1, "DE": 1}
    hand_computed = (
        Decimal("0.00650") * 2 + Decimal("0.00350") + Decimal("0.00290") + Decimal("0.08500")
    )
    assert hand_computed == Decimal("0.10440")
    assert estimate.total == hand_computed
    assert estimate.unpriced == ()
    assert estimate.by_country == {
        country: Decimal(MESSAGE_RATES[country]) * n
        for country, n in tally.segments_by_country.items()
    }


class _Unexpected(RuntimeError):
    pass


async def test_a_broken_price_lookup_is_a_summary_line_never_an_exception() -> None:
    """The messages are sent: whatever the lookup raises, the run's outcome stands."""
    client = FakePricing({"US": _Unexpected("boom"), "GB": {"message": ["not", "a", "map"]}})
    estimate = await estimate_cost(client, {"US": 3, "GB": 1})
    assert estimate.failure == "the price lookup failed: _Unexpected"
    assert str(estimate) == "unavailable (the price lookup failed: _Unexpected)"


async def test_an_answer_that_is_not_an_object_is_no_price() -> None:
    client = FakePricing({"US": ["a", "list"]})  # type: ignore[dict-item]
    estimate = await estimate_cost(client, {"US": 2})
    assert estimate.unpriced == ("US",)
    assert estimate.failure is None
