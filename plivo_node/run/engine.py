"""The executor: items in, items out, in order, each paired with the input item it came from.

One step runs one node's (resource, operation) over a stream of items. For every input item it
resolves the parameters, calls the operation's handler and turns the result (or the error) into
output items: a handler's plain json objects go to the first output, :class:`Routed` ones to
the output they name (If's false branch). Items run concurrently, at most ``concurrency`` at
a time, but their output leaves in input order; the window of items held in memory is bounded,
so a step streams.

What happens to a failing item is the step's ``onError`` (n8n's semantics):

- ``stopWorkflow`` (default): the first failing item stops the run: no request starts after
  it, in this step or any other (items still waiting for the rate limiter are dropped, not
  sent); items already done or being written (including ones after it) are still emitted,
  and the error names the first failing item in input order.
- ``continueRegularOutput``: an error item ``{"json": {"error": msg}}`` takes its place in the
  main output.
- ``continueErrorOutput``: the error item goes to the error output (the one after the node's
  own outputs: output 1 for most nodes, 2 for If): the input item's json plus an ``error``
  field, so the failing row stays visible. Its secret fields (those a secret parameter such
  as an endpoint password reads, and any named token/password/secret) are masked, never
  copied.

Each item runs in its own secrets scope (:func:`plivo_node.core.redaction.item_secrets`): the values
of its secret parameters and fields are masked in its error item, its messages and its outputs.

A per-item failure never escapes as an exception (n8n's "raising node" bug): it is always an
error item; under stopWorkflow the step also ends with :class:`StepStopped` once every result
produced so far has been yielded.

Per-item steps and bulk steps (:mod:`plivo_node.run.bulk`) share one scheduler, :func:`schedule`,
which runs units of work (an item, or a bulk group) through a pool of workers and yields their
results in order. A unit is "in flight" only once the transport is about to write its first
request that is not a read (the :data:`plivo_node.core.api.before_write` hook): that is where
the journal marks a send, and what a stop (:class:`RunStop`) lets finish.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from plivo_node.core.api import ApiClient, before_write
from plivo_node.core.errors import ItemError, PlivoNodeError
from plivo_node.core.items import BinaryData, Item, JsonObject
from plivo_node.core.node import (
    OperationContext,
    Routed,
)
from plivo_node.core.redaction import (
    has_item_secrets,
    item_secrets,
    mask_fields,
    redact_json,
    secret_values,
)
from plivo_node.expressions import ExpressionContext
from plivo_node.run.item_io import encode_line
from plivo_node.run.send_window import Deferred
from plivo_node.run.step import OnError, Resolver, Step

__all__ = ["OnError", "Resolver", "Step"]  # defined in plivo_node.run.step, used with the engine


MAIN_OUTPUT = 0
# There is no fixed error output: it is the one after the node's own outputs
# (Step.error_output: 1 for most nodes, 2 for If), as the graph loader numbers them.


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
    # Binary entries the item carries on to the next step (not written to the output file).
    binary: Mapping[str, BinaryData] = field(default_factory=dict)

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
    if step.send_window is not None:
        parameter = step.send_window.parameter_of(step.resource, step.operation)
        step.send_window.admit(parameter, params.get(parameter))  # raises Deferred: not now
    return OperationContext(
        params=params,
        item=flow.item,
        item_index=flow.index,
        client=client,
        type_version=step.type_version,
        error_output=step.on_error is OnError.CONTINUE_ERROR_OUTPUT,
    )


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
        produced = await step.handler(item_context(step, flow, client))
        outputs = tuple(_output_item(step, flow.index, out) for out in produced)
    except PlivoNodeError as exc:
        return error_result(step, flow, exc)
    return ItemResult(index=flow.index, outputs=outputs)


def _output_item(step: Step, index: int, out: JsonObject | Routed) -> OutputItem:
    if not isinstance(out, Routed):
        return OutputItem(json=out, paired_item=index)
    # The error output (continueErrorOutput) is the node's too: n8n's Filter sends its
    # discarded items there.
    has_error_output = step.on_error is OnError.CONTINUE_ERROR_OUTPUT
    if not 0 <= out.output < len(step.outputs) + has_error_output:
        names = ", ".join(f"{n}: {name}" for n, name in enumerate(step.outputs))
        raise ItemError(
            f"node '{step.node}' sent an item to output {out.output}, but it has only the "
            f"outputs {names}",
            hint="this is a bug of the node type; report it to its authors",
        )
    return OutputItem(json=out.json, paired_item=index, output=out.output, binary=out.binary)


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
            out = OutputItem(merged, flow.index, output=step.error_output, error=error)
        else:
            out = OutputItem({"error": str(exc)}, flow.index, output=MAIN_OUTPUT, error=error)
    return ItemResult(index=flow.index, outputs=(out,), error=exc)


class RunStop:
    """A request, shared by every step of a run, to start nothing new.

    :meth:`request` is the graceful stop (the first SIGINT or SIGTERM, or a stopWorkflow
    failure in any step): no unit of work starts any more, units still waiting for their turn
    (in the rate limiter, the pacer, or a read before their send) are abandoned unsent and
    unrecorded, so a resume sends them, and units already writing their request run to their
    end and are recorded. :meth:`force` (a second signal) abandons those too: they stay in
    flight in the journal, and a resume reports them as ``unknown_outcome``.
    """

    def __init__(self) -> None:
        self.requested = False
        self.forced = False
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` on :meth:`request` and :meth:`force` (it reads ``forced``)."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.remove(listener)

    def request(self) -> None:
        if self.requested:
            return
        self.requested = True
        for listener in tuple(self._listeners):
            listener()

    def force(self) -> bool:
        """Stop at once; ``False`` when no step was running to be stopped."""
        self.forced = True
        self.requested = True
        listeners = tuple(self._listeners)
        for listener in listeners:
            listener()
        return bool(listeners)


U = TypeVar("U")  # a unit of work: one item, or a bulk group
R = TypeVar("R")  # what a unit produces


class _Worker:
    """One worker's state, read by the stop listener and by the before-write hook."""

    __slots__ = ("abandoned", "busy", "task", "unit", "writing")

    def __init__(self) -> None:
        self.task: asyncio.Future[None] | None = None
        self.unit: Any = None
        self.busy = False  # running a unit
        self.writing = False  # that unit's request is being written: it runs to its end
        self.abandoned = False  # cancelled by a stop: its unit counts as never started


