"""endpoint: wire requests, and the password never in an output item or an error message."""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.plivo.resources import endpoint

API_ID = "97ceeb52-58b6-11e1-86da-77300b68f8bb"
ENDPOINT_ID = "37371860103666"
PASSWORD = "s3cret-pass"


def endpoint_object(n: int = 0) -> dict[str, Any]:
    # A misbehaving server echoing the password: it must still never reach an output item.
    return {
        "endpoint_id": str(37371860103666 + n),
        "alias": "zumba",
        "username": "zumba131031145958",
        "sip_registered": "false",
        "password": PASSWORD,
    }


async def test_create_sends_credentials_and_outputs_no_password(plivo, run) -> None:
    created = {
        "api_id": API_ID,
        "alias": "zumba",
        "endpoint_id": ENDPOINT_ID,
        "message": "created",
        "username": "zumba131031145958",
        "password": PASSWORD,
    }
    plivo.reply("POST", "Endpoint/", created, status=201)
    output = await run(
        endpoint.create,
        {
            "username": "zumba",
            "password": PASSWORD,
            "alias": "zumba",
            "additionalFields": {"app_id": "123"},
        },
    )
    [request] = plivo.requests
    assert (request.method, request.path) == ("POST", "Endpoint/")
    assert request.json == {
        "username": "zumba",
        "password": PASSWORD,
        "alias": "zumba",
        "app_id": "123",
    }
    assert output == [{key: value for key, value in created.items() if key != "password"}]
    assert PASSWORD not in repr(output)


async def test_get_and_get_all_strip_the_password(plivo, run) -> None:
    plivo.reply("GET", f"Endpoint/{ENDPOINT_ID}/", {"api_id": API_ID, **endpoint_object()})
    plivo.paged("Endpoint/", [endpoint_object(n) for n in range(3)])
    got = await run(endpoint.get, {"endpoint_id": ENDPOINT_ID})
    listed = await run(endpoint.get_all, {"returnAll": True})
    assert got[0]["endpoint_id"] == ENDPOINT_ID
    assert len(listed) == 3
    assert PASSWORD not in repr(got + listed)


async def test_update_sends_only_given_fields(plivo, run) -> None:
    plivo.reply(
        "POST", f"Endpoint/{ENDPOINT_ID}/", {"api_id": API_ID, "message": "changed"}, status=202
    )
    output = await run(
        endpoint.update, {"endpoint_id": ENDPOINT_ID, "updateFields": {"alias": "new-alias"}}
    )
    assert plivo.requests[0].json == {"alias": "new-alias"}
    assert output == [{"api_id": API_ID, "message": "changed", "id": ENDPOINT_ID}]


async def test_update_of_the_password_keeps_it_out_of_the_output(plivo, run) -> None:
    plivo.reply(
        "POST",
        f"Endpoint/{ENDPOINT_ID}/",
        {"api_id": API_ID, "message": "changed", "password": PASSWORD},
    )
    output = await run(
        endpoint.update, {"endpoint_id": ENDPOINT_ID, "updateFields": {"password": PASSWORD}}
    )
    assert plivo.requests[0].json == {"password": PASSWORD}
    assert PASSWORD not in repr(output)


async def test_delete(plivo, run) -> None:
    plivo.reply("DELETE", f"Endpoint/{ENDPOINT_ID}/", status=204)
    output = await run(endpoint.delete, {"endpoint_id": ENDPOINT_ID})
    assert [(r.method, r.path) for r in plivo.requests] == [("DELETE", f"Endpoint/{ENDPOINT_ID}/")]
    assert output == [{"success": True, "id": ENDPOINT_ID}]


async def test_a_short_password_is_refused_without_quoting_it(plivo, run) -> None:
    with pytest.raises(ParameterError) as caught:
        await run(endpoint.create, {"username": "zumba", "password": "abc1", "alias": "z"})
    assert caught.value.parameter == "password"
    # The raw message and hint, not str(): redaction would mask a leak and hide the bug.
    assert "abc1" not in caught.value.message
    assert "abc1" not in (caught.value.hint or "")
    assert "4 characters" in str(caught.value)
    assert plivo.requests == []


@pytest.mark.parametrize(
    ("handler", "params", "parameter"),
    [
        (endpoint.create, {"username": "1zumba", "password": PASSWORD, "alias": "z"}, "username"),
        (endpoint.create, {"username": "zu_mba", "password": PASSWORD, "alias": "z"}, "username"),
        (endpoint.create, {"username": "zumba", "password": PASSWORD, "alias": ""}, "alias"),
        (
            endpoint.create,
            {
                "username": "zumba",
                "password": PASSWORD,
                "alias": "z",
                "additionalFields": {"app_id": "x"},
            },
            "additionalFields.app_id",
        ),
        (endpoint.get, {"endpoint_id": "zumba"}, "endpoint_id"),
        (endpoint.delete, {"endpoint_id": "12/34"}, "endpoint_id"),
        (endpoint.update, {"endpoint_id": ENDPOINT_ID, "updateFields": {}}, "updateFields"),
        (
            endpoint.update,
            {"endpoint_id": ENDPOINT_ID, "updateFields": {"password": "1234"}},
            "updateFields.password",
        ),
    ],
)
async def test_bad_input_fails_before_any_request(
    plivo, run, handler, params: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        await run(handler, params)
    assert caught.value.parameter == parameter
    assert PASSWORD not in caught.value.message
    assert plivo.requests == []
