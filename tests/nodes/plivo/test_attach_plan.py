"""What `serve --attach` decides before it touches the account: which webhook gets a number's
messages and calls, what is refused, what the created application holds, and the record that
lets a later start undo a killed serve."""

from __future__ import annotations

from pathlib import Path

import pytest

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.node import AttachRequest, ServedWebhook
from plivo_node.nodes.plivo.attach import app_name_for, app_params, check_reachable, plan
from plivo_node.nodes.plivo.attach_record import AttachEntry, AttachRecord

SMS = ServedWebhook(
    "auto_reply.yaml", "https://t.example/webhook/auto-reply", frozenset({"inboundMessage"})
)
CALLS = ServedWebhook(
    "missed.yaml", "https://t.example/webhook/missed-call", frozenset({"callStatus"})
)
STATUS = ServedWebhook(
    "status.yaml", "https://t.example/webhook/status", frozenset({"messageStatus"})
)
OTHER_SMS = ServedWebhook(
    "other.yaml", "https://t.example/webhook/other", frozenset({"inboundMessage"})
)


def test_each_kind_goes_to_the_one_pipeline_listening_to_it() -> None:
    (only,) = plan([AttachRequest("+1 (415) 555-0100")], [SMS, CALLS, STATUS])
    assert (only.number, only.message, only.voice) == ("14155550100", SMS, CALLS)
    (named,) = plan([AttachRequest("14155550100", "missed.yaml")], [SMS, CALLS, OTHER_SMS])
    assert (named.message, named.voice) == (None, CALLS)


@pytest.mark.parametrize(
    ("requests", "webhooks", "message"),
    [
        (
            [AttachRequest("14155550100")],
            [SMS, OTHER_SMS],
            "2 served pipelines listen to inboundMessage",
        ),
        (
            [AttachRequest("14155550100"), AttachRequest("+14155550100")],
            [SMS],
            "names the number 14155550100 twice",
        ),
        ([AttachRequest("14155550100")], [STATUS], "no served pipeline listens to inboundMessage"),
        ([AttachRequest("call me")], [SMS], "'call me' is not a phone number"),
    ],
)
def test_what_is_unclear_is_refused(
    requests: list[AttachRequest], webhooks: list[ServedWebhook], message: str
) -> None:
    with pytest.raises(ConfigurationError, match="--attach") as refused:
        plan(requests, webhooks)
    assert message in str(refused.value)


def test_the_ambiguity_hint_names_the_way_out() -> None:
    with pytest.raises(ConfigurationError) as refused:
        plan([AttachRequest("14155550100")], [SMS, OTHER_SMS])
    assert "--attach 14155550100=PIPELINE" in str(refused.value)


def test_a_webhook_plivo_cannot_reach_is_refused_but_a_local_sandbox_reaches_it() -> None:
    local = ServedWebhook(
        "a.yaml", "http://127.0.0.1:5678/webhook/a", frozenset({"inboundMessage"})
    )
    with pytest.raises(ConfigurationError, match="without --public-url"):
        check_reachable("https://api.plivo.com/v1/", [local], public=False)
    with pytest.raises(
        ConfigurationError, match=r"--public-url http://127\.0\.0\.1:5678/webhook/a is"
    ):
        check_reachable("https://api.plivo.com/v1/", [local], public=True)
    check_reachable("https://api.plivo.com/v1/", [SMS], public=True)
    check_reachable("http://127.0.0.1:8010/v1/", [local], public=False)
    check_reachable("http://localhost:8010/v1/", [local], public=False)


def test_the_application_keeps_the_previous_urls_serve_does_not_take_over() -> None:
    (sms_only,) = plan([AttachRequest("14155550100")], [SMS])
    previous = {
        "answer_url": "https://example.com/answer",
        "answer_method": "GET",
        "hangup_url": "https://example.com/hangup",
        "message_url": "https://example.com/message",
        "log_incoming_messages": False,
    }
    name = app_name_for("14155550100", sms_only)
    assert name == "plivo-node-serve-14155550100-auto-reply"
    params = app_params(name, sms_only, previous, None)
    assert params == {
        "app_name": name,
        "answer_url": "https://example.com/answer",
        "answer_method": "GET",
        "additionalFields": {
            "hangup_url": "https://example.com/hangup",
            "message_url": SMS.url,
            "log_incoming_messages": False,
        },
    }
    (both,) = plan([AttachRequest("14155550100")], [SMS, CALLS])
    params = app_params(name, both, previous, "SA000000000000000001")
    assert params["answer_url"] == CALLS.url
    assert params["additionalFields"]["hangup_url"] == CALLS.url
    assert params["additionalFields"]["subaccount"] == "SA000000000000000001"
    # Nothing to keep: the answer_url is serve's webhook, which answers calls with XML.
    assert app_params(name, sms_only, {}, None)["answer_url"] == SMS.url


def test_the_record_is_on_disk_at_each_step_and_gone_when_empty(tmp_path: Path) -> None:
    record = AttachRecord(tmp_path)
    entry = AttachEntry("MA1", "http://127.0.0.1:1/v1/", "14155550100", "n", "2046", None)
    record.put(entry)
    assert AttachRecord(tmp_path).entries == [entry]
    record.put(entry.created("99"))
    assert AttachRecord(tmp_path).entries == [entry.created("99")]
    assert "token" not in (tmp_path / "attached.json").read_text().lower()
    record.remove(entry)
    assert not (tmp_path / "attached.json").exists()
    (tmp_path / "attached.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match="restore those numbers"):
        AttachRecord(tmp_path)
