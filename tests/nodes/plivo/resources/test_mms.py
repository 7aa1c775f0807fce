"""mms.send: US/CA check, media limits before any request (upload included), upload → media_ids."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from plivo_node.core.errors import BadRequestError, ParameterError
from plivo_node.core.items import BinaryData
from plivo_node.nodes.plivo.resources import mms

API_ID = "948b53a2-3f08-11e7-b6f4-061564b78b75"
UUID = "5b40a428-bfc7-4daf-9d06-726c558bf3b8"
MEDIA_ID = "801c2056-33ab-499c-80ef-58b574a462a2"


def params(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "from": "+14155550100",
        "to": "+14155550101",
        "message": "look",
        "media_urls": "",
        "type": "mms",
        "url": "",
        "method": "POST",
        "log": True,
        "additionalFields": {},
    }
    base.update(overrides)
    return base


def binary(
    size: int, mime_type: str = "image/jpeg", file_name: str | None = "photo.jpg"
) -> BinaryData:
    return BinaryData(
        data=base64.b64encode(b"\xff" * size).decode(), mime_type=mime_type, file_name=file_name
    )


def queued(plivo: Any) -> None:
    body = {"api_id": API_ID, "message": "message(s) queued", "message_uuid": [UUID]}
    plivo.reply("POST", "Message/", body, status=202)


async def test_media_urls_string_becomes_a_json_list(plivo, run) -> None:
    queued(plivo)
    output = await run(mms.send, params(media_urls=" https://e.com/a.jpg ,https://e.com/b.gif,"))
    [request] = plivo.requests
    assert request.json == {
        "src": "14155550100",
        "dst": "14155550101",
        "text": "look",
        "type": "mms",
        "method": "POST",
        "log": "true",
        "media_urls": ["https://e.com/a.jpg", "https://e.com/b.gif"],
    }
    assert output == [
        {
            "status": "queued",
            "message_uuid": [UUID],
            "api_id": API_ID,
            "message": "message(s) queued",
            "from": "14155550100",
            "to": "14155550101",
            "encoding": "GSM-7",
            "segments": 1,
            "media_count": 2,
        }
    ]


async def test_media_urls_as_a_list_and_media_ids(plivo, run) -> None:
    queued(plivo)
    output = await run(
        mms.send,
        params(
            message="",
            media_urls=["https://e.com/a.jpg"],
            additionalFields={"media_ids": "id-1, id-2"},
        ),
    )
    body = plivo.requests[0].json
    assert "text" not in body
    assert body["media_urls"] == ["https://e.com/a.jpg"]
    assert body["media_ids"] == ["id-1", "id-2"]
    assert output[0]["media_count"] == 3


async def test_binary_properties_are_uploaded_then_sent_as_media_ids(plivo, run) -> None:
    plivo.reply(
        "POST",
        "Media/",
        {
            "api_id": API_ID,
            "objects": [
                {"media_id": MEDIA_ID, "status": "success", "status_code": 201},
                {"media_id": "second-id", "status": "success", "status_code": 201},
            ],
        },
        status=202,
    )
    queued(plivo)
    output = await run(
        mms.send,
        params(additionalFields={"binary_properties": "photo, clip", "media_ids": "old-id"}),
        binary={
            "photo": binary(1000),
            "clip": binary(2000, "application/octet-stream", "clip.mp4"),
        },
    )
    upload, send = plivo.requests
    assert (upload.method, upload.path) == ("POST", "Media/")
    assert [(p.name, p.filename, p.content_type, len(p.data)) for p in upload.parts] == [
        ("file", "photo.jpg", "image/jpeg", 1000),
        ("file", "clip.mp4", "application/octet-stream", 2000),
    ]
    assert send.json["media_ids"] == ["old-id", MEDIA_ID, "second-id"]
    assert output[0]["media_count"] == 3


async def test_a_refused_upload_stops_the_send(plivo, run) -> None:
    plivo.reply(
        "POST",
        "Media/",
        {"api_id": API_ID, "objects": [{"status": "failure", "status_code": 400}]},
        status=202,
    )
    with pytest.raises(BadRequestError, match=r"photo\.jpg failed"):
        await run(
            mms.send,
            params(additionalFields={"binary_properties": "photo"}),
            binary={"photo": binary(10)},
        )
    assert [r.path for r in plivo.requests] == ["Media/"]


async def test_powerpack_replaces_src(plivo, run) -> None:
    queued(plivo)
    await run(mms.send, params(**{"from": ""}, additionalFields={"powerpack_uuid": "pp-1"}))
    body = plivo.requests[0].json
    assert "src" not in body
    assert body["powerpack_uuid"] == "pp-1"


async def test_canadian_destinations_are_accepted(plivo, run) -> None:
    queued(plivo)
    await run(mms.send, params(to="+16135550123<+14155550101"))
    assert plivo.requests[0].json["dst"] == "16135550123<14155550101"


ELEVEN_URLS = ",".join(f"https://e.com/{n}.jpg" for n in range(11))


@pytest.mark.parametrize(
    ("overrides", "binaries", "parameter", "fragment"),
    [
        ({"to": "+442079460958"}, {}, "to", "a number in GB"),
        ({"to": "+14155550101<+919876543210"}, {}, "to", "a number in IN"),
        ({"media_urls": ELEVEN_URLS}, {}, "media_urls", "11 media"),
        (
            {
                "media_urls": ",".join(f"https://e.com/{n}.jpg" for n in range(9)),
                "additionalFields": {"binary_properties": "a,b"},
            },
            {"a": binary(10), "b": binary(10)},
            "media_urls",
            "9 URLs, 0 media ids, 2 uploads",
        ),
        (
            {"additionalFields": {"binary_properties": "big"}},
            {"big": binary(2 * 1024 * 1024 + 1)},
            "binary_properties",
            "at most 2.00 MB",
        ),
        (
            {"additionalFields": {"binary_properties": "a,b,c"}},
            {name: binary(1800 * 1024) for name in "abc"},
            "binary_properties",
            "under 5.00 MB",
        ),
        (
            {"additionalFields": {"binary_properties": "doc"}},
            {"doc": binary(10, "application/pdf", "doc.pdf")},
            "binary_properties",
            "not a format MMS carries",
        ),
        (
            {"additionalFields": {"binary_properties": "raw"}},
            {"raw": binary(10, "application/octet-stream", "notes.txt")},
            "binary_properties",
            "not a format MMS carries",
        ),
        (
            {"additionalFields": {"binary_properties": "missing"}},
            {},
            "binary_properties",
            "no binary property",
        ),
        ({"media_urls": "https://e.com/card.vcf"}, {}, "media_urls", ".vcf"),
        ({"media_urls": "e.com/a.jpg"}, {}, "media_urls", "http(s)"),
        (
            {"message": "", "media_urls": ""},
            {},
            "message",
            "needs a message or at least one medium",
        ),
        ({"from": "MyShop"}, {}, "from", "not a valid phone number"),
        ({"from": ""}, {}, "from", "Powerpack"),
    ],
)
async def test_bad_input_fails_before_any_request_even_the_upload(
    plivo,
    run,
    overrides: dict[str, Any],
    binaries: dict[str, BinaryData],
    parameter: str,
    fragment: str,
) -> None:
    plivo.reply("POST", "Media/", {"api_id": API_ID, "objects": []})
    with pytest.raises(ParameterError) as caught:
        await run(mms.send, params(**overrides), binary=binaries)
    assert caught.value.parameter is not None
    assert caught.value.parameter.endswith(parameter)
    assert fragment in str(caught.value)
    assert plivo.requests == []
