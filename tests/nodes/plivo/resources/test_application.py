"""application: create/delete/get/getAll/update on the wire; update sends only given fields."""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import NotFoundError, ParameterError
from plivo_node.nodes.plivo.resources import application

API_ID = "97ceeb52-58b6-11e1-86da-77300b68f8bb"
APP_ID = "20468599130939380"
APP = {"app_id": APP_ID, "app_name": "my-app", "answer_url": "https://example.com/answer"}


async def test_create_posts_name_url_method_and_given_additional_fields(plivo, run) -> None:
    created = {"api_id": API_ID, "app_id": APP_ID, "message": "created"}
    plivo.reply("POST", "Application/", created, status=201)
    output = await run(
        application.create,
        {
            "app_name": "my-app_2",
            "answer_url": "https://example.com/answer",
            "answer_method": "POST",
            "additionalFields": {
                "message_url": "https://example.com/sms",
                "message_method": "GET",
                "default_number_app": True,
                "log_incoming_messages": "false",
                "fallback_answer_url": "",
                "subaccount": "SA000000000000000001",
            },
        },
    )
    [request] = plivo.requests
    assert (request.method, request.path) == ("POST", "Application/")
    assert request.json == {
        "app_name": "my-app_2",
        "answer_url": "https://example.com/answer",
        "answer_method": "POST",
        "message_url": "https://example.com/sms",
        "message_method": "GET",
        "default_number_app": True,
        "log_incoming_messages": False,
        "subaccount": "SA000000000000000001",
    }
    assert output == [created]


async def test_update_sends_only_the_given_fields_and_adds_the_id(plivo, run) -> None:
    plivo.reply(
        "POST", f"Application/{APP_ID}/", {"api_id": API_ID, "message": "changed"}, status=202
    )
    output = await run(
        application.update,
        {"app_id": APP_ID, "updateFields": {"hangup_url": "https://example.com/bye"}},
    )
    [request] = plivo.requests
    assert (request.method, request.path) == ("POST", f"Application/{APP_ID}/")
    assert request.json == {"hangup_url": "https://example.com/bye"}
    assert output == [{"api_id": API_ID, "message": "changed", "id": APP_ID}]


async def test_update_with_nothing_to_change_fails_before_any_request(plivo, run) -> None:
    with pytest.raises(ParameterError, match="nothing to update"):
        await run(application.update, {"app_id": APP_ID, "updateFields": {}})
    assert plivo.requests == []


async def test_delete_without_options_sends_no_body(plivo, run) -> None:
    plivo.reply("DELETE", f"Application/{APP_ID}/", status=204)
    output = await run(application.delete, {"app_id": APP_ID, "additionalFields": {}})
    [request] = plivo.requests
    assert (request.method, request.path, request.json) == (
        "DELETE",
        f"Application/{APP_ID}/",
        None,
    )
    assert output == [{"success": True, "id": APP_ID}]


async def test_delete_passes_cascade_and_new_endpoint_application(plivo, run) -> None:
    plivo.reply("DELETE", f"Application/{APP_ID}/", status=204)
    await run(
        application.delete,
        {
            "app_id": APP_ID,
            "additionalFields": {"cascade": False, "new_endpoint_application": "123"},
        },
    )
    assert plivo.requests[0].json == {"cascade": False, "new_endpoint_application": "123"}


async def test_get_returns_plivos_object(plivo, run) -> None:
    plivo.reply("GET", f"Application/{APP_ID}/", {"api_id": API_ID, **APP})
    output = await run(application.get, {"app_id": f" {APP_ID} "})
    assert plivo.requests[0].path == f"Application/{APP_ID}/"
    assert output == [{"api_id": API_ID, **APP}]


async def test_get_of_a_missing_application_raises_not_found(plivo, run) -> None:
    with pytest.raises(NotFoundError):
        await run(application.get, {"app_id": "1"})


async def test_get_all_pages_with_limit(plivo, run) -> None:
    plivo.paged("Application/", [{"app_id": str(n)} for n in range(30)])
    output = await run(application.get_all, {"returnAll": False, "limit": 25})
    assert [(r.query["limit"], r.query["offset"]) for r in plivo.requests] == [
        ("20", "0"),
        ("5", "20"),
    ]
    assert [item["app_id"] for item in output] == [str(n) for n in range(25)]


@pytest.mark.parametrize(
    ("handler", "params", "parameter"),
    [
        (application.create, {"app_name": "my app", "answer_url": "https://e.com/a"}, "app_name"),
        (application.create, {"app_name": "", "answer_url": "https://e.com/a"}, "app_name"),
        (application.create, {"app_name": "ok", "answer_url": "nope"}, "answer_url"),
        (
            application.create,
            {
                "app_name": "ok",
                "answer_url": "https://e.com/a",
                "additionalFields": {"hangup_url": "x"},
            },
            "additionalFields.hangup_url",
        ),
        (application.get, {"app_id": "abc"}, "app_id"),
        (application.get, {"app_id": "../Call"}, "app_id"),
        (application.delete, {"app_id": ""}, "app_id"),
        (
            application.delete,
            {"app_id": APP_ID, "additionalFields": {"new_endpoint_application": "x1"}},
            "additionalFields.new_endpoint_application",
        ),
        (
            application.update,
            {"app_id": APP_ID, "updateFields": {"answer_method": "PATCH"}},
            "updateFields.answer_method",
        ),
        (application.get_all, {"returnAll": False, "limit": 0}, "limit"),
    ],
)
async def test_bad_input_fails_before_any_request(
    plivo, run, handler, params: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        await run(handler, params)
    assert caught.value.parameter == parameter
    assert plivo.requests == []
