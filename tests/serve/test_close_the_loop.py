"""The Plivo Trigger's own observer: each accepted event feeds the delivery store and the
suppression list, so the next run and `plivo-node status` know what serve heard."""

from __future__ import annotations

from plivo_node.nodes.plivo import suppression
from plivo_node.nodes.plivo.delivery.store import DeliveryStore
from plivo_node.nodes.plivo.trigger import (
    CALL_STATUS,
    INBOUND_MESSAGE,
    MESSAGE_STATUS,
    PlivoWebhook,
    close_the_loop,
)


def test_the_trigger_observes_with_close_the_loop() -> None:
    assert close_the_loop in PlivoWebhook().observers


def test_a_status_is_recorded_and_an_opt_out_code_suppresses() -> None:
    delivered = {"MessageUUID": "m-1", "Status": "delivered", "To": "14155550101"}
    opted_out = {"MessageUUID": "m-2", "Status": "failed", "ErrorCode": "200", "To": "14155550102"}
    for params in (delivered, opted_out, opted_out):  # a retried callback changes nothing
        close_the_loop(MESSAGE_STATUS, params)
    with DeliveryStore.in_state_dir() as store:
        found = store.lookup(["m-1", "m-2"])
    assert found["m-1"].status == "delivered"
    assert found["m-2"].status == "failed"
    with suppression.opened() as listed:
        assert listed.numbers() == frozenset({"14155550102"})


def test_stop_then_start_from_an_inbound_message() -> None:
    stop = {"From": "14155550103", "To": "14155550000", "Text": "STOP", "MessageUUID": "i-1"}
    start = {**stop, "Text": "start", "MessageUUID": "i-2"}
    close_the_loop(INBOUND_MESSAGE, stop)
    with suppression.opened() as listed:
        assert "14155550103" in listed.numbers()
    close_the_loop(INBOUND_MESSAGE, start)
    close_the_loop(CALL_STATUS, {"CallUUID": "c-1", "From": "14155550103"})  # ignored
    with suppression.opened() as listed:
        assert listed.numbers() == frozenset()
