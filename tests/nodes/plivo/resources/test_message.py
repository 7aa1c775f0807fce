"""message get/getAll: the UUID into the path, filters into the query, error meanings added."""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.plivo.error_codes import error_meaning, normalized_code
from plivo_node.nodes.plivo.resources import message

UUID = "5b40a428-bfc7-4daf-9d06-726c558bf3b8"
RECORD = {
    "api_id": "x",
    "message_uuid": UUID,
    "message_state": "failed",
    "error_code": "200",
    "units": 1,
    "total_rate": "0.00250",
}


async def test_get_reads_the_record_and_explains_its_error_code(plivo, run) -> None:
    plivo.reply("GET", f"Message/{UUID}/", RECORD)
    [output] = await run(message.get, {"message_uuid": UUID.upper()})
    assert [(r.method, r.path) for r in plivo.requests] == [("GET", f"Message/{UUID}/")]
    assert output == {**RECORD, "error_meaning": "The destination has opted out (replied STOP)"}


async def test_get_adds_no_meaning_before_a_delivery_report(plivo, run) -> None:
    plivo.reply("GET", f"Message/{UUID}/", {**RECORD, "error_code": None})
    [output] = await run(message.get, {"message_uuid": UUID})
    assert "error_meaning" not in output


async def test_get_all_sends_the_filters_given_in_plivos_names(plivo, run) -> None:
    plivo.paged(
        "Message/", [{**RECORD, "message_uuid": str(n), "error_code": "30"} for n in range(3)]
    )
    output = await run(
        message.get_all,
        {
            "returnAll": False,
            "limit": 2,
            "additionalFields": {
                "message_direction": "Outbound",
                "message_state": "undelivered",
                "message_time__gte": "2024-08-21T18:00:00+05:30",
                "message_time__lte": "2024-08-22 10:00",
                "subaccount": "SA000000000000000001",
                "to_number": "+1 415-555-0101",
            },
        },
    )
    [request] = plivo.requests
    assert request.query == {
        "message_direction": "outbound",
        "message_state": "undelivered",
        "message_time__gte": "2024-08-21 12:30:00",
        "message_time__lte": "2024-08-22 10:00:00",
        "subaccount": "SA000000000000000001",
        "to_number": "14155550101",
        "limit": "2",
        "offset": "0",
    }
    assert [item["error_meaning"] for item in output] == ["Spam detected or carrier filter"] * 2


@pytest.mark.parametrize(
    ("handler", "params", "parameter"),
    [
        (message.get, {"message_uuid": ""}, "message_uuid"),
        (message.get, {"message_uuid": "not-a-uuid"}, "message_uuid"),
        (
            message.get_all,
            {"additionalFields": {"message_state": "lost"}},
            "additionalFields.message_state",
        ),
        (
            message.get_all,
            {"additionalFields": {"message_time__gte": "yesterday"}},
            "additionalFields.message_time__gte",
        ),
        (
            message.get_all,
            {"additionalFields": {"to_number": "call-me"}},
            "additionalFields.to_number",
        ),
    ],
)
async def test_bad_parameters_fail_before_any_request(
    plivo, run, handler: Any, params: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        await run(handler, params)
    assert caught.value.parameter == parameter
    assert plivo.requests == []


@pytest.mark.parametrize(
    ("raw", "code", "meaning"),
    [
        ("000", "000", "Delivered"),
        (0, "000", "Delivered"),
        ("030", "30", "Spam detected or carrier filter"),
        (200, "200", "The destination has opted out (replied STOP)"),
        (
            "777",
            "777",
            "Plivo error 777 (see https://plivo.com/docs/messaging/troubleshooting/error-codes)",
        ),
        (None, None, None),
        ("", None, None),
    ],
)
def test_error_codes_are_normalised_and_explained(
    raw: object, code: str | None, meaning: str | None
) -> None:
    assert normalized_code(raw) == code
    assert error_meaning(raw) == meaning
