"""Applications, endpoints, numbers, conferences, pricing, account, subaccounts and calls."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from plivo_sandbox import Sandbox

from .conftest import Api

# --- applications ------------------------------------------------------------------------------


async def test_application_partial_update_keeps_unsent_fields(api: Api) -> None:
    created = await api.post(
        "Application/",
        {
            "app_name": "keep-me",
            "answer_url": "https://example.com/answer",
            "message_url": "https://example.com/message",
            "message_method": "GET",
            "default_endpoint_app": True,
            "log_incoming_messages": False,
        },
    )
    assert created.status == 201
    assert created.body["message"] == "created"
    app_id = created.body["app_id"]
    before = (await api.get(f"Application/{app_id}/")).body

    updated = await api.post(f"Application/{app_id}/", {"answer_url": "https://example.com/new"})
    assert updated.status == 202
    assert set(updated.body) == {"api_id", "message"}
    assert updated.body["message"] == "changed"

    after = (await api.get(f"Application/{app_id}/")).body
    assert after["answer_url"] == "https://example.com/new"
    for field in ("message_url", "message_method", "default_endpoint_app", "hangup_url"):
        assert after[field] == before[field], field
    assert after["message_method"] == "GET"
    assert after["default_endpoint_app"] is True
    assert after["log_incoming_messages"] is False


async def test_default_number_app_comes_back_as_default_app_and_stays_unique(api: Api) -> None:
    created = await api.post("Application/", {"app_name": "numbers", "default_number_app": True})
    app = (await api.get(f"Application/{created.body['app_id']}/")).body
    assert app["default_app"] is True
    assert "default_number_app" not in app
    listed = (await api.get("Application/")).body["objects"]
    assert [a["app_name"] for a in listed if a["default_app"]] == ["numbers"]


async def test_application_delete_is_204_empty_then_404(api: Api) -> None:
    app_id = (await api.post("Application/", {"app_name": "gone"})).body["app_id"]
    deleted = await api.delete(f"Application/{app_id}/")
    assert deleted.status == 204
    assert deleted.raw == b""
    assert (await api.get(f"Application/{app_id}/")).status == 404
    assert (await api.delete(f"Application/{app_id}/")).status == 404
    assert (await api.post(f"Application/{app_id}/", {"answer_url": "https://e.x/"})).status == 404


@pytest.mark.parametrize(("cascade", "survives"), [(None, False), (True, False), (False, True)])
async def test_application_delete_cascades_to_its_endpoints(
    api: Api, cascade: bool | None, survives: bool
) -> None:
    app_id = (await api.post("Application/", {"app_name": "parent"})).body["app_id"]
    endpoint = await api.post(
        "Endpoint/", {"username": "child", "password": "secret", "alias": "c", "app_id": app_id}
    )
    endpoint_id = endpoint.body["endpoint_id"]
    body = {} if cascade is None else {"cascade": cascade}
    assert (await api.call("DELETE", f"Application/{app_id}/", json=body)).status == 204
    reply = await api.get(f"Endpoint/{endpoint_id}/")
    assert reply.status == (200 if survives else 404)
    if survives:
        assert reply.body["application"] is None


async def test_application_delete_refuses_itself_as_the_endpoints_new_application(
    api: Api,
) -> None:
    app_id = (await api.post("Application/", {"app_name": "parent"})).body["app_id"]
    endpoint = await api.post(
        "Endpoint/", {"username": "child", "password": "secret", "alias": "c", "app_id": app_id}
    )
    body = {"new_endpoint_application": app_id}
    refused = await api.call("DELETE", f"Application/{app_id}/", json=body)
    assert refused.status == 400
    assert "another application" in refused.body["error"]
    assert (await api.get(f"Application/{app_id}/")).status == 200
    kept = await api.get(f"Endpoint/{endpoint.body['endpoint_id']}/")
    assert kept.body["application"].endswith(f"/Application/{app_id}/")


async def test_application_list_filter_by_name(api: Api) -> None:
    await api.post("Application/", {"app_name": "findme"})
    found = await api.get("Application/", app_name="findme")
    assert [a["app_name"] for a in found.body["objects"]] == ["findme"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "app_name is a required parameter"),
        ({"app_name": "has space"}, "may only contain letters"),
        ({"app_name": "ok", "answer_url": "nope"}, "not an http(s) URL"),
        ({"app_name": "ok", "answer_method": "PUT"}, "GET or POST"),
        ({"app_name": "ok", "public_uri": "perhaps"}, "true or false"),
        ({"app_name": "ok", "subaccount": "SA999999999999999999"}, "does not exist"),
    ],
)
async def test_bad_application_params_are_400(
    api: Api, body: dict[str, object], error: str
) -> None:
    reply = await api.post("Application/", body)
    assert reply.status == 400
    assert error in reply.body["error"]


# --- endpoints ---------------------------------------------------------------------------------


async def test_endpoint_password_is_never_returned(api: Api, sandbox: Sandbox) -> None:
    password = "very-secret-pw"
    created = await api.post(
        "Endpoint/", {"username": "zumba", "password": password, "alias": "Zumba"}
    )
    assert created.status == 201
    assert set(created.body) == {"api_id", "alias", "endpoint_id", "message", "username"}
    endpoint_id = created.body["endpoint_id"]
    new_password = "another-secret"
    replies = [
        created,
        await api.get(f"Endpoint/{endpoint_id}/"),
        await api.get("Endpoint/"),
        await api.post(f"Endpoint/{endpoint_id}/", {"password": new_password}),
        await api.get(f"Endpoint/{endpoint_id}/"),
    ]
    for reply in replies:
        assert password.encode() not in reply.raw
        assert new_password.encode() not in reply.raw
        assert b"password" not in reply.raw
    assert sandbox.state.endpoint_passwords[endpoint_id] == new_password


async def test_endpoint_username_suffix_and_string_booleans(api: Api) -> None:
    created = await api.post("Endpoint/", {"username": "callme", "password": "12345", "alias": "a"})
    twin = await api.post("Endpoint/", {"username": "callme", "password": "12345", "alias": "b"})
    for reply in (created, twin):
        username = reply.body["username"]
        assert username.startswith("callme")
        assert len(username[len("callme") :]) == 12
        assert username[len("callme") :].isdigit()
    assert created.body["username"] != twin.body["username"]
    got = (await api.get(f"Endpoint/{created.body['endpoint_id']}/")).body
    assert got["sip_registered"] == "false"
    assert got["sip_uri"] == f"sip:{created.body['username']}@phone.plivo.com"
    seeded = (await api.get("Endpoint/")).body["objects"][0]
    assert seeded["sip_registered"] == "true"


async def test_endpoint_update_and_delete(api: Api) -> None:
    app_id = (await api.post("Application/", {"app_name": "ep-app"})).body["app_id"]
    endpoint_id = (
        await api.post("Endpoint/", {"username": "upd", "password": "12345", "alias": "old"})
    ).body["endpoint_id"]
    reply = await api.post(f"Endpoint/{endpoint_id}/", {"alias": "new", "app_id": app_id})
    assert reply.status == 202
    got = (await api.get(f"Endpoint/{endpoint_id}/")).body
    assert got["alias"] == "new"
    assert got["application"].endswith(f"/Application/{app_id}/")
    deleted = await api.call(
        "DELETE", f"Endpoint/{endpoint_id}/", json={"endpoint_id": endpoint_id}
    )
    assert (deleted.status, deleted.raw) == (204, b"")
    assert (await api.get(f"Endpoint/{endpoint_id}/")).status == 404


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"password": "12345", "alias": "a"}, "username is a required parameter"),
        ({"username": "9lives", "password": "12345", "alias": "a"}, "starting with a letter"),
        ({"username": "ok", "password": "1234", "alias": "a"}, "at least 5 characters"),
        ({"username": "ok", "password": "12345"}, "alias is a required parameter"),
        ({"username": "ok", "password": "12345", "alias": "a", "app_id": "1"}, "does not exist"),
    ],
)
async def test_bad_endpoint_params_are_400(api: Api, body: dict[str, object], error: str) -> None:
    reply = await api.post("Endpoint/", body)
    assert reply.status == 400
    assert error in reply.body["error"]
    assert "1234" not in reply.body["error"]


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["14155550100", "12125550188", "18005550123", "16045550142", "18885550177"]),
        ({"type": "local"}, ["14155550100", "12125550188", "16045550142"]),
        ({"number_startswith": "+1604"}, ["16045550142"]),
        ({"services": "mms"}, ["14155550100", "18005550123", "16045550142"]),
        ({"services": "voice,sms"}, ["14155550100", "18005550123", "16045550142", "18885550177"]),
        ({"alias": "support"}, ["12125550188"]),
        ({"subaccount": "SA000000000000000001"}, ["12125550188"]),
        ({"renewal_date__lt": "2026-12-10"}, ["12125550188", "16045550142"]),
        ({"renewal_date": "2027-01-15"}, ["18005550123"]),
        ({"type": "mobile"}, []),
    ],
)
async def test_number_filters(api: Api, query: dict[str, str], expected: list[str]) -> None:
    reply = await api.get("Number/", **query)
    assert reply.status == 200
    assert [n["number"] for n in reply.body["objects"]] == expected
    assert reply.body["meta"]["total_count"] == len(expected)


@pytest.mark.parametrize(
    "query",
    [{"type": "premium"}, {"services": "fax"}, {"renewal_date__gt": "15/01/2027"}],
)
async def test_bad_number_filters_are_400(api: Api, query: dict[str, str]) -> None:
    reply = await api.get("Number/", **query)
    assert reply.status == 400
    assert next(iter(query)) in reply.body["error"]


async def test_number_get_update_and_unrent(api: Api) -> None:
    number = (await api.get("Number/16045550142/")).body
    assert number["country"] == "Canada"
    assert number["mms_enabled"] is True
    assert (await api.post("Number/16045550142/", {"alias": "vancouver"})).status == 202
    assert (await api.get("Number/16045550142/")).body["alias"] == "vancouver"
    assert (await api.delete("Number/16045550142/")).status == 204
    assert (await api.get("Number/16045550142/")).status == 404


# --- conferences -------------------------------------------------------------------------------


async def test_conference_list_is_a_bare_name_array(api: Api) -> None:
    reply = await api.get("Conference/")
    assert set(reply.body) == {"api_id", "conferences"}
    assert reply.body["conferences"] == ["My Conf Room", "Sales Standup", "Support Bridge"]


async def test_conference_get_decodes_the_name_and_uses_string_counters(api: Api) -> None:
    reply = await api.get(f"Conference/{quote('My Conf Room')}/", conference_name="My Conf Room")
    assert reply.status == 200
    room = reply.body
    assert room["conference_name"] == "My Conf Room"
    assert room["conference_member_count"] == "2"
    assert isinstance(room["conference_run_time"], str)
    member = room["members"][0]
    assert isinstance(member["member_id"], str)
    assert isinstance(member["join_time"], str)
    assert member["muted"] is False
    assert (await api.get("Conference/No%20Such%20Room/")).status == 404


async def test_conference_hang_up(api: Api) -> None:
    assert (await api.delete("Conference/Sales%20Standup/")).status == 204
    assert "Sales Standup" not in (await api.get("Conference/")).body["conferences"]
    assert (await api.delete("Conference/")).status == 204
    assert (await api.get("Conference/")).body["conferences"] == []


# --- pricing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("iso", ["US", "CA", "GB", "IN", "DE", "AU", "us"])
async def test_pricing_shapes(api: Api, iso: str) -> None:
    reply = await api.get("Pricing/", country_iso=iso)
    assert reply.status == 200
    pricing = reply.body
    assert pricing["country_iso"] == iso.upper()
    assert isinstance(pricing["country_code"], int)
    assert set(pricing["message"]) == {"inbound", "outbound", "outbound_networks_list"}
    assert set(pricing["voice"]) == {"inbound", "outbound"}
    assert isinstance(pricing["phone_numbers"], dict)
    for entry in pricing["voice"]["outbound"]["rates"]:
        assert isinstance(entry["prefix"], list)
        assert len(entry["rate"].split(".")[1]) == 5


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({}, 400),
        ({"country_iso": "USA"}, 400),
        ({"country_iso": "1"}, 400),
        ({"country_iso": "ZZ"}, 404),
    ],
)
async def test_pricing_errors(api: Api, query: dict[str, str], status: int) -> None:
    reply = await api.get("Pricing/", **query)
    assert reply.status == status
    assert set(reply.body) == {"api_id", "error"}


# --- account and subaccounts -------------------------------------------------------------------


async def test_account_get_and_update(api: Api, sandbox: Sandbox) -> None:
    account = (await api.get("")).body
    assert account["auth_id"] == sandbox.config.auth_id
    assert account["cash_credits"] == "100.00000"
    assert (await api.post("", {"city": "Austin"})).status == 202
    assert (await api.get("")).body["city"] == "Austin"
    assert (await api.post("", {})).status == 400


async def test_subaccount_create_get_update_delete(api: Api) -> None:
    created = await api.post("Subaccount/", {"name": "new-team", "enabled": True})
    assert created.status == 201
    auth_id = created.body["auth_id"]
    assert auth_id.startswith("SA")
    assert len(auth_id) == 20
    got = (await api.get(f"Subaccount/{auth_id}/")).body
    assert (got["name"], got["enabled"]) == ("new-team", True)
    assert (await api.post(f"Subaccount/{auth_id}/", {"name": "renamed"})).status == 202
    assert (await api.get(f"Subaccount/{auth_id}/")).body["name"] == "renamed"
    assert (await api.get("Subaccount/")).body["meta"]["total_count"] == 4
    assert (await api.delete(f"Subaccount/{auth_id}/")).status == 204
    assert (await api.get(f"Subaccount/{auth_id}/")).status == 404


# --- calls -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"to": "14155550101", "answer_url": "https://e.x/a"}, "from is a required parameter"),
        ({"from": "14155550100", "answer_url": "https://e.x/a"}, "to is a required parameter"),
        ({"from": "14155550100", "to": "14155550101"}, "answer_url is a required parameter"),
        ({"from": "14155550100", "to": "14155550101<nope", "answer_url": "https://e.x/a"}, "nope"),
        ({"from": "14155550100", "to": "14155550100", "answer_url": "https://e.x/a"}, "overlap"),
        (
            {"from": "14155550100", "to": "14155550101", "answer_url": "https://e.x/a",
             "ring_timeout": -1},
            "ring_timeout",
        ),
    ],
)  # fmt: skip
async def test_bad_call_params_are_400(
    api: Api, sandbox: Sandbox, body: dict[str, object], error: str
) -> None:
    reply = await api.post("Call/", body)
    assert reply.status == 400
    assert error in reply.body["error"]
    assert sandbox.state.calls == []


async def test_call_records_and_list(api: Api, sandbox: Sandbox) -> None:
    fired = await api.post(
        "Call/",
        {"from": "+14155550100", "to": "14155550101", "answer_url": "https://e.x/a"},
    )
    assert fired.status == 201
    request_uuid = fired.body["request_uuid"]
    assert sandbox.state.calls[0]["answer_method"] == "POST"
    record = (await api.get(f"Call/{request_uuid}/", call_uuid=request_uuid)).body
    assert record["from_number"] == "14155550100"
    assert record["to_number"] == "14155550101"
    assert record["call_direction"] == "outbound"
    assert (await api.get(f"Call/{request_uuid}/", status="live")).status == 404
    listed = await api.get("Call/", to_number="14155550101")
    assert [c["call_uuid"] for c in listed.body["objects"]] == [request_uuid]
