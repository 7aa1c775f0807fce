"""The executor: items in, items out, in order, each paired with the input item it came from.

One step runs one (resource, operation) over a stream of items. For every input item it
resolves the parameters, calls the operation's handler and turns the result (or the error) into
output items. Items run concurrently, at most ``concurrency`` at a time, but their output
leaves in input order; the window of items held in memory is bounded, so a step streams.

What happens to a failing item is the step's ``onError`` (n8n's semantics):

- ``stopWorkflow`` (default): the first failing item, in input order, stops the step; items
  already done (including ones after it that were in flight) are still emitted, and the error
  names the item.
- ``continueRegularOutput``: an error item ``{"json": {"error": msg}}`` takes its place in the
  main output.
- ``continueErrorOutput``: the error item goes to the error output (output 1): the input item's
  json plus an ``error`` field, so the failing row stays visible. Its secret fields (those a
  secret parameter such as an endpoint password reads, and any named token/password/secret)
  are masked, never copied.

Each item runs in its own secrets scope (:func:`plivo_node.redaction.item_secrets`): the values
of its secret parameters and fields are masked in its error item, its messages and its outputs.

A per-item failure never escapes as an exception (n8n's "raising node" bug): it is always an
error item; under stopWorkflow the step also ends with :class:`StepStopped` once every result
produced so far has been yielded.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from plivo_node.context import ApiClient, Handler, Item, JsonObject, OperationContext
from plivo_node.errors import PlivoNodeError
from plivo_node.expressions import ExpressionContext
from plivo_node.item_io import encode_line
from plivo_node.redaction import (
    has_item_secrets,
    item_secrets,
    mask_fields,
    redact_json,
    secret_values,
)


class OnError(StrEnum):
    STOP_WORKFLOW = "stopWorkflow"
    CONTINUE_REGULAR_OUTPUT = "continueRegularOutput"
    CONTINUE_ERROR_OUTPUT = "continueErrorOutput"


MAIN_OUTPUT = 0
ERROR_OUTPUT = 1


@dataclass(frozen=True)
class FlowItem:
    """An item travelling between steps: its position in the step's input, and its ancestry.

    ``ancestors`` maps an earlier step's name to the json of that step's output item this item
    descends from (followed through pairedItem); it is what ``$('Step').item.json`` reads.
    """

    index: int
    item: Item
    ancestors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputItem:
    """One output item of a step, paired with its input item."""

    json: JsonObject
    paired_item: int
    output: int = MAIN_OUTPUT
    error: Mapping[str, Any] | None = None

    def to_dict(self) -> JsonObject:
        data: JsonObject = {"json": self.json, "pairedItem": {"item": self.paired_item}}
        if self.error is not None:
            data["error"] = dict(self.error)
        return data

    @functools.cached_property
    def line(self) -> str:
        """The item as one line of JSON, encoded once for both the output file and the journal."""
        return encode_line(self.to_dict())


@dataclass(frozen=True)
class ItemResult:
    """Everything one input item produced."""

    index: int
    outputs: tuple[OutputItem, ...]
    error: PlivoNodeError | None = None


class StepStopped(PlivoNodeError):  # noqa: N818 - it is a stop signal, not a failure of ours
    """Raised under stopWorkflow when an item fails; the item's error is ``cause``."""

    code = "step_stopped"

    def __init__(self, step_name: str, cause: PlivoNodeError) -> None:
        super().__init__(f"step '{step_name}' stopped at item {cause.item_index}: {cause}")
        self.step_name = step_name
        self.cause = cause


# Results recorded by an earlier, interrupted run (resume): the item's result, or None to run it.
Replay = Callable[[FlowItem], ItemResult | None]


