"""One run of a pipeline: input items → steps (a graph, streaming) → output file, journal, summary.

Steps run as streams over the pipeline's graph (:mod:`plivo_node.run.graph`): a step consumes
the items of its inputs as they are produced, so a batch of any size flows through with a
bounded number of items in memory; one output feeding several steps hands each of them every
item through a bounded channel, so the slowest reader sets the pace. As in n8n, a step with
several inputs runs once per input's data: each is its own lane
(:class:`plivo_node.run.graph.Lane`) with item positions from 0, and ``(lane, position)`` is
the journal's key, whatever the timing.

The output file holds the items of every terminal step (one without a successor) and the error
items no step reads:

- a straight pipeline (one terminal step): the last step's items untagged, earlier steps'
  error items tagged with ``"step": name``, exactly as before graphs;
- a graph with several terminal steps: every line tagged with its step.

Regular items on an output nothing reads (If's false branch left unconnected) are dropped, as
in n8n. The journal records each item's outcome so that an interrupted run can be resumed
without sending any item twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from plivo_node.core.api import NO_CLIENT, ApiClient
from plivo_node.core.errors import PlivoNodeError
from plivo_node.core.items import Item
from plivo_node.core.node import RunTally
from plivo_node.run.bulk import run_bulk_step
from plivo_node.run.engine import (
    FlowItem,
    ItemResult,
    OnError,
    OutputItem,
    RunStop,
    Step,
    StepStopped,
    run_item,
    run_step,
)
from plivo_node.run.graph import Graph, linear_graph
from plivo_node.run.item_io import encode_line
from plivo_node.run.journal import ItemJournal
from plivo_node.run.step_journal import StepJournal


@dataclass
class StepCounts:
    name: str
    items: int = 0
    succeeded: int = 0
    failed: int = 0


@dataclass
class RunSummary:
    """What the closing summary reports: per step, and failures by error code."""

    steps: list[StepCounts] = field(default_factory=list)  # in run order
    # The steps without a successor, whose items the output file holds.
    terminal: tuple[str, ...] = ()
    by_code: Counter[str] = field(default_factory=Counter)
    outputs: int = 0
    # Input items whose first step's result came from the journal on --resume, and the
    # results taken from it over every step (a later step's items included).
    resumed: int = 0
    resumed_results: int = 0
    # Each node type's share of the summary (messages counted, cost), by node name.
    tallies: Mapping[str, RunTally] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    stopped: StepStopped | None = None
    # Stopped from outside (a signal) before every item had run: a resume sends the rest.
    interrupted: bool = False

    @property
    def items(self) -> int:
        """Input items of the run (those of the first step)."""
        return self.steps[0].items if self.steps else 0

    @property
    def failed(self) -> int:
        return sum(s.failed for s in self.steps)

    @property
    def succeeded(self) -> int:
        """Items of the terminal steps that succeeded: a straight line's last step (for one
        step: the input items that succeeded); in a graph, the successful items of every step
        without a successor, over all of its lanes (an item that took both branches of a
        fan-out counts in each terminal step it reached)."""
        return sum(s.succeeded for s in self._terminal_counts)

    @property
    def terminal_failed(self) -> int:
        """Failed items of the terminal steps: with :attr:`succeeded`, what the output file
        holds when nothing was dropped or duplicated on the way."""
        return sum(s.failed for s in self._terminal_counts)

    @property
    def _terminal_counts(self) -> list[StepCounts]:
        if not self.terminal:
            return self.steps[-1:]
        return [s for s in self.steps if s.name in self.terminal]

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


# Receives each output item as one line of JSON (OutputWriter.write_line).
Sink = Callable[[str], None]

# How many items may wait between a step and each step it feeds when one output feeds several
# (fan-out): the slowest reader slows the writer down instead of items piling up.
CHANNEL_SIZE = 256

Results = AsyncIterator[tuple[FlowItem, ItemResult]]


async def _input_flow(items: Iterable[Item], stop: RunStop) -> AsyncIterator[FlowItem]:
    """The run's input items; no more once the run is asked to stop (what the steps expect)."""
    for index, item in enumerate(items):
        if stop.requested:
            return
        yield FlowItem(index, item)


class _Channel:
    """A bounded queue of one lane's input items, fed by a task, read by the lane's step."""

    _END: Any = object()

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue(CHANNEL_SIZE)

    async def put(self, flow: FlowItem) -> None:
        await self._queue.put(flow)

    async def close(self) -> None:
        await self._queue.put(self._END)

    async def __aiter__(self) -> AsyncIterator[FlowItem]:
        while (flow := await self._queue.get()) is not self._END:
            yield flow


