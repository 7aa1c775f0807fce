"""sms.send: the request on the wire, the output item, and the checks made before sending."""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import BadRequestError, ParameterError
from plivo_node.nodes.plivo.resources import sms

API_ID = "948b53a2-3f08-11e7-b6f4-061564b78b75"
UUID_1 = "5b40a428-bfc7-4daf-9d06-726c558bf3b8"
UUID_2 = "6da4afba-2bcf-4a87-9eff-d2f88577b0f1"


def params(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "from": "+1 (415) 555-0100",
        "to": "+14155550101",
        "message": "hello",
        "type": "sms",
        "url": "",
        "method": "POST",
        "log": True,
        "trackable": False,
        "additionalFields": {},
    }
    base.update(overrides)
    return base


def queued(plivo: Any, uuids: list[str], **extra: Any) -> None:
    body = {"api_id": API_ID, "message": "message(s) queued", "message_uuid": uuids, **extra}
    plivo.reply("POST", "Message/", body, status=202)


async def test_sends_the_sdk_shaped_body_and_reports_encoding(plivo, run) -> None:
    queued(plivo, [UUID_1])
    output = await run(sms.send, params())
    [request] = plivo.requests
    assert (request.method, request.path) == ("POST", "Message/")
    assert request.json == {
        "src": "14155550100",
        "dst": "14155550101",
        "text": "hello",
        "type": "sms",
        "method": "POST",
        "log": "true",
        "trackable": False,
    }
    assert output == [
        {
            "status": "queued",
            "message_uuid": [UUID_1],
            "api_id": API_ID,
            "message": "message(s) queued",
            "from": "14155550100",
            "to": "14155550101",
            "encoding": "GSM-7",
            "segments": 1,
        }
    ]


async def test_optional_fields_go_on_the_wire_when_given(plivo, run) -> None:
    queued(plivo, [UUID_1])
    await run(
        sms.send,
        params(
            url="https://example.com/status",
            method="GET",
            log=False,
            trackable=True,
            additionalFields={"dlt_entity_id": "1201", "dlt_template_id": "1707"},
        ),
    )
    body = plivo.requests[0].json
    assert body["url"] == "https://example.com/status"
    assert body["method"] == "GET"
    assert body["log"] == "false"
    assert body["trackable"] is True
    assert (body["dlt_entity_id"], body["dlt_template_id"]) == ("1201", "1707")


async def test_bulk_destinations_are_normalised_deduplicated_and_joined(plivo, run) -> None:
    queued(plivo, [UUID_1, UUID_2], invalid_number=["notanumber"])
    output = await run(sms.send, params(to="+14155550101<1-415-555-0102< +14155550101"))
    assert plivo.requests[0].json["dst"] == "14155550101<14155550102"
    assert output[0]["to"] == "14155550101<14155550102"
    assert output[0]["message_uuid"] == [UUID_1, UUID_2]
    assert output[0]["invalid_number"] == ["notanumber"]


async def test_powerpack_replaces_src(plivo, run) -> None:
    queued(plivo, [UUID_1])
    output = await run(sms.send, params(additionalFields={"powerpack_uuid": "pp-1"}))
    body = plivo.requests[0].json
    assert "src" not in body
    assert body["powerpack_uuid"] == "pp-1"
    assert output[0]["from"] is None
    assert output[0]["powerpack_uuid"] == "pp-1"


async def test_powerpack_without_from_is_enough(plivo, run) -> None:
    queued(plivo, [UUID_1])
    await run(sms.send, params(**{"from": ""}, additionalFields={"powerpack_uuid": "pp-1"}))
    assert plivo.requests[0].json["powerpack_uuid"] == "pp-1"


async def test_unicode_message_reports_ucs2_segments_and_keeps_type_sms(plivo, run) -> None:
    queued(plivo, [UUID_1])
    output = await run(sms.send, params(type="unicode", message="привет " * 12))
    assert plivo.requests[0].json["type"] == "sms"
    assert output[0]["encoding"] == "UCS-2"
    assert output[0]["segments"] == 2  # 84 UCS-2 characters: over 70, so 67 per segment


async def test_media_urls_turn_it_into_an_mms(plivo, run) -> None:
    queued(plivo, [UUID_1])
    output = await run(
        sms.send,
        params(additionalFields={"media_urls": "https://e.com/a.jpg, https://e.com/b.png"}),
    )
    body = plivo.requests[0].json
    assert body["type"] == "mms"
    assert body["media_urls"] == ["https://e.com/a.jpg", "https://e.com/b.png"]
    assert output[0]["media_count"] == 2
    assert output[0]["segments"] == 1


@pytest.mark.parametrize(
    ("overrides", "parameter", "fragment"),
    [
        ({"from": ""}, "from", "Powerpack"),
        ({"to": "12345"}, "to", "'12345' is not a valid phone number"),
        ({"to": "+14155550101<nonsense"}, "to", "destination 2 of 2"),
        ({"to": "+14155550100"}, "to", "sender"),
        ({"message": ""}, "message", "empty"),
        ({"message": "a" * 1601}, "message", "1601"),
        ({"message": "é€" + "ж" * 736}, "message", "UCS-2"),
        ({"url": "not a url"}, "url", "http(s)"),
        ({"method": "PUT"}, "method", "GET, POST"),
        (
            {"additionalFields": {"media_urls": "https://e.com/a.jpg"}, "to": "+442079460958"},
            "to",
            "US and Canadian",
        ),
        ({"additionalFields": {"media_urls": "ftp://e.com/a.jpg"}}, "media_urls", "http"),
    ],
)
async def test_bad_input_fails_before_any_request(
    plivo, run, overrides: dict[str, Any], parameter: str, fragment: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        await run(sms.send, params(**overrides))
    assert caught.value.parameter is not None
    assert caught.value.parameter.endswith(parameter)
    assert fragment in str(caught.value)
    assert plivo.requests == []


async def test_too_many_media_urls_name_the_additional_field(plivo, run) -> None:
    urls = ",".join(f"https://e.com/{n}.jpg" for n in range(11))
    with pytest.raises(ParameterError, match="11 media") as caught:
        await run(sms.send, params(additionalFields={"media_urls": urls}))
    assert caught.value.parameter == "additionalFields.media_urls"
    assert plivo.requests == []


async def test_too_many_bulk_destinations_fail_before_sending(plivo, run) -> None:
    numbers = "<".join(f"+1415555{n:04d}" for n in range(1001))
    with pytest.raises(ParameterError, match="1001 unique destinations"):
        await run(sms.send, params(to=numbers))
    assert plivo.requests == []


async def test_plivo_errors_propagate(plivo, run) -> None:
    plivo.reply(
        "POST", "Message/", {"api_id": API_ID, "error": "src is not SMS-enabled"}, status=400
    )
    with pytest.raises(BadRequestError) as caught:
        await run(sms.send, params())
    assert caught.value.hint is not None
    assert "src is not SMS-enabled" in caught.value.hint