class Resolver(Protocol):
    """What the executor needs of :class:`plivo_node.parameters.ParameterResolver`."""

    @property
    def resource(self) -> str: ...

    @property
    def operation(self) -> str: ...

    def resolve(self, context: ExpressionContext) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Step:
    """One configured step of a pipeline, ready to run."""

    name: str
    resolver: Resolver
    handler: Handler
    on_error: OnError = OnError.STOP_WORKFLOW
    concurrency: int = 50
    # How many finished items may wait for an earlier, slower one (a send held by a timeout)
    # before no new item starts: large enough that one slow request does not stall the
    # batch, small enough that memory stays flat however large the batch is.
    window: int = 2048
    bulk: bool = False
    raw_parameters: Mapping[str, Any] = field(default_factory=dict)
    # Input fields a secret parameter reads: never copied into an error item, always masked.
    secret_fields: frozenset[str] = frozenset()
    # Whether a parameter is a secret (an endpoint password); False spares each item the cost
    # of its own secrets scope.
    secret_parameters: bool = True

    @property
    def resource(self) -> str:
        return self.resolver.resource

    @property
    def operation(self) -> str:
        return self.resolver.operation


def _step_item_lookup(flow: FlowItem) -> Callable[[str], Mapping[str, Any]]:
    def lookup(step_name: str) -> Mapping[str, Any]:
        return flow.ancestors[step_name]

    return lookup


def item_context(step: Step, flow: FlowItem, client: ApiClient) -> OperationContext:
    """Resolve the item's parameters into the context its handler gets (raises on bad input)."""
    expression_context = ExpressionContext(
        json=flow.item.json,
        item_index=flow.index,
        parameters=step.raw_parameters,
        binary=flow.item.binary,
        step_item=_step_item_lookup(flow),
    )
    params = step.resolver.resolve(expression_context)
    return OperationContext(params=params, item=flow.item, item_index=flow.index, client=client)


async def run_item(step: Step, flow: FlowItem, client: ApiClient) -> ItemResult:
    """Resolve, dispatch and wrap one item; every failure becomes part of the result."""
    if not step.secret_parameters:
        return await _run_item(step, flow, client)
    # Secret parameters register their values in this scope as they resolve.
    with item_secrets(secret_values(flow.item.json, step.secret_fields)):
        result = await _run_item(step, flow, client)
        if result.error is None and has_item_secrets():  # an answer echoing the password
            outputs = tuple(replace(out, json=redact_json(out.json)) for out in result.outputs)
            result = replace(result, outputs=outputs)
    return result


async def _run_item(step: Step, flow: FlowItem, client: ApiClient) -> ItemResult:
    try:
        jsons = await step.handler(item_context(step, flow, client))
    except PlivoNodeError as exc:
        return error_result(step, flow, exc)
    outputs = tuple(OutputItem(json=j, paired_item=flow.index) for j in jsons)
    return ItemResult(index=flow.index, outputs=outputs)


def error_result(step: Step, flow: FlowItem, exc: PlivoNodeError) -> ItemResult:
    """The error item that takes a failed item's place, per the step's onError."""
    if exc.item_index is None:
        exc.item_index = flow.index
    with item_secrets(secret_values(flow.item.json, step.secret_fields)):
        exc.redact_in_place()
        error = exc.to_dict()
        if step.on_error is OnError.CONTINUE_ERROR_OUTPUT:
            row = redact_json(mask_fields(flow.item.json, step.secret_fields))
            merged = {**row, "error": str(exc)}
            out = OutputItem(merged, flow.index, output=ERROR_OUTPUT, error=error)
        else:
            out = OutputItem({"error": str(exc)}, flow.index, output=MAIN_OUTPUT, error=error)
    return ItemResult(index=flow.index, outputs=(out,), error=exc)