class _Router:
    """Where one lane's output items go: the lanes it feeds, the output file, or nowhere.

    - A terminal step (no successor) writes every output item to the output file: untagged
      when it is the graph's only terminal step (a straight pipeline's last step, as always),
      tagged with ``"step"`` when there are several.
    - Otherwise an output with successor lanes feeds each of them (a stopWorkflow error item
      feeds none: it goes to the output file, tagged, as it always did); on an unconnected
      output an error item goes to the output file tagged, and a regular item is dropped,
      as n8n drops the items of an output nothing reads (If's unconnected false branch).

    Each target lane numbers the items it gets from 0, in this lane's output order.
    """

    def __init__(
        self, step: Step, targets: Mapping[int, tuple[int, ...]], *, terminal: bool, tag: bool
    ) -> None:
        self.step = step
        self._targets = targets
        self._terminal = terminal
        self._tag = tag
        self._positions = dict.fromkeys((t for ts in targets.values() for t in ts), 0)
        self._stopping = step.on_error is OnError.STOP_WORKFLOW

    @property
    def feeds(self) -> tuple[int, ...]:
        return tuple(self._positions)

    def route(
        self, flow: FlowItem, result: ItemResult, sink: Sink, summary: RunSummary
    ) -> list[tuple[int, FlowItem]]:
        """Write what goes to the output file; return the ``(lane, item)`` pairs to pass on."""
        name = self.step.name
        passed: list[tuple[int, FlowItem]] = []
        for out in result.outputs:
            if self._terminal:
                sink(encode_line(_tagged(out, name)) if self._tag else out.line)
                summary.outputs += 1
                continue
            targets = self._targets.get(out.output, ())
            if not targets or (result.error is not None and self._stopping):
                if out.error is not None:
                    sink(encode_line(_tagged(out, name)))
                continue
            ancestors = {**flow.ancestors, name: out.json}
            item = Item(json=out.json, binary=out.binary)
            for target in targets:
                position = self._positions[target]
                self._positions[target] = position + 1
                passed.append((target, FlowItem(position, item, ancestors)))
        return passed


async def execute(
    steps: list[Step],
    items: Iterable[Item],
    clients: Mapping[str, ApiClient],
    sink: Sink,
    *,
    graph: Graph | None = None,
    tallies: Mapping[str, RunTally] | None = None,
    journal: ItemJournal | None = None,
    retry_unknown: bool = False,
    on_result: Callable[[int, ItemResult], None] | None = None,
    stop: RunStop | None = None,
) -> RunSummary:
    """Run ``steps`` over ``items`` as ``graph`` connects them; write output records to
    ``sink``; return the summary.

    ``graph`` defaults to the straight line through ``steps`` in their order. Every lane of
    the graph (:attr:`Graph.lanes`) runs its step over its own stream of items, all at once
    and streaming: a lane that feeds exactly one other lane is read by it directly; a lane
    that feeds several (fan-out) or none (a terminal step) is run by a task of its own, which
    hands items on through bounded channels. The journal keys items by ``(lane, position)``;
    ``on_result(lane, result)`` is called for every item's result (a straight line's lanes
    are its step indexes).

    ``clients`` has the API client of each node type that has one, by node name (the others
    get :data:`NO_CLIENT`); ``tallies`` each node type's share of the summary, which counts
    the successful output items of that node's steps. ``stop`` lets the caller stop the run
    (see :class:`RunStop`); a stopWorkflow failure in any step requests it too, so that no
    step starts anything after it.
    """
    run = _GraphRun(
        steps,
        graph if graph is not None else linear_graph([step.name for step in steps]),
        clients,
        sink,
        tallies=tallies or {},
        journal=journal,
        retry_unknown=retry_unknown,
        on_result=on_result,
        stop=stop if stop is not None else RunStop(),
    )
    return await run.run(items)


