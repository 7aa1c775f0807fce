"""Running a pipeline graph: fan-out, diamonds, branches, lanes, output tagging, journal keys."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.core.items import Item
from plivo_node.core.node import OperationContext, Routed
from plivo_node.run.engine import OnError, Step
from plivo_node.run.graph import DeclaredStep, Graph, resolve_graph
from plivo_node.run.journal import ItemState, RunJournal
from plivo_node.run.runner import CHANNEL_SIZE, RunSummary, execute

Handler = Callable[[OperationContext], Awaitable[list[Any]]]


class Resolver:
    """Every parameter is the item's json, plus ``seen``: what ``$('Step').item.json`` gives
    for each step the item descends from (a missing step reads as None)."""

    resource = "test"
    operation = "run"

    def __init__(self, reads: tuple[str, ...]) -> None:
        self._reads = reads

    def resolve(self, context: Any) -> dict[str, Any]:
        seen = {}
        for name in self._reads:
            try:
                seen[name] = context.step_item(name)
            except KeyError:
                seen[name] = None
        return {**context.json, "seen": seen}


async def passing(ctx: OperationContext) -> list[Any]:
    return [{k: v for k, v in ctx.params.items() if k != "seen"}]


async def by_parity(ctx: OperationContext) -> list[Any]:
    """An If: even n to output 0 (true), odd n to output 1 (false)."""
    json_ = {"n": ctx.params["n"]}
    return [json_] if ctx.params["n"] % 2 == 0 else [Routed(1, json_)]


def make(
    name: str,
    handler: Handler = passing,
    *,
    reads: tuple[str, ...] = (),
    outputs: tuple[str, ...] = ("main",),
    on_error: OnError = OnError.STOP_WORKFLOW,
    concurrency: int = 4,
) -> Step:
    return Step(
        name=name,
        resolver=Resolver(reads),
        handler=handler,
        outputs=outputs,
        on_error=on_error,
        concurrency=concurrency,
    )


def graph_of(*declared: tuple[str, Any], error_outputs: tuple[str, ...] = ()) -> Graph:
    return resolve_graph(
        [DeclaredStep(name, "test", raw, name in error_outputs) for name, raw in declared],
        source="p.yaml",
    )


async def run(
    steps: list[Step], graph: Graph, count: int, **options: Any
) -> tuple[RunSummary, list[dict[str, Any]]]:
    lines: list[str] = []
    async with asyncio.timeout(60):  # a deadlock fails the test instead of hanging it
        summary = await execute(
            steps,
            [Item(json={"n": n}) for n in range(count)],
            {},
            lines.append,
            graph=graph,
            **options,
        )
    return summary, [json.loads(line) for line in lines]


def counts(summary: RunSummary) -> dict[str, tuple[int, int, int]]:
    return {s.name: (s.items, s.succeeded, s.failed) for s in summary.steps}


async def test_an_output_feeding_two_steps_gives_each_every_item_in_order() -> None:
    steps = [make("A"), make("B", reads=("A",)), make("C", reads=("A",))]
    graph = graph_of(("A", None), ("B", "A"), ("C", "A"))
    summary, out = await run(steps, graph, 5)
    # Two terminal steps: every line says which one it came from.
    assert {o["step"] for o in out} == {"B", "C"}
    for name in ("B", "C"):
        lines = [o for o in out if o["step"] == name]
        assert [o["json"]["n"] for o in lines] == list(range(5))
        assert [o["pairedItem"]["item"] for o in lines] == list(range(5))
    assert counts(summary) == {"A": (5, 5, 0), "B": (5, 5, 0), "C": (5, 5, 0)}
    assert summary.items == 5
    assert summary.succeeded == 10  # the terminal steps' items
    assert summary.outputs == 10


async def test_a_diamond_with_a_slow_branch_runs_to_the_end_with_each_lane_in_order() -> None:
    """A → B, A → C, B → D, C → D: far more items than the channels hold, C much slower than
    B, so B's lane of D waits on nothing while A must wait for C: no deadlock, and D runs
    once per input (two lanes), each in its input's order."""

    async def slow(ctx: OperationContext) -> list[Any]:
        await asyncio.sleep(0.0005 if ctx.params["n"] % 50 == 0 else 0)
        return [{"n": ctx.params["n"], "via": "C"}]

    async def tag_b(ctx: OperationContext) -> list[Any]:
        return [{"n": ctx.params["n"], "via": "B"}]

    count = CHANNEL_SIZE * 12
    steps = [
        make("A"),
        make("B", tag_b),
        make("C", slow, concurrency=2),
        make("D", reads=("A", "B", "C")),
    ]
    graph = graph_of(("A", None), ("B", "A"), ("C", "A"), ("D", ["B", "C"]))
    summary, out = await run(steps, graph, count)
    assert all("step" not in o for o in out)  # one terminal step: untagged, as a line's last
    for via in ("B", "C"):
        lane = [o for o in out if o["json"]["via"] == via]
        assert [o["json"]["n"] for o in lane] == list(range(count))
        assert [o["pairedItem"]["item"] for o in lane] == list(range(count))
    assert counts(summary)["D"] == (2 * count, 2 * count, 0)


