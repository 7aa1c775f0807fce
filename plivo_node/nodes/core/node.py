"""The core nodes as node types, registered in pyproject.toml's ``plivo_node.nodes`` entry points.

Each adapts one pure function of this package to the node contract
(:class:`plivo_node.core.node.NodeType`), the way any third-party node plugs in: the runtime
resolves the item's parameters against the node's YAML description, the handler calls the
function with them and the step's typeVersion, and sends each ``(output, json)`` pair to its
output with :class:`~plivo_node.core.node.Routed`.

The Schedule Trigger adds the schedule hook that ``serve`` fires on its timetable.

A node that passes its input item on (Manual Trigger, If, Filter, No Operation) keeps the
item's binary entries, as n8n does; a node that makes new items (Edit Fields, Split Out) does
not. None of them talks to a service: they have no API client.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

from plivo_node.core.items import JsonObject
from plivo_node.core.local_zone import local_zone_name
from plivo_node.core.node import (
    SINGLE_OPERATION,
    Handler,
    HandlerOutput,
    NodeType,
    OperationContext,
    Routed,
    RunSettings,
)
from plivo_node.nodes.core import (
    description_path,
    edit_fields,
    filter_node,
    if_node,
    manual_trigger,
    no_op,
    schedule_trigger,
    split_out,
)
from plivo_node.nodes.core.node_support import Output

N8N_PACKAGE: Final = "n8n-nodes-base."

# A core node's function of one item: (params, item json, item_index=, type_version=).
ItemFunction = Callable[..., list[Output]]


def _handler(execute: ItemFunction, *, passes_item: bool) -> Handler:
    """The handler that runs ``execute`` on one item and routes what it returns."""

    async def handle(context: OperationContext) -> HandlerOutput:
        produced = execute(
            context.params,
            context.item.json,
            item_index=context.item_index,
            type_version=context.type_version,
        )
        binary = context.item.binary if passes_item else {}
        return [Routed(output, json, binary) for output, json in produced]

    return handle


def _trigger(
    params: Mapping[str, Any], item: JsonObject, *, item_index: int, type_version: float
) -> list[Output]:
    """Manual Trigger, one item at a time: the run gives it its input items (or one empty
    item when it has none), and it emits each of them."""
    del item_index  # the trigger's checks name no item: they are about the node itself
    return manual_trigger.execute(params, [item], type_version=type_version)


async def _filter_handler(context: OperationContext) -> HandlerOutput:
    """Filter: kept items on output 0; discarded ones dropped, or on the error output when the
    step has one (n8n's "Discarded" output exists only with onError: continueErrorOutput)."""
    produced = filter_node.execute(
        context.params,
        context.item.json,
        item_index=context.item_index,
        type_version=context.type_version,
        discarded_output=context.error_output,
    )
    return [Routed(output, json, context.item.binary) for output, json in produced]


# The run's time zone (settings.timezone), which a tick fired by `run` is stamped in.
_RUN_ZONE: contextvars.ContextVar[str | None] = contextvars.ContextVar("run_zone", default=None)


class _ZoneScope:
    def lines(self) -> list[str]:
        return []


@contextmanager
def _zone_scope(settings: RunSettings) -> Iterator[_ZoneScope]:
    token = _RUN_ZONE.set(settings.timezone)
    try:
        yield _ZoneScope()
    finally:
        _RUN_ZONE.reset(token)


async def _schedule_handler(context: OperationContext) -> HandlerOutput:
    """Schedule Trigger: ``serve`` gives it the tick's item, which it emits; a run without one
    (``plivo-node run``, like n8n's "Test workflow") fires it once, now."""
    if context.item.json:
        return [Routed(0, dict(context.item.json), context.item.binary)]
    zone = _RUN_ZONE.get() or local_zone_name()
    return [dict(schedule_trigger.tick_item(datetime.now(UTC), zone))]


class _Schedule:
    """The schedule hook (:class:`plivo_node.core.node.ScheduleTrigger`)."""

    def timetable(
        self, params: Mapping[str, Any], *, seed: str, timezone: str
    ) -> schedule_trigger.ScheduleTimetable:
        return schedule_trigger.timetable(params, seed=seed, timezone=timezone)

    def item(self, at: datetime, timezone: str) -> Mapping[str, str]:
        return schedule_trigger.tick_item(at, timezone)


def _node(
    name: str,
    handler: Handler,
    *,
    outputs: tuple[str, ...] = ("main",),
    trigger: bool = False,
) -> NodeType:
    return NodeType(
        name=name,
        description_file=description_path(name),
        handlers={SINGLE_OPERATION: handler},
        outputs=outputs,
        trigger=trigger,
        n8n_type=N8N_PACKAGE + name,
    )


MANUAL_TRIGGER: Final = _node("manualTrigger", _handler(_trigger, passes_item=True), trigger=True)
EDIT_FIELDS: Final = _node("set", _handler(edit_fields.execute, passes_item=False))
IF: Final = _node("if", _handler(if_node.execute, passes_item=True), outputs=("true", "false"))
FILTER: Final = _node("filter", _filter_handler, outputs=("kept",))
SPLIT_OUT: Final = _node("splitOut", _handler(split_out.execute, passes_item=False))
NO_OP: Final = _node("noOp", _handler(no_op.execute, passes_item=True))
SCHEDULE_TRIGGER: Final = NodeType(
    name="scheduleTrigger",
    description_file=description_path("scheduleTrigger"),
    handlers={SINGLE_OPERATION: _schedule_handler},
    trigger=True,
    schedule=_Schedule(),
    run_scope=_zone_scope,
    check_constants=lambda _operation, params: list(schedule_trigger.constant_problems(params)),
    n8n_type=N8N_PACKAGE + "scheduleTrigger",
)
