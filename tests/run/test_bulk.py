"""Bulk steps through the node contract: any node's BulkOperation, grouped and scheduled alike.

The Plivo node's `<` message groups are tested in tests/nodes/plivo/test_bulk.py; here a toy
operation proves the runtime's part (consecutive grouping, a group's size limit, per-member
results and errors, order) knows nothing about Plivo.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from plivo_node.core.api import ApiClient, ApiResponse
from plivo_node.core.errors import ParameterError, PlivoNodeError, ServerError
from plivo_node.core.items import Item, JsonObject
from plivo_node.core.node import OperationContext
from plivo_node.run.bulk import run_bulk_step
from plivo_node.run.engine import FlowItem, ItemResult, OnError, Step, StepStopped

GROUP_LIMIT = 3


@dataclass(frozen=True)
class Addend:
    key: str
    value: int


@dataclass
class SumGroup:
    """Up to GROUP_LIMIT values added in one request; a negative value is refused alone."""

    members: list[tuple[int, Addend]] = field(default_factory=list)

    def fits(self, prepared: Addend) -> bool:
        return len(self.members) < GROUP_LIMIT

    def add(self, index: int, prepared: Addend) -> None:
        self.members.append((index, prepared))

    async def send(self, client: ApiClient) -> Sequence[JsonObject | PlivoNodeError]:
        values = [member.value for _, member in self.members]
        response = await client.request("POST", "Sum/", body={"values": values})
        total = (response.body or {})["total"]
        return [
            ParameterError("negative", parameter="value")
            if member.value < 0
            else {"value": member.value, "total": total, "size": len(values)}
            for _, member in self.members
        ]


class SumBulk:
    def prepare(self, context: OperationContext) -> Addend:
        if "value" not in context.params:
            raise ParameterError("no value", parameter="value")
        return Addend(str(context.params["key"]), int(context.params["value"]))

    def group_key(self, prepared: Addend) -> str:
        return prepared.key

    def new_group(self) -> SumGroup:
        return SumGroup()


class SumService:
    def __init__(self, *, fail: bool = False) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.fail = fail

    async def request(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        body = kwargs["body"]
        self.bodies.append(body)
        if self.fail:
            raise ServerError(status=500, method=method, path=path)
        return ApiResponse(200, {"total": sum(body["values"])})


class Params:
    resource = ""
    operation = ""

    def resolve(self, context: Any) -> dict[str, Any]:
        return dict(context.json)


async def unused(ctx: OperationContext) -> list[JsonObject]:
    raise AssertionError("bulk steps do not call the per-item handler")


async def run(
    rows: list[dict[str, Any]],
    service: SumService,
    on_error: OnError = OnError.CONTINUE_REGULAR_OUTPUT,
) -> list[ItemResult]:
    step = Step(
        name="Sum",
        resolver=Params(),
        handler=unused,
        node="sum",
        on_error=on_error,
        concurrency=2,
        bulk=SumBulk(),
    )

    async def flows() -> AsyncIterator[FlowItem]:
        for index, row in enumerate(rows):
            yield FlowItem(index, Item(json=row))

    return [
        result async for _flow, result in run_bulk_step(step, flows(), service, operation=SumBulk())
    ]


async def test_consecutive_items_with_one_key_share_a_request_up_to_the_groups_limit() -> None:
    service = SumService()
    rows = [{"key": "a", "value": n} for n in range(4)] + [{"key": "b", "value": 10}]
    results = await run(rows, service)
    assert [body["values"] for body in service.bodies] == [[0, 1, 2], [3], [10]]
    assert [r.outputs[0].json["total"] for r in results] == [3, 3, 3, 3, 10]
    assert [r.outputs[0].paired_item for r in results] == [0, 1, 2, 3, 4]


async def test_a_member_error_fails_that_item_only() -> None:
    results = await run([{"key": "a", "value": 1}, {"key": "a", "value": -1}], SumService())
    assert results[0].error is None
    assert results[1].error is not None
    assert results[1].error.item_index == 1
    assert results[1].outputs[0].json == {"error": "Item 1, parameter 'value': negative"}


async def test_a_failed_request_fails_every_member_each_naming_its_own_item() -> None:
    results = await run([{"key": "a", "value": 1}, {"key": "a", "value": 2}], SumService(fail=True))
    assert [r.error.item_index if r.error else None for r in results] == [0, 1]
    assert all(r.error is not None and r.error.code == "server_error" for r in results)


async def test_an_item_that_cannot_be_prepared_keeps_its_place_without_splitting_the_group() -> (
    None
):
    service = SumService()
    rows = [{"key": "a", "value": 1}, {"key": "a"}, {"key": "a", "value": 2}, {"key": "a"}]
    results = await run(rows, service)
    assert [body["values"] for body in service.bodies] == [[1, 2]]
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert [r.error.code if r.error else None for r in results] == [
        None,
        "invalid_parameter",
        None,
        "invalid_parameter",
    ]
    assert results[1].outputs[0].json == {"error": "Item 1, parameter 'value': no value"}


async def test_under_stop_workflow_an_item_that_cannot_be_prepared_closes_the_group() -> None:
    service = SumService()
    rows = [{"key": "a", "value": 1}, {"key": "a"}, {"key": "a", "value": 2}]
    with pytest.raises(StepStopped):
        await run(rows, service, OnError.STOP_WORKFLOW)
    assert [body["values"] for body in service.bodies] == [[1]]  # nothing after the failure


async def test_a_prepared_failure_after_a_group_keeps_order() -> None:
    service = SumService()
    rows = [{"key": "a", "value": 1}, {"key": "a"}, {"key": "a", "value": 2}]
    results = await run(rows, service)
    assert [r.index for r in results] == [0, 1, 2]
    assert results[1].error is not None
    assert results[1].error.code == "invalid_parameter"
