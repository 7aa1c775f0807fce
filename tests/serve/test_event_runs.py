"""One queued event through its pipeline (in process): observers, tagged output, done marks,
and the journal that keeps a crash mid-send from sending twice."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest

from plivo_node.core.node import ClientOptions, EventObserver, WebhookEvent
from plivo_node.nodes.plivo.factory import PlivoClientFactory
from plivo_node.nodes.plivo.trigger import EVENT_OBSERVERS, PlivoWebhook
from plivo_node.run.item_io import OutputWriter
from plivo_node.run.journal import Record
from plivo_node.run.pipeline import build_steps, load_pipeline
from plivo_node.run.registry import NodeRegistry
from plivo_node.serve.event_journal import LANE_STRIDE
from plivo_node.serve.pipelines import ServedPipeline, open_journal, webhook_settings
from plivo_node.serve.queue import EventQueue, QueuedEvent, queued_event
from plivo_sandbox import Sandbox
from tests.serve.conftest import AUTH_ID, AUTH_TOKEN, auto_reply, inbound


@asynccontextmanager
async def served_pipeline(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[ServedPipeline]:
    file = auto_reply(tmp_path)
    registry = NodeRegistry()
    spec = load_pipeline(file)
    steps = build_steps(spec, registry)
    trigger = registry.get("plivoTrigger").type.webhook
    assert trigger is not None
    fields = {"authId": AUTH_ID, "authToken": AUTH_TOKEN, "baseUrl": sandbox.url}
    options = ClientOptions(concurrency=4, timeout=5, rate_limit=None)
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(PlivoClientFactory().connect(fields, options))
        output = stack.enter_context(OutputWriter(tmp_path / "out.jsonl", append=True))
        journal = open_journal(tmp_path / "journals", "sms", sandbox=False)
        stack.push_async_callback(journal.close)
        yield ServedPipeline(
            file=file,
            spec=spec,
            steps=steps,
            trigger=trigger,
            settings=webhook_settings(file, steps[0], trigger),
            fields=fields,
            clients={"plivo": client},
            output=output,
            journal=journal,
        )


@pytest.fixture
async def served(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[ServedPipeline]:
    async with served_pipeline(sandbox, tmp_path) as pipeline:
        yield pipeline


def inbound_event(uuid: str) -> WebhookEvent:
    params = inbound(uuid)
    return WebhookEvent("inboundMessage", params, dedupe_key=uuid, order_key=params["From"])


def lines(tmp_path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]


async def test_an_event_runs_its_observers_then_its_pipeline(
    served: ServedPipeline, sandbox: Sandbox, tmp_path: Path
) -> None:
    calls: list[tuple[str, Mapping[str, str]]] = []

    def observer(kind: str, params: Mapping[str, str]) -> None:
        calls.append((kind, params))

    def broken(kind: str, params: Mapping[str, str]) -> None:
        raise RuntimeError("observer bug")

    queue = EventQueue.open(tmp_path / "q")
    added: list[EventObserver] = [broken, observer]
    EVENT_OBSERVERS.extend(added)
    try:
        assert PlivoWebhook().observers is EVENT_OBSERVERS
        await served.run_event(QueuedEvent(7, "sms", "inboundMessage", inbound("m-7"), "x"), queue)
        status = {"MessageUUID": "m-0", "Status": "delivered", "To": "14155559000"}
        await served.run_event(QueuedEvent(8, "sms", "messageStatus", status, "x"), queue)
    finally:
        for each in added:
            EVENT_OBSERVERS.remove(each)
        queue.close()
    # Both events are observed (a broken observer does not stop them); only the selected
    # kind runs the pipeline.
    assert [kind for kind, _ in calls] == ["inboundMessage", "messageStatus"]
    assert [message["text"] for message in sandbox.state.messages] == ["re m-7"]
    (line,) = lines(tmp_path)
    assert line["event"] == 7
    # Done: the event's journal entries are gone.
    assert served.journal.records(7 * LANE_STRIDE) == {}
    assert served.journal.records(7 * LANE_STRIDE + 1) == {}


async def test_an_event_accepted_by_this_serve_reads_nothing_from_the_journal(
    served: ServedPipeline, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = EventQueue.open(tmp_path / "q")
    _outcome, event_id = await queue.put("sms", inbound_event("m-3"), "nonce-3")
    reads: list[int] = []
    original = served.journal.records

    def records(step: int) -> dict[int, Record]:
        reads.append(step)
        return original(step)

    monkeypatch.setattr(served.journal, "records", records)
    try:
        await served.run_event(queued_event(event_id, "sms", inbound_event("m-3")), queue)
        assert reads == []  # fresh: nothing of it can be journaled yet
        assert queue.waiting() == []  # it ran and is done
    finally:
        queue.close()
    assert [message["text"] for message in sandbox.state.messages] == ["re m-3"]
    (line,) = lines(tmp_path)
    assert line["event"] == event_id
    assert line["json"]["status"] == "queued"


async def test_an_event_queued_before_this_start_reads_its_records(
    served: ServedPipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = EventQueue.open(tmp_path / "q")
    _outcome, event_id = await queue.put("sms", inbound_event("m-4"), "nonce-4")
    queue.close()
    reopened = EventQueue.open(tmp_path / "q")
    (event,) = reopened.waiting()
    assert not event.fresh
    reads: list[int] = []
    original = served.journal.records

    def records(step: int) -> dict[int, Record]:
        reads.append(step)
        return original(step)

    monkeypatch.setattr(served.journal, "records", records)
    try:
        await served.run_event(event, reopened)
    finally:
        reopened.close()
    assert reads == [event_id * LANE_STRIDE, event_id * LANE_STRIDE + 1]


async def test_a_send_in_flight_at_a_crash_is_reported_not_repeated(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # What a serve killed mid-send leaves: the event still queued, the pipeline's journal with
    # the event's trigger step done and its send (lane 1, item 0) marked in flight.
    journal = open_journal(tmp_path / "journals", "sms", sandbox=False)
    base = 5 * LANE_STRIDE
    journal.complete(base, 0, "done", [{"json": inbound("m-5"), "pairedItem": {"item": 0}}])
    await journal.begin(base + 1, [0])
    await journal.close(finished=False)

    queue = EventQueue.open(tmp_path / "q")
    async with served_pipeline(sandbox, tmp_path) as served:  # the restart
        await served.run_event(QueuedEvent(5, "sms", "inboundMessage", inbound("m-5"), "x"), queue)
    queue.close()
    assert sandbox.state.messages == []
    (line,) = lines(tmp_path)
    assert line["event"] == 5
    error = line["error"]
    assert isinstance(error, dict)
    assert error["code"] == "unknown_outcome"
