"""Plivo's official Python SDK, pointed at the sandbox, works for every call the node needs."""

from __future__ import annotations

import asyncio
import gc
import warnings
from pathlib import Path

import plivo
import pytest
from plivo import exceptions as plivo_errors

from plivo_sandbox import Sandbox


async def test_send_single_and_get(run_sdk, sandbox: Sandbox) -> None:
    sent = await run_sdk(
        lambda c: c.messages.create(src="14155550100", dst="+1 (415) 555-0101", text="hello")
    )
    assert sent.message == "message(s) queued"
    assert len(sent.message_uuid) == 1
    assert not hasattr(sent, "invalid_number")

    got = await run_sdk(lambda c: c.messages.get(sent.message_uuid[0]))
    assert got.message_uuid == sent.message_uuid[0]
    assert got.to_number == "14155550101"
    assert got.from_number == "14155550100"
    assert got.message_direction == "outbound"
    assert got.units == 1
    assert sandbox.state.count_for("14155550101") == 1


async def test_bulk_send_with_invalid_and_duplicate(run_sdk, sandbox: Sandbox) -> None:
    sent = await run_sdk(
        lambda c: c.messages.create(
            src="14155550100",
            dst="14155550101<notanumber<+14155550101<14155550102",
            text="bulk",
        )
    )
    assert sent.invalid_number == ["notanumber"]
    assert len(sent.message_uuid) == 2
    assert sandbox.state.destination_counts == {"14155550101": 1, "14155550102": 1}


async def test_list_messages_pages_with_sdk_iteration(run_sdk) -> None:
    for index in range(3):
        await run_sdk(
            lambda c, i=index: c.messages.create(
                src="14155550100", dst=f"1415555020{i}", text=f"m{i}"
            )
        )
    page = await run_sdk(lambda c: c.messages.list(limit=2, offset=0))
    assert len(page) == 2
    assert page.meta["total_count"] == 3
    # Newest first, as Plivo lists them.
    assert [m.to_number for m in page] == ["14155550202", "14155550201"]
    second = await run_sdk(lambda c: c.messages.list(limit=2, offset=2))
    assert [m.to_number for m in second] == ["14155550200"]


async def test_message_validation_error_maps_to_sdk_validation_error(run_sdk) -> None:
    with pytest.raises(plivo_errors.ValidationError, match="not a valid phone number"):
        await run_sdk(lambda c: c.messages.create(src="14155550100", dst="12", text="x"))


async def test_calls_create_single_bulk_and_sip(run_sdk, sandbox: Sandbox) -> None:
    single = await run_sdk(
        lambda c: c.calls.create(
            from_="14155550100", to_="14155550101", answer_url="https://example.com/answer"
        )
    )
    assert single.message == "call fired"
    assert isinstance(single.request_uuid, str)
    bulk = await run_sdk(
        lambda c: c.calls.create(
            from_="14155550100",
            to_="14155550102<sip:alice@example.com",
            answer_url="https://example.com/answer",
        )
    )
    assert isinstance(bulk.request_uuid, list)
    assert len(bulk.request_uuid) == 2
    assert sandbox.state.call_counts == {
        "14155550101": 1,
        "14155550102": 1,
        "sip:alice@example.com": 1,
    }


async def test_account_and_subaccounts(run_sdk, sandbox: Sandbox) -> None:
    account = await run_sdk(lambda c: c.account.get())
    assert account.auth_id == sandbox.config.auth_id
    assert account.resource_uri == f"/v1/Account/{sandbox.config.auth_id}/"
    subaccounts = await run_sdk(lambda c: c.subaccounts.list())
    assert len(subaccounts) == 3
    one = await run_sdk(lambda c: c.subaccounts.get(subaccounts[0].auth_id))
    assert one.name == subaccounts[0].name


async def test_application_lifecycle(run_sdk) -> None:
    created = await run_sdk(
        lambda c: c.applications.create(
            app_name="sdk-app", answer_url="https://example.com/a", default_number_app=False
        )
    )
    app_id = created.app_id
    assert app_id.isdigit()
    got = await run_sdk(lambda c: c.applications.get(app_id))
    assert got.app_name == "sdk-app"
    assert got.hangup_url == "https://example.com/a"
    assert got.default_app is False
    await run_sdk(lambda c: c.applications.update(app_id, answer_url="https://example.com/b"))
    got = await run_sdk(lambda c: c.applications.get(app_id))
    assert got.answer_url == "https://example.com/b"
    listed = await run_sdk(lambda c: c.applications.list())
    assert app_id in [app.app_id for app in listed]
    assert await run_sdk(lambda c: c.applications.delete(app_id)) is None
    with pytest.raises(plivo_errors.ResourceNotFoundError):
        await run_sdk(lambda c: c.applications.get(app_id))


