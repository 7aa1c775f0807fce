"""Bulk sends: consecutive items that differ only in their destination share one request.

Plivo's Message API takes up to 1,000 unique destinations joined by ``<`` in one request and
answers with one message UUID per valid unique destination, in order, plus ``invalid_number``
for destinations it refused. A step with ``bulk: true`` groups consecutive items whose
requests are otherwise identical (sender or Powerpack, text, type, media, callback, ...), sends
each group once, and gives every input item its own output: its UUID, its ``invalid_number``
error, or a note that an earlier item of the group already had its destination.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from plivo_node.core.errors import BadRequestError, PlivoNodeError
from plivo_node.core.items import ApiClient, JsonObject, OperationContext
from plivo_node.nodes.plivo.validation.phone import BULK_SEPARATOR, MAX_BULK_DESTINATIONS
from plivo_node.run.engine import (
    FlowItem,
    ItemResult,
    OutputItem,
    Replay,
    RunStop,
    Step,
    error_result,
    item_context,
    schedule,
)

# Plivo's bulk limit and separator, as the phone checks apply them.
MAX_UNIQUE_DESTINATIONS = MAX_BULK_DESTINATIONS
DESTINATION_FIELD = "dst"


class PreparedSend(Protocol):
    """A validated request for one item, not yet sent (see ``resources.sms.prepare``)."""

    @property
    def body(self) -> Mapping[str, Any]: ...

    @property
    def destinations(self) -> Sequence[str]: ...

    def output(self, response: Mapping[str, Any]) -> JsonObject: ...


def group_key(body: Mapping[str, Any]) -> str:
    """Requests with the same key differ only in their destination."""
    return json.dumps(
        {k: v for k, v in body.items() if k != DESTINATION_FIELD}, sort_keys=True, default=str
    )


@dataclass
class BulkGroup:
    """Consecutive prepared items sharing one request."""

    key: str
    members: list[tuple[int, PreparedSend]] = field(default_factory=list)
    # Each unique destination, in first-seen order, with the member index that brought it.
    owners: dict[str, int] = field(default_factory=dict)

    def fits(self, prepared: PreparedSend) -> bool:
        new = [d for d in dict.fromkeys(prepared.destinations) if d not in self.owners]
        return len(self.owners) + len(new) <= MAX_UNIQUE_DESTINATIONS

    def add(self, index: int, prepared: PreparedSend) -> None:
        self.members.append((index, prepared))
        for destination in prepared.destinations:
            self.owners.setdefault(destination, index)

    def body(self) -> dict[str, Any]:
        """The one request for the whole group."""
        body = dict(self.members[0][1].body)
        body[DESTINATION_FIELD] = BULK_SEPARATOR.join(self.owners)
        return body


@dataclass(frozen=True)
class MemberOutcome:
    """What one item of a bulk group gets back."""

    index: int
    output: JsonObject | None
    error: BadRequestError | None = None


def split_response(group: BulkGroup, response: Mapping[str, Any]) -> list[MemberOutcome]:
    """Give each member its share of a bulk answer, matched by position.

    UUIDs are handed out in order to the unique destinations that Plivo did not list in
    ``invalid_number``, which is the order in which Plivo queues them.
    """
    invalid = {str(n) for n in response.get("invalid_number") or []}
    uuids = iter(response.get("message_uuid") or [])
    uuid_of: dict[str, str] = {}
    for destination in group.owners:
        if destination not in invalid:
            uuid_of[destination] = next(uuids, "")
    outcomes: list[MemberOutcome] = []
    for index, prepared in group.members:
        outcomes.append(
            _member_outcome(
                index,
                prepared=prepared,
                group=group,
                response=response,
                invalid=invalid,
                uuid_of=uuid_of,
            )
        )
    return outcomes


def _member_outcome(
    index: int,
    *,
    prepared: PreparedSend,
    group: BulkGroup,
    response: Mapping[str, Any],
    invalid: set[str],
    uuid_of: Mapping[str, str],
) -> MemberOutcome:
    mine = [d for d in dict.fromkeys(prepared.destinations) if group.owners[d] == index]
    refused = [d for d in mine if d in invalid]
    duplicates = {d: group.owners[d] for d in prepared.destinations if group.owners[d] != index}
    if refused and len(refused) == len(mine) and not duplicates:
        error = BadRequestError(
            status=400,
            method="POST",
            path="Message/",
            api_id=response.get("api_id"),
            error_text=f"invalid destination number(s): {', '.join(refused)}",
        )
        return MemberOutcome(index, None, error)
    share: dict[str, Any] = {
        "api_id": response.get("api_id"),
        "message": response.get("message"),
        "message_uuid": [uuid_of[d] for d in mine if d in uuid_of],
    }
    if refused:
        share["invalid_number"] = refused
    output = prepared.output(share)
    output["bulk_size"] = len(group.owners)
    if duplicates:
        # Plivo sends one message per unique destination: this item's was already queued.
        output["duplicate_of"] = {d: f"item {owner}" for d, owner in duplicates.items()}
        output["message_uuid"] = [uuid_of.get(d, "") for d in duplicates] + output.get(
            "message_uuid", []
        )
        if not mine:
            output["status"] = "duplicate"
    return MemberOutcome(index, output)


# --- running a bulk step -------------------------------------------------------------------

Prepare = Callable[[OperationContext], PreparedSend]
BeginHook = Callable[[Sequence[int]], Awaitable[None]]
RecordHook = Callable[[ItemResult], None]
Results = list[tuple[FlowItem, ItemResult]]


@dataclass
class BulkUnit:
    """A bulk step's unit of work for the scheduler: a group to send, or one item's result.

    An item whose preparation failed is a unit of its own, run in its turn like a group (so
    that under stopWorkflow it stops the step where it stands); a replayed item is a unit
    whose result is already known.
    """

    flows: list[FlowItem]
    group: BulkGroup | None = None
    result: ItemResult | None = None
    replayed: bool = False


class _Grouper:
    """Turns a bulk step's items, in order, into units: open groups closed as items arrive."""

    def __init__(
        self, step: Step, client: ApiClient, prepare: Prepare, replay: Replay | None
    ) -> None:
        self._step = step
        self._client = client
        self._prepare = prepare
        self._replay = replay
        self._group: BulkGroup | None = None
        self._flows: list[FlowItem] = []

    def add(self, flow: FlowItem) -> list[BulkUnit]:
        """Take an item; return the units it closes (an item of its own closes the group)."""
        stored = self._replay(flow) if self._replay is not None else None
        if stored is not None:
            return self._alone(BulkUnit([flow], result=stored, replayed=True))
        try:
            prepared = self._prepare(item_context(self._step, flow, self._client))
        except PlivoNodeError as exc:
            return self._alone(BulkUnit([flow], result=error_result(self._step, flow, exc)))
        key = group_key(prepared.body)
        closed: list[BulkUnit] = []
        group = self._group
        if group is not None and (group.key != key or not group.fits(prepared)):
            closed = self.close()
            group = None
        if group is None:
            group = self._group = BulkGroup(key)
        group.add(flow.index, prepared)
        self._flows.append(flow)
        return closed

    def close(self) -> list[BulkUnit]:
        """The open group as a unit, if there is one."""
        if self._group is None:
            return []
        unit = BulkUnit(self._flows, group=self._group)
        self._group, self._flows = None, []
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
    prepare: Prepare,
    replay: Replay | None = None,
    begin: BeginHook | None = None,
    record: RecordHook | None = None,
    stop: RunStop | None = None,
) -> AsyncIterator[tuple[FlowItem, ItemResult]]:
    """Like :func:`plivo_node.run.engine.run_step`, sending consecutive compatible items together.

    Items are prepared (parameters resolved, checks made, request built) one by one in input
    order; an item that fails preparation, or was recorded by an earlier run, closes the group
    before it so that output order is kept. Groups and failed items go through the engine's
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
            results = await _send(step, client, unit.group, unit.flows)
        if record is not None:
            for result in results:
                record(result)
        return list(zip(unit.flows, results, strict=True))

    async def mark(unit: BulkUnit) -> None:
        if begin is not None:
            await begin([flow.index for flow in unit.flows])

    grouper = _Grouper(step, client, prepare, replay)
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
    step: Step, client: ApiClient, group: BulkGroup, flows: list[FlowItem]
) -> list[ItemResult]:
    """Send a group's one request; every member gets its result, in member order."""
    try:
        response = await client.request("POST", "Message/", body=group.body())
    except PlivoNodeError as exc:
        return [error_result(step, flow, _for_item(exc, flow.index)) for flow in flows]
    outcomes = split_response(group, response.body or {})
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


def _member_result(step: Step, flow: FlowItem, outcome: MemberOutcome) -> ItemResult:
    if outcome.error is not None:
        return error_result(step, flow, _for_item(outcome.error, flow.index))
    assert outcome.output is not None
    return ItemResult(flow.index, (OutputItem(outcome.output, flow.index),))
