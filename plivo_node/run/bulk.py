"""Bulk steps: consecutive items whose requests can be combined share one request.

A node type says, per operation, how its items combine (a
:class:`plivo_node.core.node.BulkOperation`: prepare one item's request, a key telling which
requests may share one, and a group that sends them and gives every member its own output or
error). This module does the rest, the same for every node: it prepares items in input order,
closes a group when the next item does not fit it, and runs the groups through the engine's
one scheduler, so concurrency, stopWorkflow, the journal's in-flight marks and resume work
as in a per-item step.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from plivo_node.core.api import ApiClient
from plivo_node.core.errors import PlivoNodeError
from plivo_node.core.items import JsonObject
from plivo_node.core.node import BulkGroup, BulkOperation
from plivo_node.run.engine import (
    FlowItem,
    ItemResult,
    OnError,
    OutputItem,
    Replay,
    RunStop,
    Step,
    error_result,
    item_context,
    schedule,
)
from plivo_node.run.send_window import Deferred

# --- running a bulk step -------------------------------------------------------------------

BeginHook = Callable[[Sequence[int]], Awaitable[None]]
RecordHook = Callable[[ItemResult], None]
Results = list[tuple[FlowItem, ItemResult]]


@dataclass
class BulkUnit:
    """A bulk step's unit of work for the scheduler: a group to send, or one item's result.

    Under stopWorkflow an item whose preparation failed is a unit of its own, run in its turn
    like a group, so that it stops the step where it stands. Otherwise it is held in the open
    group (``held``, by position in ``flows``): its error item leaves in its place when the
    group is sent, and a few refused items (recipients who opted out, say) do not split a bulk
    send into many requests. A replayed item is a unit whose result is already known.
    """

    flows: list[FlowItem]
    group: BulkGroup[Any] | None = None
    result: ItemResult | None = None
    replayed: bool = False
    held: dict[int, ItemResult] = field(default_factory=dict)

    def members(self) -> list[FlowItem]:
        """The items the group's request is for (not those held with an error)."""
        return [flow for position, flow in enumerate(self.flows) if position not in self.held]


class _Grouper:
    """Turns a bulk step's items, in order, into units: open groups closed as items arrive."""

    def __init__(
        self, step: Step, client: ApiClient, operation: BulkOperation[Any], replay: Replay | None
    ) -> None:
        self._step = step
        self._client = client
        self._operation = operation
        self._replay = replay
        self._group: BulkGroup[Any] | None = None
        self._key: str | None = None
        self._flows: list[FlowItem] = []
        self._held: dict[int, ItemResult] = {}
        self._hold_failures = step.on_error is not OnError.STOP_WORKFLOW

    def add(self, flow: FlowItem) -> list[BulkUnit]:
        """Take an item; return the units it closes (an item of its own closes the group)."""
        stored = self._replay(flow) if self._replay is not None else None
        if stored is not None:
            return self._alone(BulkUnit([flow], result=stored, replayed=True))
        try:
            prepared = self._operation.prepare(item_context(self._step, flow, self._client))
        except Deferred:
            return []  # outside its send window: not run in this pass, not in any group
        except PlivoNodeError as exc:
            failed = error_result(self._step, flow, exc)
            if self._group is not None and self._hold_failures:
                self._held[len(self._flows)] = failed
                self._flows.append(flow)
                return []
            return self._alone(BulkUnit([flow], result=failed))
        key = self._operation.group_key(prepared)
        closed: list[BulkUnit] = []
        group = self._group
        if group is not None and (self._key != key or not group.fits(prepared)):
            closed = self.close()
            group = None
        if group is None:
            group = self._group = self._operation.new_group()
            self._key = key
        group.add(flow.index, prepared)
        self._flows.append(flow)
        return closed

    def close(self) -> list[BulkUnit]:
        """The open group as a unit, if there is one."""
        if self._group is None:
            return []
        unit = BulkUnit(self._flows, group=self._group, held=self._held)
        self._group, self._key, self._flows, self._held = None, None, [], {}
        return [unit]

    def _alone(self, unit: BulkUnit) -> list[BulkUnit]:
        return [*self.close(), unit]  # the open group goes first: output stays in input order


