"""A run over several steps: chaining, pairing across steps, error items of earlier steps, stop."""

from __future__ import annotations

import json
from typing import Any

from plivo_node.context import Item, OperationContext
from plivo_node.engine import OnError, Step
from plivo_node.errors import ParameterError
from plivo_node.runner import execute


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


def steps(on_error: OnError) -> list[Step]:
    return [
        Step(name="First", resolver=EchoResolver(), handler=first, on_error=on_error),
        Step(name="Second", resolver=EchoResolver(), handler=second),
    ]


async def run(on_error: OnError, rows: list[dict[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    lines: list[str] = []
    summary = await execute(steps(on_error), [Item(json=r) for r in rows], None, lines.append)
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
