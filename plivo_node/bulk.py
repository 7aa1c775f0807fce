"""Bulk sends: consecutive items that differ only in their destination share one request.

Plivo's Message API takes up to 1,000 unique destinations joined by ``<`` in one request and
answers with one message UUID per valid unique destination, in order, plus ``invalid_number``
for destinations it refused. A step with ``bulk: true`` groups consecutive items whose
requests are otherwise identical (sender or Powerpack, text, type, media, callback, ...), sends
each group once, and gives every input item its own output: its UUID, its ``invalid_number``
error, or a note that an earlier item of the group already had its destination.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from plivo_node.context import ApiClient, JsonObject, OperationContext
from plivo_node.engine import (
    FlowItem,
    ItemResult,
    OnError,
    OutputItem,
    Replay,
    Step,
    StepStopped,
    error_result,
    item_context,
)
from plivo_node.errors import BadRequestError, PlivoNodeError
from plivo_node.validation.phone import BULK_SEPARATOR, MAX_BULK_DESTINATIONS

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

_Unit = asyncio.Future[list[tuple[FlowItem, ItemResult]]]


class _BulkRun:
    """The state of one bulk step: the open group and the ordered window of units in flight."""

    def __init__(
        self,
        step: Step,
        client: ApiClient,
        *,
        prepare: Prepare,
        replay: Replay | None,
        begin: BeginHook | None,
        record: RecordHook | None,
    ) -> None:
        self.step = step
        self.client = client
        self.prepare = prepare
        self.replay = replay
        self.begin = begin
        self.record = record
        self.semaphore = asyncio.Semaphore(step.concurrency)
        self.window: deque[_Unit] = deque()
        self.group: BulkGroup | None = None
        self.flows: dict[int, FlowItem] = {}

    def take(self, flow: FlowItem) -> None:
        """Add an item: to the open group, or as a ready result of its own."""
        stored = self.replay(flow) if self.replay is not None else None
        if stored is not None:
            self._single(flow, stored)
            return
        try:
            prepared = self.prepare(item_context(self.step, flow, self.client))
        except PlivoNodeError as exc:
            result = error_result(self.step, flow, exc)
            if self.record is not None:
                self.record(result)
            self._single(flow, result)
            return
        key = group_key(prepared.body)
        if self.group is not None and (self.group.key != key or not self.group.fits(prepared)):
            self.close_group()
        if self.group is None:
            self.group = BulkGroup(key)
        self.group.add(flow.index, prepared)
        self.flows[flow.index] = flow

    def close_group(self) -> None:
        if self.group is not None:
            self.window.append(asyncio.ensure_future(self._send(self.group)))
            self.group = None

    def _single(self, flow: FlowItem, result: ItemResult) -> None:
        self.close_group()  # keeps output in input order
        future: _Unit = asyncio.get_running_loop().create_future()
        future.set_result([(flow, result)])
        self.window.append(future)

    async def _send(self, group: BulkGroup) -> list[tuple[FlowItem, ItemResult]]:
        indices = [index for index, _ in group.members]
        async with self.semaphore:
            if self.begin is not None:
                await self.begin(indices)
            try:
                response = await self.client.request("POST", "Message/", body=group.body())
            except PlivoNodeError as exc:
                results = [
                    error_result(self.step, self.flows[i], _for_item(exc, i)) for i in indices
                ]
            else:
                outcomes = split_response(group, response.body or {})
                results = [_member_result(self.step, self.flows[o.index], o) for o in outcomes]
        if self.record is not None:
            for result in results:
                self.record(result)
        return [(self.flows.pop(r.index), r) for r in results]


async def run_bulk_step(
    step: Step,
    items: AsyncIterator[FlowItem],
    client: ApiClient,
    *,
    prepare: Prepare,
    replay: Replay | None = None,
    begin: BeginHook | None = None,
    record: RecordHook | None = None,
) -> AsyncIterator[tuple[FlowItem, ItemResult]]:
    """Like :func:`plivo_node.engine.run_step`, sending consecutive compatible items together.

    Items are prepared (parameters resolved, checks made, request built) one by one in input
    order; an item that fails preparation, or was recorded by an earlier run, closes the group
    before it so that output order is kept. At most ``step.concurrency`` requests are in flight
    and at most twice that many groups are held. Under stopWorkflow the first failing item stops
    the step as in ``run_step``; an open group that was never sent is dropped.
    """
    run = _BulkRun(step, client, prepare=prepare, replay=replay, begin=begin, record=record)
    stopped: StepStopped | None = None
    source = aiter(items)
    exhausted = False
    source_error: PlivoNodeError | None = None  # an unreadable row ends the input there
    try:
        while True:
            while not exhausted and stopped is None and len(run.window) < step.concurrency * 2:
                try:
                    run.take(await anext(source))
                except StopAsyncIteration:
                    exhausted = True
                except PlivoNodeError as exc:
                    source_error = exc
                    exhausted = True
            if exhausted and stopped is None:
                run.close_group()
            if not run.window:
                break
            for flow, result in await run.window.popleft():
                if result.error is not None and step.on_error is OnError.STOP_WORKFLOW:
                    stopped = stopped or StepStopped(step.name, result.error)
                yield flow, result
    finally:
        for unit in run.window:
            unit.cancel()
    if stopped is not None:
        raise stopped
    if source_error is not None:
        raise source_error


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
