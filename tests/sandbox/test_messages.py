"""POST/GET Message/: bulk rules, text rules, MMS rules, magic destinations, counts, filters."""

from __future__ import annotations

import io
import time

import aiohttp
import pytest

from plivo_sandbox import MAGIC_DESTINATIONS, Sandbox, SandboxConfig

from .conftest import Api, basic_auth

SRC = "14155550100"


def sms(dst: str, text: str = "hello", **extra: object) -> dict[str, object]:
    return {"src": SRC, "dst": dst, "text": text, **extra}


async def test_bulk_dst_is_stripped_deduplicated_and_invalid_entries_listed(
    api: Api, sandbox: Sandbox
) -> None:
    reply = await api.post(
        "Message/", sms("+1 (415) 555-0101<1415.555.0101<bad<14155550102<1/415/555/0102<12")
    )
    assert reply.status == 202
    assert reply.body["message"] == "message(s) queued"
    assert reply.body["invalid_number"] == ["bad", "12"]
    assert len(reply.body["message_uuid"]) == 2
    assert [m["dst"] for m in sandbox.state.messages] == ["14155550101", "14155550102"]


async def test_message_uuid_is_a_list_even_for_one_destination(api: Api) -> None:
    reply = await api.post("Message/", sms("14155550101"))
    assert list(reply.body) == ["api_id", "message", "message_uuid"]
    assert isinstance(reply.body["message_uuid"], list)
    assert len(reply.body["message_uuid"]) == 1


async def test_more_than_1000_unique_destinations_is_400(api: Api, sandbox: Sandbox) -> None:
    many = "<".join(f"1415{index:07d}" for index in range(1001))
    reply = await api.post("Message/", sms(many))
    assert reply.status == 400
    assert "at most 1000" in reply.body["error"]
    exactly = "<".join(f"1415{index:07d}" for index in range(1000)) + "<14150000000"
    accepted = await api.post("Message/", sms(exactly))
    assert accepted.status == 202
    assert len(accepted.body["message_uuid"]) == 1000
    assert len(sandbox.state.destination_counts) == 1000


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"src": SRC, "text": "x"}, "dst is a required parameter and was not given"),
        ({"src": SRC, "dst": "1111"}, "'1111' is not a valid phone number."),
        ({"dst": "14155550101", "text": "x"}, "src or powerpack_uuid is required"),
        (
            {"src": SRC, "powerpack_uuid": "pp-1", "dst": "14155550101", "text": "x"},
            "give either src or powerpack_uuid, not both",
        ),
        ({"src": SRC, "dst": "14155550101"}, "text is a required parameter for an SMS"),
        ({"src": SRC, "dst": SRC, "text": "x"}, "cannot be same as source"),
        ({"src": SRC, "dst": "14155550101", "text": "x", "type": "whatsapp"}, "type must be"),
        ({"src": SRC, "dst": "14155550101", "text": "x", "log": "yes"}, "log must be one of"),
        ({"src": SRC, "dst": "14155550101", "text": "x", "url": "ftp://x"}, "not an http(s)"),
        ({"src": SRC, "dst": "14155550101", "text": "x", "method": "PUT"}, "GET or POST"),
        ({"src": "not a number at all", "dst": "14155550101", "text": "x"}, "sender ID"),
        ({"src": SRC, "dst": "14155550101", "text": "x", "trackable": "maybe"}, "true or false"),
        ({"src": SRC, "dst": "14155550101", "text": "x", "message_expiry": 60.5}, "an integer"),
        ({"src": SRC, "dst": "14155550101", "text": ["x"]}, "text must be a string, not a list"),
    ],
)
async def test_bad_send_params_are_400_and_nothing_is_sent(
    api: Api, sandbox: Sandbox, body: dict[str, object], error: str
) -> None:
    reply = await api.post("Message/", body)
    assert reply.status == 400
    assert error in reply.body["error"]
    assert sandbox.state.messages == []
    assert sandbox.state.destination_counts == {}


@pytest.mark.parametrize(
    ("text", "units", "accepted"),
    [
        ("a" * 160, 1, True),
        ("a" * 161, 2, True),
        ("{" * 80, 1, True),  # extension characters count twice: 160 septets
        ("{" * 81, 2, True),
        ("a" * 1600, 11, True),
        ("a" * 1601, None, False),
        ("é" * 160, 1, True),  # é is in the GSM-7 basic set
        ("ж" * 70, 1, True),
        ("ж" * 71, 2, True),
        ("ж" * 737, 11, True),
        ("ж" * 738, None, False),
        ("a" * 700 + "😀", 11, True),  # one emoji makes the text UCS-2 (702 units)
    ],
)
async def test_text_length_rules_and_units(
    api: Api, sandbox: Sandbox, text: str, units: int | None, accepted: bool
) -> None:
    reply = await api.post("Message/", sms("14155550101", text))
    if not accepted:
        assert reply.status == 400
        assert "the limit is" in reply.body["error"]
        return
    assert reply.status == 202
    record = await api.get(f"Message/{reply.body['message_uuid'][0]}/")
    assert record.body["units"] == units
    expected_amount = f"{units * float(record.body['total_rate']):.5f}"
    assert record.body["total_amount"] == expected_amount


