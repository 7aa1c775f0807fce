"""The executor: pairing, order, bounded concurrency, onError modes, replay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from plivo_node.core.api import ApiResponse
from plivo_node.core.errors import ConfigurationError, ParameterError, ServerError
from plivo_node.core.items import Item
from plivo_node.core.node import OperationContext, Routed
from plivo_node.run.engine import (
    MAIN_OUTPUT,
    FlowItem,
    ItemResult,
    OnError,
    OutputItem,
    RunStop,
    Step,
    StepStopped,
    run_step,
)
from tests.gated_client import GatedClient, bounded, sending, settle


class EchoResolver:
    """Stands in for ParameterResolver: the item's json is its parameters."""

    resource = "sms"
    operation = "send"

    def resolve(self, context: Any) -> dict[str, Any]:
        return dict(context.json)


async def echo_handler(ctx: OperationContext) -> list[dict[str, Any]]:
    await asyncio.sleep(ctx.params.get("delay", 0))
    if ctx.params.get("fail") == "param":
        raise ParameterError("bad number", parameter="to")
    if ctx.params.get("fail") == "api":
        raise ServerError(status=500, method="POST", path="Message/", error_text="boom")
    return [{"n": ctx.params["n"], "copy": k} for k in range(ctx.params.get("fanout", 1))]


def make_step(on_error: OnError = OnError.STOP_WORKFLOW, concurrency: int = 4) -> Step:
    return Step(
        name="Send",
        resolver=EchoResolver(),
        handler=echo_handler,
        on_error=on_error,
        concurrency=concurrency,
    )


def replay_from(recorded: dict[int, ItemResult]) -> Any:
    return lambda flow: recorded.get(flow.index)


async def flows(rows: list[Mapping[str, Any]]) -> AsyncIterator[FlowItem]:
    for index, row in enumerate(rows):
        yield FlowItem(index, Item(json=dict(row)))


async def collect(step: Step, rows: list[Mapping[str, Any]]) -> list[ItemResult]:
    return [result async for _flow, result in run_step(step, flows(rows), client=None)]


async def test_outputs_keep_input_order_and_pairing_despite_latency() -> None:
    rows = [{"n": i, "delay": (7 - i % 7) / 1000} for i in range(40)]
    results = await collect(make_step(concurrency=8), rows)
    assert [r.index for r in results] == list(range(40))
    for r in results:
        assert [o.paired_item for o in r.outputs] == [r.index]
        assert r.outputs[0].json["n"] == r.index


async def test_fanout_items_all_paired_with_their_input() -> None:
    results = await collect(make_step(), [{"n": 0, "fanout": 3}, {"n": 1, "fanout": 2}])
    assert [(o.paired_item, o.json["copy"]) for r in results for o in r.outputs] == [
        (0, 0),
        (0, 1),
        (0, 2),
        (1, 0),
        (1, 1),
    ]


async def test_concurrency_is_bounded() -> None:
    running = 0
    peak = 0

    async def counting(ctx: OperationContext) -> list[dict[str, Any]]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1
        return [{}]

    step = Step(name="S", resolver=EchoResolver(), handler=counting, concurrency=5)
    results = [r async for _f, r in run_step(step, flows([{}] * 50), client=None)]
    assert len(results) == 50
    assert peak == 5


async def test_continue_regular_output_puts_error_item_in_place() -> None:
    rows = [{"n": 0}, {"n": 1, "fail": "param"}, {"n": 2}]
    results = await collect(make_step(OnError.CONTINUE_REGULAR_OUTPUT), rows)
    assert [r.index for r in results] == [0, 1, 2]
    bad = results[1].outputs[0]
    assert bad.output == MAIN_OUTPUT
    assert bad.paired_item == 1
    assert bad.error is not None
    assert bad.error["code"] == "invalid_parameter"
    assert bad.error["itemIndex"] == 1
    assert bad.error["parameter"] == "to"
    assert bad.json == {"error": "Item 1, parameter 'to': bad number"}


async def test_continue_error_output_merges_input_row() -> None:
    rows = [{"n": 0, "fail": "api", "phone": "+14155550101"}]
    step = make_step(OnError.CONTINUE_ERROR_OUTPUT)
    results = await collect(step, rows)
    out = results[0].outputs[0]
    assert out.output == step.error_output == 1
    assert out.json["phone"] == "+14155550101"
    assert out.error is not None
    assert out.error["code"] == "server_error"
    assert out.error["httpCode"] == 500


async def test_stop_workflow_reports_earlier_items_then_stops() -> None:
    rows = (
        [{"n": i} for i in range(3)] + [{"n": 3, "fail": "api"}] + [{"n": i} for i in range(4, 100)]
    )
    seen: list[ItemResult] = []

    async def drain() -> None:
        async for _flow, result in run_step(make_step(concurrency=2), flows(rows), client=None):
            seen.append(result)

    with pytest.raises(StepStopped) as stopped:
        await drain()
    assert stopped.value.cause.item_index == 3
    assert "item 3" in str(stopped.value)
    indices = [r.index for r in seen]
    assert indices[:4] == [0, 1, 2, 3]
    # Items that were already in flight are reported, but no new item starts after the failure.
    assert len(indices) < 10
    assert indices == sorted(indices)