class _Workers:
    """``concurrency`` long-lived workers that take submitted items in input order.

    A pool rather than a task and a semaphore per item: at thousands of items per second the
    per-item task and its wake-up are a noticeable share of the engine's cost. Because items
    are taken first-in first-out, every item before a given one has started when it starts.
    """

    def __init__(
        self,
        step: Step,
        client: ApiClient,
        run_one: Callable[[Step, FlowItem, ApiClient], Awaitable[ItemResult]],
    ) -> None:
        self._step = step
        self._client = client
        self._run_one = run_one
        self._stops_on_error = step.on_error is OnError.STOP_WORKFLOW
        self._loop = asyncio.get_running_loop()
        self._queue: deque[tuple[FlowItem, asyncio.Future[ItemResult | None]]] = deque()
        self._idle: deque[asyncio.Future[None]] = deque()
        self._closed = False
        # Under stopWorkflow, an item failed: no other item starts.
        self.stopping = False
        self._tasks = [asyncio.ensure_future(self._work()) for _ in range(max(step.concurrency, 1))]

    def submit(self, flow: FlowItem) -> asyncio.Future[ItemResult | None]:
        """Queue an item; its future gets the result, or None if it never started."""
        future: asyncio.Future[ItemResult | None] = self._loop.create_future()
        self._queue.append((flow, future))
        if self._idle:
            self._idle.popleft().set_result(None)
        return future

    def close(self) -> None:
        """No more items: idle workers finish."""
        self._closed = True
        while self._idle:
            self._idle.popleft().set_result(None)

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def _work(self) -> None:
        while True:
            while not self._queue:
                if self._closed:
                    return
                waiter: asyncio.Future[None] = self._loop.create_future()
                self._idle.append(waiter)
                await waiter
            flow, future = self._queue.popleft()
            if future.done():  # cancelled by the consumer
                continue
            if self.stopping:
                future.set_result(None)
                continue
            try:
                result = await self._run_one(self._step, flow, self._client)
            except Exception as exc:  # noqa: BLE001 - a bug below the handlers: re-raised in order
                if not future.done():
                    future.set_exception(exc)
                continue
            if result.error is not None and self._stops_on_error:
                self.stopping = True
            if not future.done():
                future.set_result(result)


async def run_step(
    step: Step,
    items: AsyncIterator[FlowItem],
    client: ApiClient,
    *,
    replay: Replay | None = None,
    run_one: Callable[[Step, FlowItem, ApiClient], Awaitable[ItemResult]] = run_item,
) -> AsyncIterator[tuple[FlowItem, ItemResult]]:
    """Run ``step`` over ``items``; yield each item with its result, in input order.

    At most ``step.concurrency`` items are in flight and at most ``step.window`` results are
    held waiting for an earlier item, so memory does not grow with the batch. ``replay``
    supplies results recorded by an earlier, interrupted run; ``run_one`` lets the run wrap each
    item (the journal records sends there).
    Under stopWorkflow the first failing item, in input order, ends the step: no new item
    starts, the failing item's result and those of items already in flight are yielded (so
    nothing sent goes unreported), then :class:`StepStopped` is raised. A failure replayed
    from an interrupted run was already reported: resuming goes on past it.
    """
    workers = _Workers(step, client, run_one)
    # (item, its result to come, whether it runs now: a replayed failure does not stop the step)
    window: deque[tuple[FlowItem, asyncio.Future[ItemResult | None], bool]] = deque()
    max_window = max(step.window, step.concurrency * 2)
    stop: StepStopped | None = None
    source = aiter(items)
    exhausted = False
    # An unreadable input row ends the input there: the items before it still run and are
    # reported, then the error is raised.
    source_error: PlivoNodeError | None = None
    try:
        while True:
            while not exhausted and not workers.stopping and len(window) < max_window:
                try:
                    flow = await anext(source)
                except StopAsyncIteration:
                    exhausted = True
                    workers.close()
                    break
                except PlivoNodeError as exc:
                    source_error = exc
                    exhausted = True
                    workers.close()
                    break
                stored = replay(flow) if replay is not None else None
                if stored is None:
                    window.append((flow, workers.submit(flow), True))
                else:
                    recorded: asyncio.Future[ItemResult | None] = (
                        asyncio.get_running_loop().create_future()
                    )
                    recorded.set_result(stored)
                    window.append((flow, recorded, False))
            if not window:
                break
            flow, pending, fresh = window.popleft()
            result = await pending
            if result is None:
                continue
            if fresh and result.error is not None and step.on_error is OnError.STOP_WORKFLOW:
                workers.stopping = True
                stop = stop or StepStopped(step.name, result.error)
            yield flow, result
    finally:
        workers.cancel()
        for _, future, _ in window:
            future.cancel()
    if stop is not None:
        raise stop
    if source_error is not None:
        raise source_error
