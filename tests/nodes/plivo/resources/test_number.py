"""number get/getAll: the number normalised into the path, filters into the query."""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.plivo.resources import number

NUMBER = {"api_id": "x", "number": "17609915566", "number_type": "local", "sms_enabled": True}


async def test_get_normalises_the_number_to_digits(plivo, run) -> None:
    plivo.reply("GET", "Number/17609915566/", NUMBER)
    output = await run(number.get, {"number": "+1 (760) 991-5566"})
    assert [(r.method, r.path) for r in plivo.requests] == [("GET", "Number/17609915566/")]
    assert output == [NUMBER]


async def test_get_all_sends_the_filters_given(plivo, run) -> None:
    plivo.paged("Number/", [{"number": str(14155550100 + n)} for n in range(3)])
    output = await run(
        number.get_all,
        {
            "returnAll": False,
            "limit": 20,
            "type": "tollfree",
            "number_startswith": "+1 415",
            "additionalFields": {
                "alias": "main",
                "subaccount": "SA000000000000000001",
                "services": ["voice", "sms"],
                "renewal_date__gte": "2024-03-14",
            },
        },
    )
    [request] = plivo.requests
    assert request.query == {
        "type": "tollfree",
        "number_startswith": "1415",
        "alias": "main",
        "subaccount": "SA000000000000000001",
        "services": "voice,sms",
        "renewal_date__gte": "2024-03-14",
        "limit": "20",
        "offset": "0",
    }
    assert len(output) == 3


async def test_get_all_leaves_empty_filters_out(plivo, run) -> None:
    plivo.paged("Number/", [])
    output = await run(
        number.get_all,
        {
            "returnAll": True,
            "type": "",
            "number_startswith": "",
            "additionalFields": {"services": []},
        },
    )
    assert plivo.requests[0].query == {"limit": "20", "offset": "0"}
    assert output == []


@pytest.mark.parametrize(
    ("handler", "params", "parameter"),
    [
        (number.get, {"number": "call-me"}, "number"),
        (number.get, {"number": ""}, "number"),
        (number.get_all, {"returnAll": True, "type": "premium"}, "type"),
        (number.get_all, {"returnAll": True, "number_startswith": "14a"}, "number_startswith"),
        (
            number.get_all,
            {"returnAll": True, "additionalFields": {"services": "voice,fax"}},
            "additionalFields.services",
        ),
        (
            number.get_all,
            {"returnAll": True, "additionalFields": {"renewal_date": "2024-02-30"}},
            "additionalFields.renewal_date",
        ),
    ],
)
async def test_bad_input_fails_before_any_request(
    plivo, run, handler, params: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        await run(handler, params)
    assert caught.value.parameter == parameter
    assert plivo.requests == []


async def test_update_sends_only_the_fields_given(plivo, run) -> None:
    plivo.reply("POST", "Number/17609915566/", {"api_id": "x", "message": "changed"}, status=202)
    [output] = await run(
        number.update,
        {"number": "+1 760 991 5566", "updateFields": {"app_id": "20468599130939380", "alias": ""}},
    )
    [request] = plivo.requests
    assert (request.method, request.path) == ("POST", "Number/17609915566/")
    assert request.json == {"app_id": "20468599130939380"}
    assert output == {"api_id": "x", "message": "changed", "number": "17609915566"}


@pytest.mark.parametrize(
    ("update_fields", "parameter"),
    [
        ({}, "updateFields"),
        ({"alias": "  "}, "updateFields"),
        ({"app_id": "app-1"}, "updateFields.app_id"),
    ],
)
async def test_update_checks_its_fields_before_sending(
    plivo, run, update_fields: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        await run(number.update, {"number": "17609915566", "updateFields": update_fields})
    assert caught.value.parameter == parameter
    assert plivo.requests == []