class _Workers(Generic[U, R]):
    """``concurrency`` long-lived workers that take submitted units in input order.

    A pool rather than a task and a semaphore per unit: at thousands of items per second the
    per-item task and its wake-up are a noticeable share of the engine's cost. Because units
    are taken first-in first-out, every unit before a given one has started when it starts.
    Each worker sets the :data:`before_write` hook for the unit it runs: the hook marks the
    unit in flight (``mark``) when the transport is about to write its first request that is
    not a read, and from then on a graceful stop lets the unit finish.
    """

    def __init__(
        self,
        concurrency: int,
        run_unit: Callable[[U], Awaitable[R]],
        *,
        mark: Callable[[U], Awaitable[None]] | None,
        failure: Callable[[R], PlivoNodeError | None] | None,
        stop: RunStop,
    ) -> None:
        self._run_unit = run_unit
        self._mark = mark
        # Under stopWorkflow: a failed result requests the stop.
        self._failure = failure
        self._stop = stop
        self._loop = asyncio.get_running_loop()
        self._queue: deque[tuple[U, asyncio.Future[R | None]]] = deque()
        self._idle: deque[asyncio.Future[None]] = deque()
        self._closed = False
        self._workers = [_Worker() for _ in range(max(concurrency, 1))]
        for worker in self._workers:
            worker.task = asyncio.ensure_future(self._work(worker))
        stop.subscribe(self._on_stop)

    def submit(self, unit: U) -> asyncio.Future[R | None]:
        """Queue a unit; its future gets the result, or None if it never started."""
        future: asyncio.Future[R | None] = self._loop.create_future()
        if self._stop.requested:
            future.set_result(None)
            return future
        self._queue.append((unit, future))
        if self._idle:
            self._idle.popleft().set_result(None)
        return future

    def ready(self, result: R) -> asyncio.Future[R | None]:
        """A result known without running its unit (replayed), to queue in the window."""
        future: asyncio.Future[R | None] = self._loop.create_future()
        future.set_result(result)
        return future

    def close(self) -> None:
        """No more units: idle workers finish."""
        self._closed = True
        while self._idle:
            self._idle.popleft().set_result(None)

    def cancel(self) -> None:
        self._stop.unsubscribe(self._on_stop)
        for worker in self._workers:
            assert worker.task is not None
            worker.task.cancel()

    def _on_stop(self) -> None:
        """Abandon queued units and running ones not yet writing (all of them if forced)."""
        forced = self._stop.forced
        while self._queue:
            _, future = self._queue.popleft()
            if not future.done():
                future.set_result(None)
        for worker in self._workers:
            if worker.busy and (forced or not worker.writing) and not worker.abandoned:
                worker.abandoned = True
                assert worker.task is not None
                worker.task.cancel()

    def _before_write(self, worker: _Worker) -> Awaitable[None] | None:
        """The worker's :data:`before_write` hook (not a coroutine: most calls mark nothing)."""
        if worker.writing:
            return None
        if self._stop.requested:  # the stop's cancellation is on its way: do not write
            worker.abandoned = True
            raise asyncio.CancelledError
        worker.writing = True
        return self._mark(worker.unit) if self._mark is not None else None

    async def _work(self, worker: _Worker) -> None:
        before_write.set(functools.partial(self._before_write, worker))
        queue = self._queue
        while True:
            while not queue:
                if self._closed:
                    return
                waiter: asyncio.Future[None] = self._loop.create_future()
                self._idle.append(waiter)
                await waiter
            unit, future = queue.popleft()
            if future.done():  # cancelled by the consumer
                continue
            if self._stop.requested:
                future.set_result(None)
                continue
            worker.unit = unit
            worker.writing = worker.abandoned = False
            worker.busy = True
            try:
                result = await self._run_unit(unit)
            except Deferred:
                # Outside its send window: never started, like a unit a stop abandoned.
                worker.busy = False
                if not future.done():
                    future.set_result(None)
                continue
            except asyncio.CancelledError:
                worker.busy = False
                if not worker.abandoned:
                    raise  # the step itself is being torn down
                worker.abandoned = False
                asyncio.current_task().uncancel()  # type: ignore[union-attr]
                if not future.done():
                    future.set_result(None)
                continue
            except Exception as exc:  # noqa: BLE001 - a bug below the handlers: re-raised in order
                worker.busy = False
                if not future.done():
                    future.set_exception(exc)
                continue
            worker.busy = False
            if self._failure is not None and self._failure(result) is not None:
                self._stop.request()
            if not future.done():
                future.set_result(result)