async def test_replay_skips_handler_for_recorded_items() -> None:
    calls: list[int] = []

    async def recording(ctx: OperationContext) -> list[dict[str, Any]]:
        calls.append(ctx.item_index)
        return [{"fresh": True}]

    recorded = {1: ItemResult(1, (OutputItem({"replayed": True}, 1),))}
    step = Step(name="S", resolver=EchoResolver(), handler=recording)
    results = [
        r
        async for _f, r in run_step(
            step, flows([{}] * 3), client=None, replay=replay_from(recorded)
        )
    ]
    assert calls == [0, 2]
    assert [r.outputs[0].json for r in results] == [
        {"fresh": True},
        {"replayed": True},
        {"fresh": True},
    ]


async def test_step_item_lookup_follows_ancestors() -> None:
    seen: list[Any] = []

    class LookupResolver(EchoResolver):
        def resolve(self, context: Any) -> dict[str, Any]:
            seen.append(context.step_item("Load")["phone"])
            return {"n": 0}

    step = Step(name="S", resolver=LookupResolver(), handler=echo_handler)

    async def one() -> AsyncIterator[FlowItem]:
        yield FlowItem(0, Item(json={}), ancestors={"Load": {"phone": "+14155550101"}})

    _ = [r async for _f, r in run_step(step, one(), client=None)]
    assert seen == ["+14155550101"]


async def test_a_replayed_failure_does_not_stop_a_resumed_step() -> None:
    failed = ItemResult(0, (OutputItem({"error": "x"}, 0),), error=ParameterError("bad"))
    recorded = {0: failed}
    step = make_step(OnError.STOP_WORKFLOW)
    results = [
        r
        async for _f, r in run_step(
            step,
            flows([{"n": 0}, {"n": 1}, {"n": 2}]),
            None,
            replay=replay_from(recorded),
        )
    ]
    assert [r.index for r in results] == [0, 1, 2]
    assert results[0].error is not None
    assert results[2].outputs[0].json == {"n": 2, "copy": 0}


async def test_memory_stays_bounded_by_the_window_however_long_the_input() -> None:
    """The engine never holds more than `window` items that it has read but not yet yielded."""
    read = 0
    held_peak = 0
    yielded = 0

    async def endless() -> AsyncIterator[FlowItem]:
        nonlocal read
        for index in range(20_000):
            read += 1
            yield FlowItem(index, Item(json={"n": index}))

    step = Step(name="S", resolver=EchoResolver(), handler=echo_handler, concurrency=8, window=64)
    async for _flow, _result in run_step(step, endless(), client=None):
        yielded += 1
        held_peak = max(held_peak, read - yielded)
    assert yielded == 20_000
    assert held_peak <= 64


async def test_an_unreadable_input_row_ends_the_input_after_the_items_before_it() -> None:
    async def broken() -> AsyncIterator[FlowItem]:
        for index in range(3):
            yield FlowItem(index, Item(json={"n": index}))
        raise ConfigurationError("contacts.jsonl line 4: not valid JSON")

    seen: list[int] = []

    async def drain() -> None:
        async for _flow, result in run_step(make_step(), broken(), client=None):
            seen.append(result.index)

    with pytest.raises(ConfigurationError, match="line 4"):
        await drain()
    assert seen == [0, 1, 2]


# --- stops: nothing starts after a failure or a stop; an item is in flight once it writes ----


def sending_step(on_error: OnError = OnError.STOP_WORKFLOW, concurrency: int = 4) -> Step:
    return Step(
        name="Send",
        resolver=EchoResolver(),
        handler=sending,
        on_error=on_error,
        concurrency=concurrency,
    )


async def consume(
    step: Step, rows: list[Mapping[str, Any]], client: GatedClient, **kwargs: Any
) -> tuple[asyncio.Task[None], list[ItemResult]]:
    seen: list[ItemResult] = []

    async def drain() -> None:
        async for _flow, result in run_step(step, flows(rows), client, **kwargs):
            seen.append(result)

    return asyncio.ensure_future(drain()), seen


async def test_stop_workflow_drops_an_item_still_waiting_for_the_limiter() -> None:
    client = GatedClient()
    rows = [{"n": 0, "slow": True, "fail": True}, {"n": 1, "limited": True}, {"n": 2}]
    task, seen = await consume(sending_step(), rows, client)
    await settle(lambda: client.written == [0, 2] and client.waiting == [1])
    client.server.set()  # item 0 fails while item 1 waits for the limiter
    with pytest.raises(StepStopped):
        await bounded(task)
    client.limiter.set()
    await asyncio.sleep(0)
    assert client.written == [0, 2], "an item waiting for its turn was sent after the failure"
    assert [r.index for r in seen] == [0, 2]