async def test_powerpack_send_goes_out_from_an_account_number(api: Api) -> None:
    reply = await api.post(
        "Message/", {"powerpack_uuid": "pp-123", "dst": "14155550101", "text": "hi"}
    )
    assert reply.status == 202
    record = await api.get(f"Message/{reply.body['message_uuid'][0]}/")
    assert record.body["from_number"] == "14155550100"
    assert record.body["powerpack_id"] == "pp-123"


async def test_mms_rules(api: Api, sandbox: Sandbox) -> None:
    too_many = [f"https://example.com/{i}.jpg" for i in range(11)]
    reply = await api.post("Message/", sms("14155550101", type="mms", media_urls=too_many))
    assert reply.status == 400
    assert "at most 10 media" in reply.body["error"]
    abroad = await api.post("Message/", sms("447700900123", type="mms", media_urls=too_many[:1]))
    assert abroad.status == 400
    assert "US and Canadian" in abroad.body["error"]
    unknown = await api.post("Message/", sms("14155550101", type="mms", media_ids=["nope"]))
    assert unknown.status == 400
    empty = await api.post("Message/", {"src": SRC, "dst": "14155550101", "type": "mms"})
    assert empty.status == 400
    assert sandbox.state.messages == []

    ok = await api.post("Message/", sms("16045550143", type="mms", media_urls=too_many[:2]))
    assert ok.status == 202
    media = await api.get(f"Message/{ok.body['message_uuid'][0]}/Media/")
    assert [m["media_url"] for m in media.body["objects"]] == too_many[:2]
    assert media.body["objects"][0]["content_type"] == "image/jpeg"
    assert media.body["meta"]["total_count"] == 2


async def test_message_detail_record_shape(api: Api, sandbox: Sandbox) -> None:
    sent = await api.post("Message/", sms("14155550101"))
    message_uuid = sent.body["message_uuid"][0]
    record = (await api.get(f"Message/{message_uuid}/")).body
    assert record["message_state"] == "delivered"
    assert record["error_code"] == "000"
    assert record["message_type"] == "sms"
    assert record["total_rate"] == "0.00650"
    assert record["resource_uri"] == f"/v1/Account/{sandbox.config.auth_id}/Message/{message_uuid}/"
    assert record["message_time"].endswith("+00:00")


async def test_message_reads_queued_until_delivery_seconds_pass() -> None:
    async with Sandbox(SandboxConfig(delivery_seconds=3600)) as sandbox:
        header = basic_auth(sandbox.config.auth_id, sandbox.config.auth_token)
        async with aiohttp.ClientSession(headers={"Authorization": header}) as session:
            api = Api(session, sandbox.account_url)
            sent = await api.post("Message/", sms("14155550101"))
            record = (await api.get(f"Message/{sent.body['message_uuid'][0]}/")).body
            assert record["message_state"] == "queued"
            assert record["error_code"] is None


async def test_list_filters(api: Api) -> None:
    await api.post("Message/", sms("14155550101<13075550200"))
    await api.post("Message/", sms("16045550143", type="mms", media_urls=["https://e.x/a.png"]))
    failed = await api.get("Message/", message_state="failed")
    assert [m["to_number"] for m in failed.body["objects"]] == ["13075550200"]
    assert failed.body["objects"][0]["error_code"] == "200"
    mms = await api.get("Message/", message_type="mms")
    assert [m["to_number"] for m in mms.body["objects"]] == ["16045550143"]
    recent = await api.get("Message/", message_time__gte="2000-01-01 00:00")
    assert recent.body["meta"]["total_count"] == 3
    future = await api.get("Message/", message_time__gt="2999-01-01 00:00:00")
    assert future.body["objects"] == []
    bad = await api.get("Message/", message_time__gt="yesterday")
    assert bad.status == 400
    assert "message_time__gt" in bad.body["error"]


async def test_destination_counts_across_sends(api: Api, sandbox: Sandbox) -> None:
    await api.post("Message/", sms("14155550101<14155550102"))
    await api.post("Message/", sms("+1 415 555 0101"))
    await api.post(
        "Call/", {"from": SRC, "to": "14155550101", "answer_url": "https://example.com/a"}
    )
    assert sandbox.state.message_counts == {"14155550101": 2, "14155550102": 1}
    assert sandbox.state.call_counts == {"14155550101": 1}
    assert sandbox.state.destination_counts == {"14155550101": 3, "14155550102": 1}
    assert sandbox.state.count_for("+1 (415) 555-0101") == 3
    assert sandbox.state.count_for("19995550000") == 0


# --- magic destinations ------------------------------------------------------------------------