async def schedule(
    step: Step,
    source: AsyncIterator[U],
    run_unit: Callable[[U], Awaitable[R]],
    *,
    failure: Callable[[R], PlivoNodeError | None],
    max_window: int,
    replay: Callable[[U], R | None] | None = None,
    mark: Callable[[U], Awaitable[None]] | None = None,
    stop: RunStop | None = None,
) -> AsyncIterator[tuple[U, R]]:
    """The one ordered-window scheduler: run ``source``'s units, yield their results in order.

    A unit is one item (:func:`run_step`) or one bulk group (:mod:`plivo_node.run.bulk`). At most
    ``step.concurrency`` units run at once and at most ``max_window`` are held waiting for an
    earlier one, so memory does not grow with the batch. ``replay`` gives a unit's result
    recorded by an earlier, interrupted run (it is not run again); ``mark`` is awaited when a
    unit's first request that is not a read is about to be written (the journal's in-flight
    mark); ``failure`` tells whether a result failed.

    Under stopWorkflow the first failing unit requests the run's ``stop`` as soon as it ends:
    no other unit starts, units waiting for their turn are abandoned, units already writing
    finish. Every result produced is yielded (so nothing sent goes unreported), then
    :class:`StepStopped` names the first failure in input order. A failure replayed from an
    interrupted run was already reported: resuming goes on past it.

    Once ``stop`` is requested, units not yet started are not run and not yielded. A ``stop``
    shared by the steps of a run is also a promise that the run's input ends once it is
    requested: the source is then read to its end without starting anything, so that an
    earlier step's units in flight are reported too.
    """
    shared = stop is not None
    stop = stop if stop is not None else RunStop()
    stops_on_error = step.on_error is OnError.STOP_WORKFLOW
    workers: _Workers[U, R] = _Workers(
        step.concurrency,
        run_unit,
        mark=mark,
        failure=failure if stops_on_error else None,
        stop=stop,
    )
    # (unit, its result to come, whether it runs now: a replayed failure does not stop the step)
    window: deque[tuple[U, asyncio.Future[R | None], bool]] = deque()
    first_failure: PlivoNodeError | None = None
    exhausted = False
    # An unreadable input row ends the input there: the units before it still run and are
    # reported, then the error is raised.
    source_error: PlivoNodeError | None = None
    try:
        while True:
            while not exhausted and not stop.requested and len(window) < max_window:
                try:
                    unit = await anext(source)
                except StopAsyncIteration:
                    exhausted = True
                    break
                except PlivoNodeError as exc:
                    source_error = exc
                    exhausted = True
                    break
                stored = replay(unit) if replay is not None else None
                if stored is None:
                    window.append((unit, workers.submit(unit), True))
                else:
                    window.append((unit, workers.ready(stored), False))
            if exhausted:
                workers.close()
            if not window:
                break
            unit, pending, fresh = window.popleft()
            result = await pending
            if result is None:
                continue
            if fresh and stops_on_error and first_failure is None:
                first_failure = failure(result)
            yield unit, result
        if shared and not exhausted:
            source_error = await _drain(source)
    finally:
        workers.cancel()
        for _, future, _ in window:
            future.cancel()
    if first_failure is not None:
        raise StepStopped(step.name, first_failure)
    if source_error is not None:
        raise source_error


