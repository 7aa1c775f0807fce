"""Wire behaviour: auth, error bodies, status codes, body formats, paging, the request log."""

from __future__ import annotations

import re
import uuid

import aiohttp
import pytest

from plivo_sandbox import Sandbox

from .conftest import Api, basic_auth

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def assert_error_body(body: dict[str, object], error: str | None = None) -> None:
    assert set(body) == {"api_id", "error"}
    assert UUID.fullmatch(str(body["api_id"]))
    if error is not None:
        assert body["error"] == error


@pytest.mark.parametrize(
    "header",
    [
        None,
        basic_auth("MASANDBOX00000000000", "wrong-token"),
        basic_auth("MAOTHER0000000000000", "sandbox-auth-token"),
        "Bearer sandbox-auth-token",
        "Basic !!!not-base64!!!",
    ],
)
async def test_bad_credentials_get_401_with_plivo_error_body(
    sandbox: Sandbox, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(sandbox.account_url, headers=headers) as response,
    ):
        assert response.status == 401
        assert_error_body(await response.json())
    assert sandbox.state.request_log[-1].path == f"/v1/Account/{sandbox.config.auth_id}/"


async def test_auth_id_in_path_must_match_the_credentials(sandbox: Sandbox, http) -> None:
    async with http.get(f"{sandbox.url}Account/MAOTHER0000000000000/") as response:
        assert response.status == 401
        assert_error_body(await response.json())


async def test_every_success_answer_carries_a_fresh_api_id(api: Api) -> None:
    first = await api.get("")
    second = await api.get("")
    assert first.status == second.status == 200
    assert UUID.fullmatch(first.body["api_id"])
    assert first.body["api_id"] != second.body["api_id"]


async def test_unknown_resource_and_unknown_id_are_404_not_found(api: Api) -> None:
    for path in ("Nothing/", f"Message/{uuid.uuid4()}/", "Application/123/", "Number/19995550000/"):
        reply = await api.get(path)
        assert reply.status == 404, path
        assert_error_body(reply.body, "not found")


async def test_path_outside_the_account_is_404(sandbox: Sandbox, http) -> None:
    async with http.get(sandbox.url.replace("/v1/", "/v2/")) as response:
        assert response.status == 404
        assert_error_body(await response.json(), "not found")


async def test_wrong_method_is_405_with_error_body(api: Api) -> None:
    reply = await api.delete("Message/")
    assert reply.status == 405
    assert_error_body(reply.body, "method not allowed")
    assert "POST" in reply.headers["Allow"]


async def test_missing_trailing_slash_redirects_get_and_refuses_post(
    sandbox: Sandbox, http
) -> None:
    async with http.get(sandbox.account_url + "Number?limit=2", allow_redirects=False) as resp:
        assert resp.status == 301
        assert resp.headers["Location"].endswith("/Number/?limit=2")
    async with http.get(sandbox.account_url + "Number") as followed:
        assert followed.status == 200
        assert (await followed.json())["meta"]["total_count"] == 5
    async with http.post(sandbox.account_url + "Message", json={}) as refused:
        assert refused.status == 404


async def test_form_encoded_body_is_accepted(sandbox: Sandbox, http) -> None:
    form = {"src": "14155550100", "dst": "14155550101", "text": "form", "trackable": "true"}
    async with http.post(sandbox.account_url + "Message/", data=form) as response:
        assert response.status == 202
    assert sandbox.state.messages[-1]["trackable"] is True


async def test_invalid_json_body_is_400(sandbox: Sandbox, http) -> None:
    async with http.post(
        sandbox.account_url + "Message/",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    ) as response:
        assert response.status == 400
        assert_error_body(await response.json(), "the request body is not valid JSON")


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("multipart/form-data", b"no boundary"),
        ("multipart/form-data; boundary=xx", b"--xx\r\nbroken part headers\r\n"),
        ("application/x-www-form-urlencoded", b"\xff\xfe"),
    ],
)
async def test_malformed_body_is_400_not_a_server_error(
    sandbox: Sandbox, http, content_type: str, data: bytes
) -> None:
    async with http.post(
        sandbox.account_url + "Media/", data=data, headers={"Content-Type": content_type}
    ) as response:
        assert response.status == 400
        body = await response.json()
    assert_error_body(body)
    assert content_type.split(";", maxsplit=1)[0] in body["error"]