async def test_endpoint_lifecycle(run_sdk) -> None:
    created = await run_sdk(
        lambda c: c.endpoints.create(username="alice", password="s3cret-pw", alias="Alice")
    )
    assert created.username.startswith("alice")
    assert len(created.username) == len("alice") + 12
    endpoint_id = created.endpoint_id
    got = await run_sdk(lambda c: c.endpoints.get(endpoint_id))
    assert got.sip_registered == "false"
    assert "password" not in got.__dict__
    await run_sdk(lambda c: c.endpoints.update(endpoint_id, alias="Alice B"))
    got = await run_sdk(lambda c: c.endpoints.get(endpoint_id))
    assert got.alias == "Alice B"
    listed = await run_sdk(lambda c: c.endpoints.list())
    assert endpoint_id in [e.endpoint_id for e in listed]
    assert await run_sdk(lambda c: c.endpoints.delete(endpoint_id)) is None
    with pytest.raises(plivo_errors.ResourceNotFoundError):
        await run_sdk(lambda c: c.endpoints.get(endpoint_id))


async def test_numbers_get_and_filtered_list(run_sdk) -> None:
    number = await run_sdk(lambda c: c.numbers.get("14155550100"))
    assert number.number_type == "local"
    tollfree = await run_sdk(lambda c: c.numbers.list(type="tollfree"))
    assert sorted(n.number for n in tollfree) == ["18005550123", "18885550177"]
    mms = await run_sdk(lambda c: c.numbers.list(services=["sms", "mms"], number_startswith="1"))
    assert sorted(n.number for n in mms) == ["14155550100", "16045550142", "18005550123"]


async def test_conferences_list_and_get(run_sdk) -> None:
    listed = await run_sdk(lambda c: c.conferences.list())
    assert "My Conf Room" in listed.conferences
    room = await run_sdk(lambda c: c.conferences.get("My Conf Room"))
    assert room.conference_name == "My Conf Room"
    assert room.conference_member_count == str(len(room.members))


async def test_pricing_get(run_sdk) -> None:
    pricing = await run_sdk(lambda c: c.pricing.get("GB"))
    assert pricing.country_iso == "GB"
    assert pricing.country_code == 44
    assert pricing.message["outbound"]["rate"] == "0.04000"
    with pytest.raises(plivo_errors.ResourceNotFoundError):
        await run_sdk(lambda c: c.pricing.get("ZZ"))


async def test_media_upload_and_mms_with_media_id(
    run_sdk, tmp_path: Path, sandbox: Sandbox
) -> None:
    image = tmp_path / "picture.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)

    def upload(client: plivo.RestClient) -> object:
        # The SDK opens each file and never closes it; collect that handle quietly here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            result = client.media.upload([str(image)])
            gc.collect()
        return result

    uploaded = await run_sdk(upload)
    media = uploaded.objects[0]
    assert media.file_name == "picture.png"
    assert media.content_type == "image/png"
    assert media.size == 108
    got = await run_sdk(lambda c: c.media.get(media.media_id))
    assert got.media_id == media.media_id
    sent = await run_sdk(
        lambda c: c.messages.create(
            src="14155550100", dst="14155550101", type_="mms", media_ids=[media.media_id]
        )
    )
    attached = await run_sdk(lambda c: c.messages.get(sent.message_uuid[0]).listMedia())
    assert [m.media_id for m in attached.objects] == [media.media_id]
    assert sandbox.state.messages[-1]["media_ids"] == [media.media_id]


async def test_wrong_credentials_raise_sdk_authentication_error(
    sandbox: Sandbox, point_sdk_at
) -> None:
    point_sdk_at(sandbox)

    def call() -> object:
        with plivo.RestClient(sandbox.config.auth_id, "wrong-token") as client:
            return client.account.get()

    with pytest.raises(plivo_errors.AuthenticationError):
        await asyncio.to_thread(call)
