"""A run over several steps: chaining, pairing across steps, error items of earlier steps, stop."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from plivo_node.core.errors import ParameterError
from plivo_node.core.items import Item
from plivo_node.core.node import OperationContext, Routed
from plivo_node.run.engine import OnError, RunStop, Step
from plivo_node.run.journal import ItemState, RunJournal
from plivo_node.run.runner import execute
from tests.gated_client import GatedClient, sending, settle


class EchoResolver:
    resource = "sms"
    operation = "send"

    def resolve(self, context: Any) -> dict[str, Any]:
        first = context.step_item("First") if "upstream" in context.json else None
        return {**context.json, "first": first}


async def first(ctx: OperationContext) -> list[dict[str, Any]]:
    if ctx.params.get("bad"):
        raise ParameterError("bad row", parameter="to")
    return [{"upstream": ctx.params["n"]}]


async def second(ctx: OperationContext) -> list[dict[str, Any]]:
    return [{"done": ctx.params["upstream"], "seen_first": ctx.params["first"]}]


NODE = "test"  # the node type of the steps that use the test's client


def steps(on_error: OnError) -> list[Step]:
    return [
        Step(name="First", resolver=EchoResolver(), handler=first, on_error=on_error),
        Step(name="Second", resolver=EchoResolver(), handler=second),
    ]


async def run(on_error: OnError, rows: list[dict[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    lines: list[str] = []
    summary = await execute(steps(on_error), [Item(json=r) for r in rows], {}, lines.append)
    return summary, [json.loads(line) for line in lines]


async def test_steps_chain_and_later_steps_see_earlier_items() -> None:
    summary, out = await run(OnError.STOP_WORKFLOW, [{"n": 0}, {"n": 1}])
    assert [o["json"]["done"] for o in out] == [0, 1]
    assert out[1]["json"]["seen_first"] == {"upstream": 1}
    assert [s.items for s in summary.steps] == [2, 2]
    assert summary.stopped is None


async def test_error_items_of_an_earlier_step_are_written_tagged_and_not_passed_on() -> None:
    summary, out = await run(OnError.CONTINUE_ERROR_OUTPUT, [{"n": 0}, {"n": 1, "bad": True}])
    assert out[0]["step"] == "First"
    assert out[0]["error"]["code"] == "invalid_parameter"
    assert out[0]["json"]["n"] == 1  # the failing row stays visible
    assert [o["json"].get("done") for o in out[1:]] == [0]
    assert summary.failed == 1
    assert [s.items for s in summary.steps] == [2, 1]


async def test_a_stop_in_an_earlier_step_starts_nothing_more_in_any_step() -> None:
    # The first step runs items 0-2 at once (nothing to wait for); item 1 fails. Under
    # stopWorkflow the whole run stops there: the second step starts nothing after it, not
    # even for item 0, which a resume sends on (it is journaled as done in the first step).
    summary, out = await run(OnError.STOP_WORKFLOW, [{"n": 0}, {"n": 1, "bad": True}, {"n": 2}])
    assert summary.stopped is not None
    assert summary.stopped.step_name == "First"
    assert summary.stopped.cause.item_index == 1
    assert [o["error"]["itemIndex"] for o in out if "step" in o] == [1]
    assert [o for o in out if "step" not in o] == []
    assert [s.items for s in summary.steps] == [2, 0]
    assert not summary.interrupted


# --- a stop from outside (SIGINT/SIGTERM in the CLI) --------------------------------------


def send_step(name: str = "Send") -> Step:
    # A send: its items are marked in flight as their request is written (never repeated).
    return Step(
        name=name,
        resolver=EchoResolver(),
        handler=sending,
        node=NODE,
        concurrency=2,
        never_repeat=True,
    )


async def test_a_stop_leaves_items_that_waited_for_their_turn_out_of_the_journal(
    tmp_path: Path,
) -> None:
    client = GatedClient()
    stop = RunStop()
    journal = RunJournal.open(tmp_path / "j.sqlite", run_key="k", resume=False)
    rows = [{"n": 0, "slow": True}, {"n": 1, "limited": True}, *({"n": n} for n in range(2, 6))]
    lines: list[str] = []
    run = asyncio.ensure_future(
        execute(
            [send_step()],
            [Item(json=r) for r in rows],
            {NODE: client},
            lines.append,
            journal=journal,
            stop=stop,
        )
    )
    await settle(lambda: client.written == [0] and client.waiting == [1])
    stop.request()
    client.limiter.set()
    client.server.set()
    async with asyncio.timeout(10):
        summary = await run
    records = journal.records(0)
    await journal.close()
    assert summary.interrupted
    assert summary.stopped is None
    assert {i: r.state for i, r in records.items()} == {0: ItemState.DONE}
    assert [json.loads(line)["pairedItem"]["item"] for line in lines] == [0]
    assert client.written == [0]


async def test_a_stop_in_a_chain_still_reports_what_an_earlier_step_had_in_flight() -> None:
    client = GatedClient()
    stop = RunStop()
    lines: list[str] = []

    async def after(ctx: OperationContext) -> list[dict[str, Any]]:
        return [{"after": ctx.params["n"]}]

    steps = [
        send_step(),
        Step(name="After", resolver=EchoResolver(), handler=after),
    ]
    rows = [{"n": 0, "slow": True}, *({"n": n, "limited": True} for n in range(1, 5))]
    run = asyncio.ensure_future(
        execute(steps, [Item(json=r) for r in rows], {NODE: client}, lines.append, stop=stop)
    )
    await settle(lambda: client.written == [0] and client.waiting == [1])
    stop.request()
    client.server.set()
    client.limiter.set()
    async with asyncio.timeout(10):
        summary = await run
    # The send in flight finished and is counted (and would be journaled as done); the later
    # step started nothing after the stop, so a resume runs it for that item.
    assert [(s.items, s.succeeded) for s in summary.steps] == [(1, 1), (0, 0)]
    assert summary.interrupted
    assert lines == []
    assert client.written == [0]


async def test_items_on_an_unconnected_second_output_are_dropped_as_in_n8n() -> None:
    """In a straight pipeline the next step reads the main output (If's true branch); the
    items of an output no step reads (the false branch) end there, as in n8n."""

    async def split(ctx: OperationContext) -> list[dict[str, Any] | Routed]:
        n = ctx.params["n"]
        return [{"upstream": n}] if n % 2 == 0 else [Routed(1, {"odd": n})]

    chain = [
        Step(name="First", resolver=EchoResolver(), handler=split, outputs=("true", "false")),
        Step(name="Second", resolver=EchoResolver(), handler=second),
    ]
    lines: list[str] = []
    summary = await execute(chain, [Item(json={"n": n}) for n in range(3)], {}, lines.append)
    out = [json.loads(line) for line in lines]
    assert [o for o in out if "step" in o] == []
    assert [o["json"]["done"] for o in out] == [0, 2]
    assert [s.items for s in summary.steps] == [3, 2]
    assert summary.failed == 0
