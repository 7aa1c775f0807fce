"""The Plivo Trigger speaks n8n's Plivo Trigger vocabulary (event names, validateSignature,
_eventType) and answers voice callbacks with Plivo XML."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from plivo_node.core.api import NO_CLIENT
from plivo_node.core.errors import ConfigurationError
from plivo_node.core.items import Item
from plivo_node.core.node import OperationContext, Routed, WebhookRejection, WebhookRequest
from plivo_node.nodes.plivo.signatures import v2_signature
from plivo_node.nodes.plivo.trigger import (
    CALL_STATUS,
    INBOUND_MESSAGE,
    INCOMING_CALL,
    MESSAGE_STATUS,
    TRIGGER,
    PlivoWebhook,
    event_kind,
    read_event,
    verify_request,
)
from plivo_node.run.pipeline import build_steps, load_pipeline
from plivo_node.run.registry import NodeRegistry
from plivo_node.serve.pipelines import webhook_settings

TOKEN = "MjU3YTZhYjJmOGU0NGFlNzE4ZDk4NDE3YzlhNmZl"
URL = "https://example.ngrok.app/webhook/inbound"
INBOUND = {"From": "14155550100", "To": "14155550101", "Text": "hi", "MessageUUID": "m-1"}
STATUS = {"MessageUUID": "m-1", "Status": "delivered", "To": "14155550100"}
RINGING = {
    "CallUUID": "c-1",
    "From": "14155550199",
    "Direction": "inbound",
    "CallStatus": "ringing",
    "Event": "StartApp",
}
HANGUP = {**RINGING, "CallStatus": "completed", "Event": "Hangup", "Duration": "0"}


def _request(params: dict[str, str], headers: dict[str, str] | None = None) -> WebhookRequest:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return WebhookRequest("POST", URL, lowered, {k: [v] for k, v in params.items()})


def test_events_are_told_apart_as_n8n_does() -> None:
    assert event_kind(INBOUND) == INBOUND_MESSAGE
    assert event_kind(STATUS) == MESSAGE_STATUS
    assert event_kind(RINGING) == INCOMING_CALL
    assert event_kind(HANGUP) == CALL_STATUS
    assert event_kind({**RINGING, "Direction": "outbound"}) == CALL_STATUS  # an outbound ring
    # An incoming call's answer and its hangup are two events of one call, each run once.
    assert read_event(_request(RINGING)).dedupe_key != read_event(_request(HANGUP)).dedupe_key
    assert read_event(_request(HANGUP)).order_key == read_event(_request(RINGING)).order_key


def test_the_trigger_is_n8ns_plivo_trigger_and_accepts_its_event_names() -> None:
    assert TRIGGER.n8n_type == "n8n-nodes-base.plivoTrigger"
    assert PlivoWebhook().event_aliases == {
        "incomingSms": INBOUND_MESSAGE,
        "smsStatus": MESSAGE_STATUS,
    }


async def _emitted(params: dict[str, str]) -> dict[str, Any]:
    handler = TRIGGER.handlers[("", "")]
    context = OperationContext(
        params={}, item=Item(json=dict(params)), item_index=0, client=NO_CLIENT
    )
    (routed,) = await handler(context)
    assert isinstance(routed, Routed)
    return routed.json


@pytest.mark.parametrize(
    ("params", "n8n_name"),
    [
        (INBOUND, "incomingSms"),
        (STATUS, "smsStatus"),
        (RINGING, "incomingCall"),
        (HANGUP, "callStatus"),
    ],
)
def test_each_item_carries_n8ns_event_type(params: dict[str, str], n8n_name: str) -> None:
    emitted = asyncio.run(_emitted(params))
    assert emitted == {**params, "_eventType": n8n_name}


def _settings(tmp_path: Path, parameters: str) -> Any:
    pipeline = tmp_path / "hook.yaml"
    pipeline.write_text(
        "version: 1\nsteps:\n  - name: Hook\n    node: plivoTrigger\n    parameters: "
        + parameters
        + "\n",
        encoding="utf-8",
    )
    registry = NodeRegistry()
    step = build_steps(load_pipeline(pipeline, registry), registry)[0]
    webhook = TRIGGER.webhook
    assert webhook is not None
    return webhook_settings(pipeline, step, webhook)


def test_n8n_event_names_select_our_kinds(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "{events: [incomingSms, smsStatus, incomingCall, callStatus]}")
    assert settings.events == {INBOUND_MESSAGE, MESSAGE_STATUS, INCOMING_CALL, CALL_STATUS}
    assert settings.options.signatures_required is True


def test_voice_callbacks_are_answered_with_plivo_xml_and_messages_with_ok(tmp_path: Path) -> None:
    default = _settings(tmp_path, "{events: [callStatus]}").options.replies
    assert (default[CALL_STATUS].body, default[CALL_STATUS].content_type) == (
        "<Response/>",
        "text/xml",
    )
    assert INBOUND_MESSAGE not in default
    assert MESSAGE_STATUS not in default
    busy = _settings(tmp_path, "{events: [callStatus], callAnswer: busy}").options.replies
    assert busy[INCOMING_CALL].body == '<Response><Hangup reason="busy"/></Response>'
    speak = _settings(
        tmp_path, "{events: [callStatus], callAnswer: speak, callAnswerText: 'Tom & Jerry <3'}"
    ).options.replies
    assert speak[CALL_STATUS].body == "<Response><Speak>Tom &amp; Jerry &lt;3</Speak></Response>"


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ("{callAnswer: speak}", "callAnswerText must hold the sentence"),
        ("{callAnswer: '={{ 1 }}'}", "callAnswer is an expression"),
        ("{validateSignature: maybe}", "'maybe' is not true or false"),
        ("{events: [incomingFax]}", "set 'Events' to one of 'inboundMessage', 'messageStatus'"),
    ],
)
def test_unusable_trigger_parameters_are_refused_naming_the_step(
    tmp_path: Path, parameters: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        _settings(tmp_path, parameters)
    assert message in str(refused.value)
    assert "step 'Hook'" in str(refused.value)


def test_without_validate_signature_only_an_unsigned_request_passes() -> None:
    fields = {"authToken": TOKEN}
    unsigned = _request(INBOUND)
    assert isinstance(verify_request(unsigned, fields), WebhookRejection)
    assert verify_request(unsigned, fields, required=False) is None
    wrong = _request(
        INBOUND, {"X-Plivo-Signature-V2": "bm9wZQ==", "X-Plivo-Signature-V2-Nonce": "1"}
    )
    assert isinstance(verify_request(wrong, fields, required=False), WebhookRejection)
    nonce_only = _request(INBOUND, {"X-Plivo-Signature-V2-Nonce": "1"})
    assert isinstance(verify_request(nonce_only, fields, required=False), WebhookRejection)
    right = _request(
        INBOUND,
        {"X-Plivo-Signature-V2": v2_signature(TOKEN, URL, "7"), "X-Plivo-Signature-V2-Nonce": "7"},
    )
    assert verify_request(right, fields, required=False) == "V2:7"