class _GraphRun:
    """The state of one :func:`execute`: the lanes, their routers, journals and channels."""

    def __init__(
        self,
        steps: list[Step],
        graph: Graph,
        clients: Mapping[str, ApiClient],
        sink: Sink,
        *,
        tallies: Mapping[str, RunTally],
        journal: ItemJournal | None,
        retry_unknown: bool,
        on_result: Callable[[int, ItemResult], None] | None,
        stop: RunStop,
    ) -> None:
        self._graph = graph
        self._clients = clients
        self._sink = sink
        self._on_result = on_result
        self._stop = stop
        by_name = {step.name: step for step in steps}
        self._counts = {step.name: StepCounts(step.name) for step in graph.steps}
        self.summary = RunSummary(
            steps=list(self._counts.values()), tallies=tallies, terminal=graph.terminal
        )
        self._lanes = lanes = graph.lanes
        targets: list[dict[int, list[int]]] = [{} for _ in lanes]
        for lane in lanes:
            if lane.source is not None:
                targets[lane.source].setdefault(lane.output, []).append(lane.number)
        self._routers = [
            _Router(
                by_name[lane.step],
                {output: tuple(feeds) for output, feeds in targets[lane.number].items()},
                terminal=lane.step in graph.terminal,
                tag=len(graph.terminal) > 1,
            )
            for lane in lanes
        ]
        self._journals: list[StepJournal | None] = [
            StepJournal(journal, lane.number, by_name[lane.step], retry_unknown=retry_unknown)
            if journal
            else None
            for lane in lanes
        ]
        self._roots = [lane.number for lane in lanes if lane.source is None]
        # Lanes run by a task of their own: those that feed several lanes, or none.
        self._driven = [lane.number for lane in lanes if len(self._routers[lane.number].feeds) != 1]
        self._channels: dict[int, _Channel] = {}
        for number in self._driven:
            self._channels.update((target, _Channel()) for target in self._routers[number].feeds)
        if len(self._roots) > 1:
            self._channels.update((number, _Channel()) for number in self._roots)
        self._errors: list[tuple[int, PlivoNodeError]] = []  # (lane, error) of driving tasks

    async def run(self, items: Iterable[Item]) -> RunSummary:
        summary = self.summary
        try:
            async with asyncio.TaskGroup() as group:
                if len(self._roots) > 1:
                    group.create_task(self._feed_roots(items))
                for number in self._driven:
                    group.create_task(self._drive(number, items))
        except BaseExceptionGroup as failed:
            # A bug below the handlers (every item's own failure is an error item): raised
            # as itself, as a straight chain of steps raised it, once every lane is cancelled.
            raise failed.exceptions[0] from None
        # Every lane is done. A stopWorkflow failure surfaces where a chain of lanes ends, as
        # in a straight line; of several, the one of the last step in run order is reported.
        failures = [error for _lane, error in sorted(self._errors, key=lambda found: found[0])]
        for error in failures:
            if not isinstance(error, StepStopped):
                raise error  # an unreadable input row: the caller's error, as in a straight line
        stopped = [error for error in failures if isinstance(error, StepStopped)]
        if stopped:
            summary.stopped = max(stopped, key=lambda e: self._graph.run_index(e.step_name))
        summary.interrupted = self._stop.requested and summary.stopped is None
        replayed = [sj.replayed if sj is not None else 0 for sj in self._journals]
        summary.resumed = sum(replayed[number] for number in self._roots)
        summary.resumed_results = sum(replayed)
        return summary

    def _results(self, number: int, source: AsyncIterator[FlowItem]) -> Results:
        """Lane ``number``'s step run over ``source``, each result accounted for."""
        step, sj = self._routers[number].step, self._journals[number]
        client = self._clients.get(step.node, NO_CLIENT)
        if step.bulk is not None:
            results = run_bulk_step(
                step,
                source,
                client,
                operation=step.bulk,
                replay=sj.replay if sj else None,
                begin=sj.begin if sj and sj.marks_sends else None,
                record=sj.record if sj else None,
                stop=self._stop,
            )
        else:
            results = run_step(
                step,
                source,
                client,
                replay=sj.replay if sj else None,
                run_one=sj.run_one if sj else run_item,
                mark=sj.begin_item if sj and sj.marks_sends else None,
                stop=self._stop,
            )
        return self._accounted(number, step, results)

    async def _accounted(self, lane: int, step: Step, results: Results) -> Results:
        counts = self._counts[step.name]
        summary, on_result, tally = (
            self.summary,
            self._on_result,
            self.summary.tallies.get(step.node),
        )
        async for flow, result in results:
            counts.items += 1
            if result.error is not None:
                counts.failed += 1
                summary.by_code[result.error.code] += 1
            else:
                counts.succeeded += 1
            if tally is not None:
                for out in result.outputs:
                    if out.error is None:
                        tally.count(out.json)
            if on_result is not None:
                on_result(lane, result)
            yield flow, result

    def _input(self, number: int, items: Iterable[Item]) -> AsyncIterator[FlowItem]:
        """The lane's items: its channel, the run's input, or the one lane feeding it."""
        if number in self._channels:
            return aiter(self._channels[number])
        source = self._lanes[number].source
        if source is None:
            return _input_flow(items, self._stop)
        return self._forward(source, items)

    async def _forward(self, number: int, items: Iterable[Item]) -> AsyncIterator[FlowItem]:
        """The output of a lane that feeds exactly one other lane, as that lane's input."""
        router, sink, summary = self._routers[number], self._sink, self.summary
        async for flow, result in self._results(number, self._input(number, items)):
            for _target, passed in router.route(flow, result, sink, summary):
                yield passed

    async def _drive(self, number: int, items: Iterable[Item]) -> None:
        """Run a lane that feeds several lanes or none: hand its items on, then end them."""
        router, sink, summary = self._routers[number], self._sink, self.summary
        try:
            async for flow, result in self._results(number, self._input(number, items)):
                for target, passed in router.route(flow, result, sink, summary):
                    await self._channels[target].put(passed)
        except PlivoNodeError as exc:
            self._errors.append((number, exc))
        finally:
            for target in router.feeds:
                await self._channels[target].close()

    async def _feed_roots(self, items: Iterable[Item]) -> None:
        """Several steps read the run's input items: each gets every one of them."""
        try:
            async for flow in _input_flow(items, self._stop):
                for number in self._roots:
                    await self._channels[number].put(flow)
        finally:
            for number in self._roots:
                await self._channels[number].close()


def _tagged(out: OutputItem, step_name: str) -> dict[str, Any]:
    record = out.to_dict()
    record["step"] = step_name
    return record