async def test_echoed_identifiers_and_unknown_params_are_ignored(api: Api) -> None:
    created = await api.post("Application/", {"app_name": "echo", "answer_url": "https://e.x/a"})
    app_id = created.body["app_id"]
    got = await api.get(f"Application/{app_id}/", app_id=app_id, surprise="yes")
    assert got.status == 200
    deleted = await api.call("DELETE", f"Application/{app_id}/", json={"app_id": app_id})
    assert deleted.status == 204
    assert deleted.raw == b""


async def test_paging_envelope_walks_all_pages(api: Api, sandbox: Sandbox) -> None:
    seen: list[str] = []
    reply = await api.get("Number/", limit=2)
    pages = 0
    while True:
        pages += 1
        assert set(reply.body) == {"api_id", "meta", "objects"}
        meta = reply.body["meta"]
        assert set(meta) == {"limit", "offset", "total_count", "next", "previous"}
        assert meta["limit"] == 2
        assert meta["total_count"] == 5
        seen.extend(number["number"] for number in reply.body["objects"])
        if meta["next"] is None:
            break
        assert meta["next"].startswith(f"/v1/Account/{sandbox.config.auth_id}/Number/?")
        async with api.session.get(sandbox.url.removesuffix("/v1/") + meta["next"]) as response:
            reply_body = await response.json()
        reply = type(reply)(200, reply_body, b"", {})
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    assert reply.body["meta"]["previous"].endswith("Number/?limit=2&offset=2")


async def test_paging_keeps_filters_and_offset_past_the_end_is_empty(api: Api) -> None:
    first = await api.get("Number/", limit=1, type="tollfree")
    assert first.body["meta"]["total_count"] == 2
    assert first.body["meta"]["next"].endswith("Number/?limit=1&offset=1&type=tollfree")
    assert first.body["meta"]["previous"] is None
    beyond = await api.get("Number/", offset=50)
    assert beyond.body["objects"] == []
    assert beyond.body["meta"]["next"] is None


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"limit": "0"}, "limit must be between 1 and 20, not 0"),
        ({"limit": "21"}, "limit must be between 1 and 20, not 21"),
        ({"limit": "ten"}, "limit must be an integer, not 'ten'"),
        ({"offset": "-1"}, "offset must be 0 or more, not -1"),
    ],
)
async def test_bad_paging_params_are_400(api: Api, query: dict[str, str], error: str) -> None:
    reply = await api.get("Subaccount/", **query)
    assert reply.status == 400
    assert_error_body(reply.body, error)


async def test_every_list_has_the_envelope_even_when_empty(api: Api) -> None:
    for path in ("Message/", "Call/", "Media/", "Endpoint/", "Application/", "Subaccount/"):
        reply = await api.get(path, limit=20, offset=100)
        assert reply.status == 200, path
        assert reply.body["objects"] == [], path
        assert "meta" in reply.body


async def test_request_log_records_method_path_query_body_without_secrets(
    api: Api, sandbox: Sandbox
) -> None:
    await api.get("Number/", limit=3)
    await api.post("Endpoint/", {"username": "logme", "password": "hunter22", "alias": "L"})
    number_list, endpoint_create = sandbox.state.request_log[-2:]
    method, path, query, body = number_list
    assert (method, query, body) == ("GET", {"limit": "3"}, None)
    assert path.endswith("/Number/")
    assert endpoint_create.method == "POST"
    assert endpoint_create.body == {"username": "logme", "password": "********", "alias": "L"}
