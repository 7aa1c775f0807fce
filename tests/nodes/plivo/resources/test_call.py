"""call.make: required fields always, optional ones only when given, checks before sending."""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.description.parameters import ParameterResolver
from plivo_node.expressions import ExpressionContext
from plivo_node.nodes.plivo.description import plivo_description
from plivo_node.nodes.plivo.resources import call

API_ID = "97ceeb52-58b6-11e1-86da-77300b68f8bb"
REQUEST_UUID = "9834029e-58b6-11e1-b8b7-a5bd0e4e126f"


def params(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "from": "+14155550100",
        "to": "+14155550101",
        "answer_url": "https://example.com/answer",
        "answer_method": "POST",
        "hangup_url": "",
        "hangup_method": "POST",
        "fallback_url": "",
        "fallback_method": "POST",
        "caller_name": "",
        "send_digits": "",
        "send_on_preanswer": False,
        "additionalFields": {},
    }
    base.update(overrides)
    return base


def fired(plivo: Any, request_uuid: Any = REQUEST_UUID) -> None:
    body = {"api_id": API_ID, "message": "call fired", "request_uuid": request_uuid}
    plivo.reply("POST", "Call/", body, status=201)


async def test_minimal_call_sends_only_the_required_fields(plivo, run) -> None:
    fired(plivo)
    output = await run(call.make, params())
    [request] = plivo.requests
    assert (request.method, request.path) == ("POST", "Call/")
    assert request.json == {
        "from": "14155550100",
        "to": "14155550101",
        "answer_url": "https://example.com/answer",
        "answer_method": "POST",
    }
    assert output == [
        {
            "status": "fired",
            "request_uuid": REQUEST_UUID,
            "api_id": API_ID,
            "message": "call fired",
            "from": "14155550100",
            "to": "14155550101",
        }
    ]


async def test_every_optional_field_given_goes_on_the_wire(plivo, run) -> None:
    fired(plivo)
    await run(
        call.make,
        params(
            answer_method="get",
            hangup_url="https://example.com/hangup",
            hangup_method="GET",
            fallback_url="https://example.com/fallback",
            caller_name="Support",
            send_digits="1w2W3#@1000",
            send_on_preanswer=True,
            time_limit=600.0,
            ring_timeout=30,
            additionalFields={
                "machine_detection": "hangup",
                "machine_detection_time": 3000,
                "machine_detection_url": "https://example.com/amd",
                "machine_detection_method": "GET",
                "ring_url": "https://example.com/ring",
                "ring_method": "POST",
                "hangup_on_ring": 45,
                "sip_headers": "team=sales,tier=gold",
            },
        ),
    )
    assert plivo.requests[0].json == {
        "from": "14155550100",
        "to": "14155550101",
        "answer_url": "https://example.com/answer",
        "answer_method": "GET",
        "hangup_url": "https://example.com/hangup",
        "hangup_method": "GET",
        "fallback_url": "https://example.com/fallback",
        "fallback_method": "POST",
        "caller_name": "Support",
        "send_digits": "1w2W3#@1000",
        "send_on_preanswer": True,
        "machine_detection": "hangup",
        "machine_detection_time": 3000,
        "machine_detection_url": "https://example.com/amd",
        "machine_detection_method": "GET",
        "ring_url": "https://example.com/ring",
        "ring_method": "POST",
        "hangup_on_ring": 45,
        "ring_timeout": 30,
        "sip_headers": "team=sales,tier=gold",
        "time_limit": 600,
    }


async def test_bulk_and_sip_destinations(plivo, run) -> None:
    fired(plivo, ["uuid-1", "uuid-2"])
    output = await run(call.make, params(to="sip:alice@phone.plivo.com<+1 415 555 0101"))
    assert plivo.requests[0].json["to"] == "sip:alice@phone.plivo.com<14155550101"
    assert output[0]["request_uuid"] == ["uuid-1", "uuid-2"]


@pytest.mark.parametrize(
    ("overrides", "parameter", "fragment"),
    [
        ({"from": "555"}, "from", "not a valid phone number"),
        ({"to": "sip:nobody"}, "to", "SIP URI"),
        ({"to": "+14155550100"}, "to", "caller"),
        ({"answer_url": ""}, "answer_url", "empty"),
        ({"answer_url": "example.com/answer"}, "answer_url", "http(s)"),
        ({"answer_method": "PUT"}, "answer_method", "GET, POST"),
        ({"hangup_url": "mailto:x@y.z"}, "hangup_url", "http(s)"),
        ({"caller_name": "x" * 51}, "caller_name", "51 characters"),
        ({"send_digits": "12a"}, "send_digits", "cannot play"),
        ({"time_limit": 0}, "time_limit", "at least 1"),
        ({"time_limit": 90000}, "time_limit", "at most 86400"),
        ({"ring_timeout": 2.5}, "ring_timeout", "whole number"),
        ({"additionalFields": {"machine_detection": "maybe"}}, "machine_detection", "true, hangup"),
        ({"additionalFields": {"machine_detection_time": 1000}}, "machine_detection_time", "2000"),
        ({"additionalFields": {"sip_headers": "a=b;c"}}, "sip_headers", "name=value"),
    ],
)
async def test_bad_input_fails_before_any_request(
    plivo, run, overrides: dict[str, Any], parameter: str, fragment: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        await run(call.make, params(**overrides))
    assert caught.value.parameter is not None
    assert caught.value.parameter.endswith(parameter)
    assert fragment in str(caught.value)
    assert plivo.requests == []


def _number_fields() -> list[tuple[str, int | None, int | None]]:
    description = plivo_description()
    additional = description.parameter("call", "make", "additionalFields")
    assert additional is not None
    paths = ["time_limit", "ring_timeout"] + [
        f"additionalFields.{field.name}" for field in additional.fields() if field.type == "number"
    ]
    return [(path, *description.number_bounds("call", "make", path)) for path in paths]


def nested(path: str, value: Any) -> dict[str, Any]:
    """``{"a": {"b": value}}`` for the path ``a.b``."""
    head, _, rest = path.partition(".")
    return {head: nested(rest, value) if rest else value}


@pytest.mark.parametrize(("path", "low", "high"), _number_fields())
async def test_every_number_bound_of_the_manifest_is_the_handlers_bound(
    plivo, run, path: str, low: int | None, high: int | None
) -> None:
    """hangup_on_ring once accepted 0 in the handler while the manifest said at least 1."""
    key = path.rpartition(".")[2]
    assert low is not None  # every call number has a lower bound
    for value, accepted in [
        (low - 1, False),
        (low, True),
        *([(high, True), (high + 1, False)] if high is not None else []),
    ]:
        plivo.requests.clear()
        if accepted:
            fired(plivo)
            await run(call.make, params(**nested(path, value)))
            assert plivo.requests[0].json[key] == value
        else:
            with pytest.raises(ParameterError) as caught:
                await run(call.make, params(**nested(path, value)))
            assert caught.value.parameter == path
            assert plivo.requests == []


async def test_defaults_of_optional_numbers_never_go_on_the_wire(plivo, run) -> None:
    """time_limit and ring_timeout defaults went on every call: resolve as a run does."""
    description = plivo_description()
    resolver = ParameterResolver(
        description,
        {
            "resource": "call",
            "operation": "make",
            "from": "+14155550100",
            "to": "+14155550101",
            "answer_url": "https://example.com/answer",
        },
        step_name="Call",
    )
    fired(plivo)
    await run(call.make, resolver.resolve(ExpressionContext(json={}, item_index=0)))
    sent = plivo.requests[0].json
    assert set(sent) == {"from", "to", "answer_url", "answer_method"}
