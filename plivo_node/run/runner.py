"""One run of a pipeline: input items → steps (chained, streaming) → output file, journal, summary.

Steps are chained as streams: step k+1 consumes step k's main output as it is produced, so a
batch of any size flows through with a bounded number of items in memory. The output file gets
the last step's output items and every earlier step's items on its other outputs (error items,
an If's false branch), in order. The journal
records each item's outcome so that an interrupted run can be resumed without sending any
item twice.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from plivo_node.core.api import NO_CLIENT, ApiClient
from plivo_node.core.items import Item
from plivo_node.core.node import RunTally
from plivo_node.run.bulk import run_bulk_step
from plivo_node.run.engine import (
    MAIN_OUTPUT,
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
from plivo_node.run.item_io import encode_line
from plivo_node.run.journal import RunJournal
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

    steps: list[StepCounts] = field(default_factory=list)
    by_code: Counter[str] = field(default_factory=Counter)
    outputs: int = 0
    resumed: int = 0
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
        """Items of the last step that succeeded (for one step: input items that succeeded)."""
        return self.steps[-1].succeeded if self.steps else 0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


# Receives each output item as one line of JSON (OutputWriter.write_line).
Sink = Callable[[str], None]


async def _input_flow(items: Iterable[Item], stop: RunStop) -> AsyncIterator[FlowItem]:
    """The run's input items; no more once the run is asked to stop (what the steps expect)."""
    for index, item in enumerate(items):
        if stop.requested:
            return
        yield FlowItem(index, item)


async def execute(
    steps: list[Step],
    items: Iterable[Item],
    clients: Mapping[str, ApiClient],
    sink: Sink,
    *,
    tallies: Mapping[str, RunTally] | None = None,
    journal: RunJournal | None = None,
    retry_unknown: bool = False,
    on_result: Callable[[int, ItemResult], None] | None = None,
    stop: RunStop | None = None,
) -> RunSummary:
    """Run ``steps`` over ``items``; write output records to ``sink``; return the summary.

    ``clients`` has the API client of each node type that has one, by node name (the others
    get :data:`NO_CLIENT`); ``tallies`` each node type's share of the summary, which counts
    the successful output items of that node's steps. ``stop`` lets the caller stop the run
    (see :class:`RunStop`); a stopWorkflow failure in any step requests it too, so that no
    step starts anything after it.
    """
    stop = stop if stop is not None else RunStop()
    summary = RunSummary(steps=[StepCounts(step.name) for step in steps], tallies=tallies or {})
    step_journals: list[StepJournal | None] = [
        StepJournal(journal, k, step, retry_unknown=retry_unknown) if journal else None
        for k, step in enumerate(steps)
    ]
    last = len(steps) - 1

    def chained(
        k: int, source: AsyncIterator[FlowItem]
    ) -> AsyncIterator[tuple[FlowItem, ItemResult]]:
        step, sj = steps[k], step_journals[k]
        client = clients.get(step.node, NO_CLIENT)
        if step.bulk is not None:
            return run_bulk_step(
                step,
                source,
                client,
                operation=step.bulk,
                replay=sj.replay if sj else None,
                begin=sj.begin if sj and sj.marks_sends else None,
                record=sj.record if sj else None,
                stop=stop,
            )
        return run_step(
            step,
            source,
            client,
            replay=sj.replay if sj else None,
            run_one=sj.run_one if sj else run_item,
            mark=sj.begin_item if sj and sj.marks_sends else None,
            stop=stop,
        )

    async def forward(
        k: int, results: AsyncIterator[tuple[FlowItem, ItemResult]]
    ) -> AsyncIterator[FlowItem]:
        """Step k's main output as step k+1's input; its other outputs go to the sink."""
        position = 0
        stopping = steps[k].on_error is OnError.STOP_WORKFLOW
        async for flow, result in results:
            _account(summary, k, steps[k].node, result, on_result)
            for out in result.outputs:
                if out.output != MAIN_OUTPUT or (result.error is not None and stopping):
                    sink(encode_line(_tagged(out, steps[k].name)))
                    continue
                ancestors = {**flow.ancestors, steps[k].name: out.json}
                yield FlowItem(position, Item(json=out.json, binary=out.binary), ancestors)
                position += 1

    stream: AsyncIterator[FlowItem] = _input_flow(items, stop)
    for k in range(last):
        stream = forward(k, chained(k, stream))
    try:
        async for _flow, result in chained(last, stream):
            _account(summary, last, steps[last].node, result, on_result)
            for out in result.outputs:
                sink(out.line)
                summary.outputs += 1
    except StepStopped as stopped:
        summary.stopped = stopped
    summary.interrupted = stop.requested and summary.stopped is None
    summary.resumed = sum(sj.replayed for sj in step_journals if sj is not None)
    return summary


def _tagged(out: OutputItem, step_name: str) -> dict[str, Any]:
    record = out.to_dict()
    record["step"] = step_name
    return record


def _account(
    summary: RunSummary,
    step_index: int,
    node: str,
    result: ItemResult,
    on_result: Callable[[int, ItemResult], None] | None,
) -> None:
    counts = summary.steps[step_index]
    counts.items += 1
    if result.error is not None:
        counts.failed += 1
        summary.by_code[result.error.code] += 1
    else:
        counts.succeeded += 1
    tally = summary.tallies.get(node)
    if tally is not None:
        for out in result.outputs:
            if out.error is None:
                tally.count(out.json)
    if on_result is not None:
        on_result(step_index, result)
