"""Bulk grouping: consecutive compatible items share one `<` request; each gets its own output."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from plivo_node.core.api import ApiResponse, before_write
from plivo_node.core.errors import ParameterError, ServerError
from plivo_node.core.items import Item
from plivo_node.core.node import OperationContext
from plivo_node.nodes.plivo.bulk import MAX_UNIQUE_DESTINATIONS, MessageBulk
from plivo_node.run.bulk import run_bulk_step
from plivo_node.run.engine import FlowItem, ItemResult, OnError, Step, StepStopped


class ParamsResolver:
    resource = "sms"
    operation = "send"

    def resolve(self, context: Any) -> dict[str, Any]:
        return dict(context.json)


@dataclass
class Prepared:
    body: dict[str, Any]
    destinations: Sequence[str]

    def output(self, response: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "to": "<".join(self.destinations),
            "message_uuid": response["message_uuid"],
            **(
                {"invalid_number": response["invalid_number"]}
                if "invalid_number" in response
                else {}
            ),
        }


def prepare(ctx: OperationContext) -> Prepared:
    to = ctx.params["to"]
    if to == "bad":
        raise ParameterError("not a phone number", parameter="to")
    return Prepared({"src": "14155550100", "text": ctx.params.get("text", "hi"), "dst": to}, [to])


class FakePlivo:
    """Answers POST Message/ as Plivo does: one UUID per valid unique destination, in order."""

    def __init__(
        self,
        invalid: frozenset[str] = frozenset(),
        fail: bool = False,
        failing_texts: frozenset[str] = frozenset(),
    ) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.invalid = invalid
        self.fail = fail
        self.failing_texts = failing_texts

    auth_id = "MASANDBOX00000000000"

    async def request(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        hook = before_write.get()  # called as PlivoClient does, as the request is written
        marking = hook() if hook is not None else None
        if marking is not None:
            await marking
        body = kwargs["body"]
        self.bodies.append(body)
        if self.fail or body["text"] in self.failing_texts:
            raise ServerError(status=500, method=method, path=path)
        unique = list(dict.fromkeys(body["dst"].split("<")))
        valid = [d for d in unique if d not in self.invalid]
        answer: dict[str, Any] = {
            "api_id": "a1",
            "message": "message(s) queued",
            "message_uuid": [f"uuid-{d}" for d in valid],
        }
        if len(valid) < len(unique):
            answer["invalid_number"] = [d for d in unique if d in self.invalid]
        return ApiResponse(202, answer)


def make_step(on_error: OnError = OnError.CONTINUE_REGULAR_OUTPUT) -> Step:
    async def unused(ctx: OperationContext) -> list[dict[str, Any]]:
        raise AssertionError("bulk steps do not call the per-item handler")

    return Step(
        name="Bulk", resolver=ParamsResolver(), handler=unused, on_error=on_error, concurrency=2
    )


async def flows(rows: list[dict[str, Any]]) -> AsyncIterator[FlowItem]:
    for index, row in enumerate(rows):
        yield FlowItem(index, Item(json=row))


async def run(rows: list[dict[str, Any]], client: FakePlivo, **kwargs: Any) -> list[ItemResult]:
    step = kwargs.pop("step", make_step())
    return [
        r
        async for _f, r in run_bulk_step(
            step, flows(rows), client, operation=MessageBulk(prepare), **kwargs
        )
    ]


async def test_consecutive_compatible_items_share_one_request() -> None:
    client = FakePlivo()
    rows = [{"to": f"1415555010{i}"} for i in range(5)]
    results = await run(rows, client)
    assert len(client.bodies) == 1
    assert client.bodies[0]["dst"] == "<".join(r["to"] for r in rows)
    assert [r.outputs[0].json["message_uuid"] for r in results] == [
        [f"uuid-{r['to']}"] for r in rows
    ]
    assert all(r.outputs[0].paired_item == r.index for r in results)


async def test_a_different_text_starts_a_new_group_and_order_is_kept() -> None:
    client = FakePlivo()
    rows = [{"to": "14155550101"}, {"to": "14155550102", "text": "other"}, {"to": "14155550103"}]
    results = await run(rows, client)
    assert [b["dst"] for b in client.bodies] == ["14155550101", "14155550102", "14155550103"]
    assert [r.index for r in results] == [0, 1, 2]


async def test_groups_hold_at_most_1000_unique_destinations() -> None:
    client = FakePlivo()
    rows = [{"to": str(14155500000 + i)} for i in range(MAX_UNIQUE_DESTINATIONS + 5)]
    results = await run(rows, client)
    assert [len(b["dst"].split("<")) for b in client.bodies] == [MAX_UNIQUE_DESTINATIONS, 5]
    assert len(results) == len(rows)


async def test_invalid_and_duplicate_destinations_map_to_their_items() -> None:
    client = FakePlivo(invalid=frozenset({"14155550102"}))
    rows = [
        {"to": "14155550101"},
        {"to": "14155550102"},
        {"to": "14155550101"},
        {"to": "14155550103"},
    ]
    results = await run(rows, client)
    assert client.bodies[0]["dst"] == "14155550101<14155550102<14155550103"
    first, invalid, duplicate, last = (r.outputs[0] for r in results)
    assert first.json["message_uuid"] == ["uuid-14155550101"]
    assert invalid.error is not None
    assert invalid.error["code"] == "bad_request"
    assert "14155550102" in invalid.error["description"]
    assert duplicate.json["status"] == "duplicate"
    assert duplicate.json["duplicate_of"] == {"14155550101": "item 0"}
    assert duplicate.json["message_uuid"] == ["uuid-14155550101"]
    assert last.json["message_uuid"] == ["uuid-14155550103"]


async def test_an_item_failing_preparation_gets_its_error_in_place() -> None:
    client = FakePlivo()
    results = await run([{"to": "14155550101"}, {"to": "bad"}, {"to": "14155550103"}], client)
    assert [r.index for r in results] == [0, 1, 2]
    assert results[1].error is not None
    assert results[1].error.item_index == 1
    # The bad item is held in the group: one request, for the other two.
    assert [body["dst"] for body in client.bodies] == ["14155550101<14155550103"]


async def test_a_failed_request_fails_every_member_with_its_own_index() -> None:
    client = FakePlivo(fail=True)
    results = await run([{"to": "14155550101"}, {"to": "14155550102"}], client)
    assert [r.error.item_index for r in results if r.error] == [0, 1]
    assert [r.outputs[0].error["code"] for r in results if r.outputs[0].error] == [
        "server_error"
    ] * 2


async def collect_until_stopped(rows: list[dict[str, Any]], client: FakePlivo) -> list[int]:
    seen: list[int] = []

    async def drain() -> None:
        step = make_step(OnError.STOP_WORKFLOW)
        async for _f, r in run_bulk_step(step, flows(rows), client, operation=MessageBulk(prepare)):
            seen.append(r.index)

    with pytest.raises(StepStopped):
        await drain()
    return seen


async def test_stop_workflow_sends_no_group_after_an_item_failing_its_checks() -> None:
    # Groups of three with their own text after the bad row: none of them may go out.
    client = FakePlivo()
    rows = [{"to": "14155550101"}, {"to": "bad"}] + [
        {"to": str(14155500000 + i), "text": f"t{i // 3}"} for i in range(30)
    ]
    seen = await collect_until_stopped(rows, client)
    assert seen == [0, 1]
    assert [b["dst"] for b in client.bodies] == ["14155550101"]


async def test_stop_workflow_sends_no_group_after_a_failing_request() -> None:
    client = FakePlivo(failing_texts=frozenset({"t0"}))
    rows = [{"to": str(14155500000 + i), "text": f"t{i // 3}"} for i in range(30)]
    seen = await collect_until_stopped(rows, client)
    # Two requests at a time: the group beside the failing one may have started with it.
    assert {b["text"] for b in client.bodies} <= {"t0", "t1"}
    assert seen[:3] == [0, 1, 2]
    assert set(seen) <= set(range(6))


async def test_journal_hooks_see_every_member() -> None:
    client = FakePlivo()
    begun: list[list[int]] = []
    recorded: list[int] = []

    async def begin(indices: Sequence[int]) -> None:
        begun.append(list(indices))

    await run(
        [{"to": "14155550101"}, {"to": "bad"}, {"to": "14155550103"}],
        client,
        begin=begin,
        record=lambda r: recorded.append(r.index),
    )
    assert begun == [[0, 2]]  # the item held with its error is never in flight: nothing sent
    assert sorted(recorded) == [0, 1, 2]