async def _drain(source: AsyncIterator[Any]) -> PlivoNodeError | None:
    """Read a stopping run's source to its end (earlier steps report their last units)."""
    try:
        async for _ in source:
            pass
    except PlivoNodeError as exc:
        return exc
    return None


async def run_step(
    step: Step,
    items: AsyncIterator[FlowItem],
    client: ApiClient,
    *,
    replay: Replay | None = None,
    run_one: Callable[[Step, FlowItem, ApiClient], Awaitable[ItemResult]] = run_item,
    mark: Callable[[FlowItem], Awaitable[None]] | None = None,
    stop: RunStop | None = None,
) -> AsyncIterator[tuple[FlowItem, ItemResult]]:
    """Run ``step`` over ``items`` one item per unit; yield each item with its result, in order.

    See :func:`schedule`. ``run_one`` lets the run wrap each item (the journal records
    outcomes there) and ``mark`` marks an item in flight when its send is being written.
    """

    async for flow, result in schedule(
        step,
        items,
        lambda flow: run_one(step, flow, client),
        failure=_item_failure,
        max_window=max(step.window, step.concurrency * 2),
        replay=replay,
        mark=mark,
        stop=stop,
    ):
        yield flow, result


def _item_failure(result: ItemResult) -> PlivoNodeError | None:
    return result.error