async def test_ancestry_reaches_across_branches_and_lanes() -> None:
    seen: list[dict[str, Any]] = []

    async def record(ctx: OperationContext) -> list[Any]:
        seen.append(dict(ctx.params["seen"]))
        return [{"n": ctx.params["n"]}]

    steps = [
        make("A"),
        make("If", by_parity, outputs=("true", "false")),
        make("T", reads=("A",)),
        make("F", reads=("A",)),
        make("Join", record, reads=("A", "If", "T", "F")),
    ]
    graph = graph_of(
        ("A", None),
        ("If", "A"),
        ("T", "If"),
        ("F", {"step": "If", "output": 1}),
        ("Join", ["T", "F"]),
    )
    await run(steps, graph, 4)
    by_n = {entry["A"]["n"]: entry for entry in seen}
    assert by_n[0] == {"A": {"n": 0}, "If": {"n": 0}, "T": {"n": 0}, "F": None}
    assert by_n[3] == {"A": {"n": 3}, "If": {"n": 3}, "T": None, "F": {"n": 3}}


async def test_if_branches_each_get_their_items_numbered_from_zero() -> None:
    steps = [
        make("If", by_parity, outputs=("true", "false")),
        make("Even", reads=("If",)),
        make("Odd", reads=("If",)),
    ]
    graph = graph_of(("If", None), ("Even", "If"), ("Odd", {"step": "If", "output": 1}))
    summary, out = await run(steps, graph, 7)
    even = [o for o in out if o["step"] == "Even"]
    odd = [o for o in out if o["step"] == "Odd"]
    assert [o["json"]["n"] for o in even] == [0, 2, 4, 6]
    assert [o["json"]["n"] for o in odd] == [1, 3, 5]
    # pairedItem is a position in the step's own input (its lane), as in n8n.
    assert [o["pairedItem"]["item"] for o in odd] == [0, 1, 2]
    assert counts(summary) == {"If": (7, 7, 0), "Even": (4, 4, 0), "Odd": (3, 3, 0)}
    assert summary.succeeded == 7


async def test_an_unconnected_false_branch_of_a_step_with_a_successor_is_dropped() -> None:
    steps = [make("If", by_parity, outputs=("true", "false")), make("Even")]
    graph = graph_of(("If", None), ("Even", "If"))
    summary, out = await run(steps, graph, 5)
    assert out == [{"json": {"n": n}, "pairedItem": {"item": i}} for i, n in enumerate((0, 2, 4))]
    assert summary.outputs == 3


async def fail_odd(ctx: OperationContext) -> list[Any]:
    if ctx.params["n"] % 2:
        raise ParameterError("odd row", parameter="n")
    return [{"n": ctx.params["n"]}]


async def test_the_error_output_follows_the_nodes_outputs_and_feeds_its_step() -> None:
    """If has outputs 0 and 1: with continueErrorOutput its error output is 2."""

    async def route(ctx: OperationContext) -> list[Any]:
        if ctx.params["n"] == 3:
            raise ParameterError("bad row", parameter="n")
        return await by_parity(ctx)

    steps = [
        make("If", route, outputs=("true", "false"), on_error=OnError.CONTINUE_ERROR_OUTPUT),
        make("Even"),
        make("Failed"),
    ]
    graph = graph_of(
        ("If", None),
        ("Even", "If"),
        ("Failed", {"step": "If", "output": 2}),
        error_outputs=("If",),
    )
    summary, out = await run(steps, graph, 5)
    failed = [o for o in out if o["step"] == "Failed"]
    assert [o["json"]["n"] for o in failed] == [3]
    assert failed[0]["json"]["error"] == "Item 3, parameter 'n': bad row"
    assert [o["json"]["n"] for o in out if o["step"] == "Even"] == [0, 2, 4]
    assert counts(summary)["If"] == (5, 4, 1)


async def test_unread_error_items_of_a_branch_go_to_the_output_file_tagged() -> None:
    steps = [
        make("A"),
        make("B", fail_odd, on_error=OnError.CONTINUE_ERROR_OUTPUT),
        make("B2"),
        make("C"),
    ]
    graph = graph_of(("A", None), ("B", "A"), ("B2", "B"), ("C", "A"), error_outputs=("B",))
    summary, out = await run(steps, graph, 4)
    errors = [o for o in out if "error" in o]
    assert [(o["step"], o["json"]["n"]) for o in errors] == [("B", 1), ("B", 3)]
    assert sorted(o["step"] for o in out if "error" not in o) == ["B2"] * 2 + ["C"] * 4
    assert summary.failed == 2