ERROR_MAGIC = [(number, b.status) for number, b in MAGIC_DESTINATIONS.items() if b.status]


@pytest.mark.parametrize(("number", "status"), ERROR_MAGIC)
@pytest.mark.parametrize("resource", ["Message/", "Call/"])
async def test_magic_error_destinations_answer_their_status_and_send_nothing(
    api: Api, sandbox: Sandbox, number: str, status: int, resource: str
) -> None:
    body = (
        sms(f"14155550101<+{number}")
        if resource == "Message/"
        else {"from": SRC, "to": f"14155550101<{number}", "answer_url": "https://e.x/a"}
    )
    reply = await api.post(resource, body)
    assert reply.status == status
    assert set(reply.body) == {"api_id", "error"}
    assert sandbox.state.destination_counts == {}


async def test_magic_reset_sends_nothing_and_reset_after_sends(api: Api, sandbox: Sandbox) -> None:
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post("Message/", sms("13075550598"))
    assert sandbox.state.messages == []
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post("Message/", sms("13075550599<14155550101"))
    assert sandbox.state.destination_counts == {"13075550599": 1, "14155550101": 1}
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post("Call/", {"from": SRC, "to": "13075550599", "answer_url": "https://e.x/a"})
    assert sandbox.state.call_counts == {"13075550599": 1}


async def test_magic_slow_destination_answers_after_slow_seconds() -> None:
    async with Sandbox(SandboxConfig(slow_seconds=0.2)) as sandbox:
        header = basic_auth(sandbox.config.auth_id, sandbox.config.auth_token)
        async with aiohttp.ClientSession(headers={"Authorization": header}) as session:
            api = Api(session, sandbox.account_url)
            started = time.monotonic()
            reply = await api.post("Message/", sms("13075550999"))
            # A lower bound only: the sandbox must have waited at least slow_seconds.
            assert time.monotonic() - started >= 0.19
            assert reply.status == 202
            assert sandbox.state.count_for("13075550999") == 1


async def test_magic_undelivered_destination(api: Api) -> None:
    sent = await api.post("Message/", sms("13075550030"))
    record = (await api.get(f"Message/{sent.body['message_uuid'][0]}/")).body
    assert (record["message_state"], record["error_code"]) == ("undelivered", "30")


# --- media upload ------------------------------------------------------------------------------


def upload_form(*files: tuple[str, bytes, str], field: str = "file") -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, data, content_type in files:
        form.add_field(field, io.BytesIO(data), filename=name, content_type=content_type)
    return form


async def test_media_upload_answer_shape_and_listing(api: Api, sandbox: Sandbox) -> None:
    reply = await api.call(
        "POST",
        "Media/",
        data=upload_form(
            ("a.jpg", b"x" * 10, "image/jpeg"), ("b.pdf", b"y" * 20, "application/pdf")
        ),
    )
    assert reply.status == 202
    objects = reply.body["objects"]
    assert [(o["file_name"], o["size"], o["status"], o["status_code"]) for o in objects] == [
        ("a.jpg", 10, "success", 201),
        ("b.pdf", 20, "success", 201),
    ]
    media_id = objects[0]["media_id"]
    assert objects[0]["media_url"].endswith(f"/Account/{sandbox.config.auth_id}/Media/{media_id}")
    assert objects[0]["upload_time"].endswith("Z")
    got = (await api.get(f"Media/{media_id}/")).body
    assert "status" not in got
    assert got["content_type"] == "image/jpeg"
    listed = await api.get("Media/")
    assert listed.body["meta"]["total_count"] == 2


@pytest.mark.parametrize(
    ("files", "field", "error"),
    [
        ([("big.png", b"x" * (2 * 1024 * 1024 + 1), "image/png")], "file", "larger than 2 MB"),
        ([(f"{i}.png", b"x", "image/png") for i in range(11)], "file", "at most 10 files"),
        ([("a.png", b"x", "image/png")], "upload", "must be named 'file'"),
        ([], "file", "no file to upload"),
    ],
)
async def test_media_upload_limits(
    api: Api, sandbox: Sandbox, files: list[tuple[str, bytes, str]], field: str, error: str
) -> None:
    form = upload_form(*files, field=field)
    if not files:
        form.add_field("note", "no files here")
    reply = await api.call("POST", "Media/", data=form)
    assert reply.status == 400
    assert error in reply.body["error"]
    assert sandbox.state.media == {}


async def test_repeated_form_fields_become_lists(api: Api, sandbox: Sandbox) -> None:
    form = [
        ("src", SRC),
        ("dst", "14155550101"),
        ("type", "mms"),
        ("media_urls", "https://e.x/1.gif"),
        ("media_urls", "https://e.x/2.gif"),
    ]
    reply = await api.call("POST", "Message/", data=form)
    assert reply.status == 202
    assert sandbox.state.messages[0]["media_urls"] == ["https://e.x/1.gif", "https://e.x/2.gif"]