async def test_stop_workflow_lets_an_item_being_written_finish_and_reports_it() -> None:
    client = GatedClient()
    rows = [{"n": 0, "limited": True, "fail": True}, {"n": 1, "slow": True}, {"n": 2}]
    task, seen = await consume(sending_step(concurrency=2), rows, client)
    await settle(lambda: client.written == [1])
    client.limiter.set()  # item 0 now writes and fails while item 1 awaits its answer
    await settle(lambda: client.written == [1, 0])
    client.server.set()
    with pytest.raises(StepStopped) as stopped:
        await bounded(task)
    assert stopped.value.cause.item_index == 0
    assert [(r.index, r.error is None) for r in seen] == [(0, False), (1, True)]
    assert client.written == [1, 0], "item 2 started after the failure"


async def test_a_requested_stop_finishes_writing_items_and_starts_nothing_else() -> None:
    client = GatedClient()
    stop = RunStop()
    rows = [{"n": 0, "slow": True}, {"n": 1, "limited": True}, *({"n": n} for n in range(2, 9))]
    task, seen = await consume(sending_step(concurrency=2), rows, client, stop=stop)
    await settle(lambda: client.written == [0] and client.waiting == [1])
    stop.request()
    client.limiter.set()
    client.server.set()
    await bounded(task)  # a stop from outside is not a failure: no StepStopped
    assert client.written == [0]
    assert [r.index for r in seen] == [0]


async def test_a_forced_stop_abandons_items_being_written_after_marking_them() -> None:
    client = GatedClient()
    stop = RunStop()
    marked: list[int] = []

    async def mark(flow: FlowItem) -> None:
        marked.append(flow.index)

    rows = [{"n": 0, "slow": True}, {"n": 1, "slow": True}]
    task, seen = await consume(sending_step(), rows, client, stop=stop, mark=mark)
    await settle(lambda: client.written == [0, 1])
    stop.request()
    assert stop.force()
    await bounded(task)
    assert marked == [0, 1]  # in flight in the journal: a resume reports them unknown
    assert seen == []


async def test_an_item_is_marked_once_when_its_first_write_starts_never_for_reads() -> None:
    client = GatedClient()
    client.limiter.set()
    order: list[str] = []
    real_request = client.request

    async def logged(method: str, path: str, **kwargs: Any) -> ApiResponse:
        order.append(method)
        return await real_request(method, path, **kwargs)

    client.request = logged  # type: ignore[method-assign]

    async def mark(flow: FlowItem) -> None:
        order.append(f"mark {flow.index}")

    rows = [{"n": 0, "read_first": True, "limited": True, "twice": True}]
    task, seen = await consume(sending_step(), rows, client, mark=mark)
    await bounded(task)
    assert order == ["GET", "POST", "mark 0", "POST"]
    assert [r.error for r in seen] == [None]


async def test_a_run_stop_reaches_items_queued_behind_the_window() -> None:
    client = GatedClient()
    stop = RunStop()
    rows = [{"n": n, "limited": True} for n in range(50)]
    task, seen = await consume(sending_step(concurrency=3), rows, client, stop=stop)
    await settle(lambda: client.waiting == [0, 1, 2])
    stop.request()
    client.limiter.set()
    await bounded(task)
    assert client.written == []
    assert seen == []


# --- outputs other than the first (If's false branch) -------------------------------------


async def branch(ctx: OperationContext) -> list[dict[str, Any] | Routed]:
    if ctx.params.get("fail"):
        raise ParameterError("cannot compare", parameter="conditions")
    n = ctx.params["n"]
    output = ctx.params.get("to", 0 if n % 2 == 0 else 1)
    return [{"n": n}] if output == 0 else [Routed(output, {"n": n})]


def branching_step(on_error: OnError = OnError.STOP_WORKFLOW) -> Step:
    return Step(
        name="If",
        resolver=EchoResolver(),
        handler=branch,
        node="if",
        on_error=on_error,
        outputs=("true", "false"),
    )


async def test_a_routed_item_goes_to_the_output_it_names() -> None:
    results = await collect(branching_step(), [{"n": 0}, {"n": 1}, {"n": 2}])
    assert [(o.output, o.json, o.paired_item) for r in results for o in r.outputs] == [
        (0, {"n": 0}, 0),
        (1, {"n": 1}, 1),
        (0, {"n": 2}, 2),
    ]
    assert all(r.error is None for r in results)


async def test_the_error_output_follows_the_nodes_own_outputs() -> None:
    step = branching_step(OnError.CONTINUE_ERROR_OUTPUT)
    assert step.error_output == 2
    (result,) = await collect(step, [{"n": 1, "fail": True}])
    (out,) = result.outputs
    assert out.output == 2
    assert out.error is not None
    assert out.error["code"] == "invalid_parameter"


async def test_an_item_routed_to_an_output_the_node_lacks_fails_that_item_only() -> None:
    step = branching_step(OnError.CONTINUE_REGULAR_OUTPUT)
    results = await collect(step, [{"n": 0, "to": 2}, {"n": 1}])
    assert results[0].error is not None
    assert results[0].error.code == "item_error"
    assert "sent an item to output 2, but it has only the outputs 0: true, 1: false" in str(
        results[0].error
    )
    assert [(o.output, o.json) for o in results[1].outputs] == [(1, {"n": 1})]