async def _units(
    items: AsyncIterator[FlowItem], grouper: _Grouper, stop: RunStop | None
) -> AsyncIterator[BulkUnit]:
    try:
        async for flow in items:
            if stop is not None and stop.requested:
                continue  # the run is stopping: its input is read to the end, nothing is sent
            for unit in grouper.add(flow):
                yield unit
    except PlivoNodeError:
        # An unreadable row ends the input there: the group before it is still sent.
        for unit in grouper.close():
            yield unit
        raise
    for unit in grouper.close():
        yield unit


async def run_bulk_step(
    step: Step,
    items: AsyncIterator[FlowItem],
    client: ApiClient,
    *,
    operation: BulkOperation[Any],
    replay: Replay | None = None,
    begin: BeginHook | None = None,
    record: RecordHook | None = None,
    stop: RunStop | None = None,
) -> AsyncIterator[tuple[FlowItem, ItemResult]]:
    """Like :func:`plivo_node.run.engine.run_step`, sending consecutive compatible items together.

    Items are prepared (parameters resolved, checks made, request built) one by one in input
    order; an item recorded by an earlier run closes the group before it so that output order
    is kept, and so does one that fails preparation under stopWorkflow (otherwise it is held in
    the group, see :class:`BulkUnit`). Groups and failed items go through the engine's
    scheduler as units: at most ``step.concurrency`` requests are in flight and at most twice
    that many units are held; under stopWorkflow the first failing item stops the step as in
    ``run_step`` (no request starts after it); an open group that was never sent is dropped.
    ``begin`` marks a group's items in flight when its request is being written; ``record``
    gets every item's result.
    """

    async def run_unit(unit: BulkUnit) -> Results:
        if unit.group is None:
            assert unit.result is not None
            results = [unit.result]
        else:
            sent = iter(await _send(step, client, unit.group, unit.members()))
            results = [unit.held.get(position) or next(sent) for position in range(len(unit.flows))]
        if record is not None:
            for result in results:
                record(result)
        return list(zip(unit.flows, results, strict=True))

    async def mark(unit: BulkUnit) -> None:
        if begin is not None:
            await begin([flow.index for flow in unit.members()])

    grouper = _Grouper(step, client, operation, replay)
    async for _unit, results in schedule(
        step,
        _units(items, grouper, stop),
        run_unit,
        failure=_first_failure,
        max_window=step.concurrency * 2,
        replay=_replayed,
        mark=mark if begin is not None else None,
        stop=stop,
    ):
        for flow, result in results:
            yield flow, result


async def _send(
    step: Step, client: ApiClient, group: BulkGroup[Any], flows: list[FlowItem]
) -> list[ItemResult]:
    """Send a group's one request; every member gets its result, in member order."""
    try:
        outcomes = await group.send(client)
    except PlivoNodeError as exc:
        return [error_result(step, flow, _for_item(exc, flow.index)) for flow in flows]
    if len(outcomes) != len(flows):
        raise RuntimeError(
            f"node '{step.node}': a bulk group of {len(flows)} items gave {len(outcomes)} results"
        )
    return [_member_result(step, flow, o) for flow, o in zip(flows, outcomes, strict=True)]


def _replayed(unit: BulkUnit) -> Results | None:
    if unit.replayed and unit.result is not None:
        return [(unit.flows[0], unit.result)]
    return None


def _first_failure(results: Results) -> PlivoNodeError | None:
    return next((result.error for _, result in results if result.error is not None), None)


def _for_item(exc: PlivoNodeError, index: int) -> PlivoNodeError:
    """A copy of a group's error for one of its items (each names its own item)."""
    # Not copy.copy: exceptions rebuild from their args, and ours take keyword arguments.
    item_error = type(exc).__new__(type(exc))
    item_error.__dict__.update(exc.__dict__)
    item_error.args = exc.args
    item_error.item_index = index
    return item_error


def _member_result(step: Step, flow: FlowItem, outcome: JsonObject | PlivoNodeError) -> ItemResult:
    if isinstance(outcome, PlivoNodeError):
        return error_result(step, flow, _for_item(outcome, flow.index))
    return ItemResult(flow.index, (OutputItem(outcome, flow.index),))
