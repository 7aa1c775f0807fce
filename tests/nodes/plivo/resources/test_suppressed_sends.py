"""sms.send and mms.send with a suppression list open: suppressed destinations never reach Plivo."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from plivo_node.core.node import RunSettings
from plivo_node.nodes.plivo.resources import mms, sms
from plivo_node.nodes.plivo.suppression import Source, opened
from plivo_node.nodes.plivo.suppression_scope import (
    RunSuppression,
    SuppressedError,
    suppression_scope,
)

UUID_1 = "5b40a428-bfc7-4daf-9d06-726c558bf3b8"


def sms_params(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "from": "+14155550100",
        "to": "+14155550101",
        "message": "hello",
        "url": "",
        "method": "POST",
        "log": True,
        "trackable": False,
        "additionalFields": {},
    }
    return {**base, **overrides}


@pytest.fixture
def listed() -> None:
    with opened() as suppression:
        suppression.add("14155550101", reason="keyword STOP", source=Source.KEYWORD)


@pytest.fixture
def scope(listed: None) -> Iterator[RunSuppression]:
    with suppression_scope(RunSettings()) as opened_scope:
        assert isinstance(opened_scope, RunSuppression)
        yield opened_scope


async def test_a_suppressed_destination_fails_before_any_request(plivo, run, scope) -> None:
    with pytest.raises(SuppressedError) as caught:
        await run(sms.send, sms_params())
    assert plivo.requests == []
    error = caught.value.to_dict()
    assert error["code"] == "suppressed"
    assert error["parameter"] == "to"
    assert "+14155550101 is suppressed since" in error["message"]
    assert "(keyword STOP)" in error["message"]
    assert error["suppressed"] == [
        {
            "number": "+14155550101",
            "reason": "keyword STOP",
            "source": "keyword",
            "since": error["suppressed"][0]["since"],
        }
    ]
    assert scope.suppressed_items == 1


async def test_an_mms_to_a_suppressed_number_uploads_nothing(plivo, run, scope) -> None:
    params = {**sms_params(), "media_urls": "https://example.com/a.png", "type": "mms"}
    with pytest.raises(SuppressedError):
        await run(mms.send, params)
    assert plivo.requests == []


async def test_other_destinations_of_the_item_still_go_out(plivo, run, scope) -> None:
    plivo.reply("POST", "Message/", {"api_id": "a", "message_uuid": [UUID_1]}, status=202)
    output = await run(sms.send, sms_params(to="+14155550101<+14155550102"))
    assert [r.json["dst"] for r in plivo.requests] == ["14155550102"]
    assert output[0]["to"] == "14155550102"
    assert output[0]["suppressed"] == ["14155550101"]
    assert scope.dropped == 1
    assert scope.lines() == [
        "suppression list: skipped 1 destinations of items sent to others (1 numbers opted out)"
    ]


async def test_settings_suppression_false_sends_anyway(plivo, run, listed) -> None:
    plivo.reply("POST", "Message/", {"api_id": "a", "message_uuid": [UUID_1]}, status=202)
    with suppression_scope(RunSettings(suppression=False)) as off:
        output = await run(sms.send, sms_params())
        assert off.lines() == []
    assert [r.json["dst"] for r in plivo.requests] == ["14155550101"]
    assert "suppressed" not in output[0]


async def test_a_stop_recorded_during_the_run_is_seen_by_the_next_send(plivo, run, scope) -> None:
    plivo.reply("POST", "Message/", {"api_id": "a", "message_uuid": [UUID_1]}, status=202)
    await run(sms.send, sms_params(to="+14155550102"))
    with opened() as other:  # serve, on another connection, records a STOP
        other.add("14155550102", reason="keyword STOP", source=Source.KEYWORD)
    with pytest.raises(SuppressedError):
        await run(sms.send, sms_params(to="+14155550102"))
    with opened() as other:  # ...and a START lifts it, again at once
        other.remove("14155550102")
    await run(sms.send, sms_params(to="+14155550102"))
    assert len(plivo.requests) == 2