async def test_a_stop_in_one_branch_stops_the_whole_run() -> None:
    started: list[str] = []

    async def stops(ctx: OperationContext) -> list[Any]:
        started.append(f"B{ctx.params['n']}")
        if ctx.params["n"] == 3:
            raise ParameterError("bad row", parameter="n")
        return [{"n": ctx.params["n"]}]

    async def other(ctx: OperationContext) -> list[Any]:
        await asyncio.sleep(0.001)
        started.append(f"C{ctx.params['n']}")
        return [{"n": ctx.params["n"]}]

    steps = [make("A"), make("B", stops, concurrency=1), make("C", other, concurrency=1)]
    graph = graph_of(("A", None), ("B", "A"), ("C", "A"))
    summary, out = await run(steps, graph, 2000)
    assert summary.stopped is not None
    assert summary.stopped.step_name == "B"
    assert summary.stopped.cause.item_index == 3
    assert not summary.interrupted
    # The other branch started nothing after the stop: far from all of its 2000 items.
    assert sum(1 for s in started if s.startswith("C")) < 100
    written = [o for o in out if o["step"] == "B"]
    assert [o["pairedItem"]["item"] for o in written] == [0, 1, 2, 3]
    assert written[-1]["error"]["code"] == "invalid_parameter"


async def test_a_slow_reader_of_a_fan_out_holds_the_writer_back() -> None:
    """Backpressure: while one branch is blocked, the step feeding it stops after a bounded
    number of items instead of buffering the whole batch; released, everything completes."""
    gate = asyncio.Event()
    produced = 0

    async def counting(ctx: OperationContext) -> list[Any]:
        nonlocal produced
        produced += 1
        return [{"n": ctx.params["n"]}]

    async def gated(ctx: OperationContext) -> list[Any]:
        await gate.wait()
        return [{"n": ctx.params["n"]}]

    count = 50_000
    steps = [make("A", counting), make("Fast"), make("Blocked", gated)]
    graph = graph_of(("A", None), ("Fast", "A"), ("Blocked", "A"))
    task = asyncio.ensure_future(run(steps, graph, count))
    for _ in range(200):
        await asyncio.sleep(0.005)
    held = produced
    assert held > CHANNEL_SIZE  # the writer did run ahead of the blocked branch
    # The channel, the blocked step's window and the items in its workers: not the batch.
    assert held < CHANNEL_SIZE + 2 * 2048 + 100, held
    gate.set()
    summary, out = await task
    assert counts(summary)["Blocked"] == (count, count, 0)
    assert len(out) == 2 * count


async def test_several_roots_each_read_every_input_item() -> None:
    graph = resolve_graph(
        [
            DeclaredStep("A", "trigger"),
            DeclaredStep("B", "trigger"),
            DeclaredStep("Both", "test", ["A", "B"]),
        ],
        source="p.yaml",
        is_trigger=lambda node: node == "trigger",
    )
    summary, out = await run([make("A"), make("B"), make("Both")], graph, 3)
    # Both's two lanes (one per root) interleave as they run; each keeps its order.
    assert sorted(o["json"]["n"] for o in out) == [0, 0, 1, 1, 2, 2]
    assert summary.items == 3
    assert counts(summary)["Both"] == (6, 6, 0)


async def test_journal_keys_are_lane_and_position_whatever_the_timing(tmp_path: Path) -> None:
    """Random delays change how D's two lanes interleave, never which key an item gets."""

    async def jittery(ctx: OperationContext) -> list[Any]:
        await asyncio.sleep(random.random() / 1000)
        return [{"n": ctx.params["n"], "via": ctx.params.get("via")}]

    async def via(name: str, ctx: OperationContext) -> list[Any]:
        await asyncio.sleep(random.random() / 1000)
        return [{"n": ctx.params["n"], "via": name}]

    async def via_b(ctx: OperationContext) -> list[Any]:
        return await via("B", ctx)

    async def via_c(ctx: OperationContext) -> list[Any]:
        return await via("C", ctx)

    graph = graph_of(("A", None), ("B", "A"), ("C", "A"), ("D", ["B", "C"]))
    for attempt in range(2):
        path = tmp_path / f"j{attempt}.sqlite"
        journal = RunJournal.open(path, run_key="k", resume=False)
        steps = [make("A"), make("B", via_b), make("C", via_c), make("D", jittery)]
        await run(steps, graph, 60, journal=journal)
        lanes = {lane: journal.records(lane) for lane in range(5)}
        await journal.close(finished=True)
        # Lanes: 0 A, 1 B, 2 C, 3 D reading B, 4 D reading C.
        for lane, expected_via in ((3, "B"), (4, "C")):
            records = lanes[lane]
            assert sorted(records) == list(range(60))
            for position, record in records.items():
                assert record.state is ItemState.DONE
                assert record.outputs is not None
                assert record.outputs[0]["json"] == {"n": position, "via": expected_via}


async def test_a_bug_below_the_handlers_in_a_branch_is_raised_as_itself() -> None:
    async def broken(ctx: OperationContext) -> list[Any]:
        raise RuntimeError("a bug")

    steps = [make("A"), make("B"), make("C", broken)]
    graph = graph_of(("A", None), ("B", "A"), ("C", "A"))
    with pytest.raises(RuntimeError, match="a bug"):
        await run(steps, graph, 1000)
