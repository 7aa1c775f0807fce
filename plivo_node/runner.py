"""One run of a pipeline: input items → steps (chained, streaming) → output file, journal, summary.

Steps are chained as streams: step k+1 consumes step k's main output as it is produced, so a
batch of any size flows through with a bounded number of items in memory. The output file gets
the last step's output items and every earlier step's error items, in order. The journal
records each item's outcome so that an interrupted run can be resumed without sending any
item twice.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from plivo_node.bulk import run_bulk_step
from plivo_node.context import ApiClient, Item
from plivo_node.cost import CostEstimate, count_segments
from plivo_node.engine import (
    ERROR_OUTPUT,
    MAIN_OUTPUT,
    FlowItem,
    ItemResult,
    OutputItem,
    Step,
    StepStopped,
    run_item,
    run_step,
)
from plivo_node.errors import PlivoNodeError, UnknownOutcomeError
from plivo_node.item_io import encode_line
from plivo_node.journal import ItemState, RunJournal
from plivo_node.resources import BULK_PREPARERS

# Operations that Plivo may act on twice if repeated: a journal entry left "in flight" by a
# killed run means their outcome is unknown, so a resumed run does not repeat them.
NON_IDEMPOTENT = frozenset(
    {
        ("sms", "send"),
        ("mms", "send"),
        ("call", "make"),
        ("application", "create"),
        ("endpoint", "create"),
    }
)


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
    segments: int = 0
    segments_by_country: Counter[str] = field(default_factory=Counter)
    estimated_cost: CostEstimate | None = None
    started: float = field(default_factory=time.monotonic)
    stopped: StepStopped | None = None

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


class StoredError(PlivoNodeError):
    """An error recorded by an earlier run and replayed from the journal."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__(str(data.get("message", "error")), item_index=data.get("itemIndex"))
        self._code = str(data.get("code", "error"))
        self._data = dict(data)

    @property
    def code(self) -> str:  # type: ignore[override]
        return self._code

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)


def _output_from_dict(data: Mapping[str, Any]) -> OutputItem:
    return OutputItem(
        json=dict(data["json"]),
        paired_item=int(data["pairedItem"]["item"]),
        output=int(data.get("output", MAIN_OUTPUT)),
        error=data.get("error"),
    )


def _output_record(out: OutputItem) -> dict[str, Any]:
    record = out.to_dict()
    if out.output != MAIN_OUTPUT:
        record["output"] = out.output
    return record


def _journal_outputs(result: ItemResult) -> str:
    """The item's outputs as the journal stores them: a JSON list of output records."""
    lines = (
        out.line if out.output == MAIN_OUTPUT else encode_line(_output_record(out))
        for out in result.outputs
    )
    return "[" + ",".join(lines) + "]"


def result_from_record(index: int, outputs: Iterable[Mapping[str, Any]]) -> ItemResult:
    items = tuple(_output_from_dict(o) for o in outputs)
    error = next((StoredError(o.error) for o in items if o.error is not None), None)
    return ItemResult(index=index, outputs=items, error=error)


def _unknown_result(step: Step, index: int) -> ItemResult:
    exc = UnknownOutcomeError(
        "the run was interrupted after this item was sent and before Plivo's answer was "
        "recorded: it may or may not have been delivered, so it was not sent again",
        hint="check Plivo's message/call logs; rerun with --retry-unknown to send it again",
        item_index=index,
    )
    out = OutputItem({"error": str(exc)}, index, output=MAIN_OUTPUT, error=exc.to_dict())
    if step.on_error.value == "continueErrorOutput":
        out = OutputItem({"error": str(exc)}, index, output=ERROR_OUTPUT, error=exc.to_dict())
    return ItemResult(index=index, outputs=(out,), error=exc)


class StepJournal:
    """The journal as one step sees it: replay of recorded items, recording of new ones."""

    def __init__(
        self, journal: RunJournal, step_index: int, step: Step, *, retry_unknown: bool
    ) -> None:
        self._journal = journal
        self._step_index = step_index
        self._step = step
        self._guard_sends = (step.resource, step.operation) in NON_IDEMPOTENT
        self._recorded = journal.records(step_index)
        self._retry_unknown = retry_unknown
        self.replayed = 0

    def replay(self, index: int) -> ItemResult | None:
        """The recorded result of an item of the interrupted run, or None to run the item."""
        record = self._recorded.pop(index, None)
        if record is None:
            return None
        if record.state in (ItemState.DONE, ItemState.FAILED):
            self.replayed += 1
            return result_from_record(index, record.outputs or ())
        if self._retry_unknown:
            return None  # the user accepts a possible duplicate: send it again
        if record.state is ItemState.UNKNOWN and record.outputs:
            self.replayed += 1
            return result_from_record(index, record.outputs)
        if record.state is ItemState.UNKNOWN or self._guard_sends:
            # Left in flight by the kill: the request may have reached Plivo.
            self.replayed += 1
            result = _unknown_result(self._step, index)
            self.record(result)
            return result
        return None  # an interrupted read or idempotent write: simply run it again

    def record(self, result: ItemResult) -> None:
        if isinstance(result.error, UnknownOutcomeError):
            state = ItemState.UNKNOWN
        elif result.error is not None:
            state = ItemState.FAILED
        else:
            state = ItemState.DONE
        self._journal.complete(self._step_index, result.index, state, _journal_outputs(result))

    async def begin(self, indices: Sequence[int]) -> None:
        """Mark items in flight (durably) just before their request goes out."""
        if self._guard_sends:
            await self._journal.begin(self._step_index, indices)

    async def run_one(self, step: Step, flow: FlowItem, client: ApiClient) -> ItemResult:
        await self.begin([flow.index])
        result = await run_item(step, flow, client)
        self.record(result)
        return result


# Receives each output item as one line of JSON (OutputWriter.write_line).
Sink = Callable[[str], None]


async def _input_flow(items: AsyncIterator[Item] | Iterable[Item]) -> AsyncIterator[FlowItem]:
    index = 0
    if isinstance(items, AsyncIterator):
        async for item in items:
            yield FlowItem(index, item)
            index += 1
    else:
        for item in items:
            yield FlowItem(index, item)
            index += 1


async def execute(
    steps: list[Step],
    items: AsyncIterator[Item] | Iterable[Item],
    client: ApiClient,
    sink: Sink,
    *,
    journal: RunJournal | None = None,
    retry_unknown: bool = False,
    on_result: Callable[[int, ItemResult], None] | None = None,
) -> RunSummary:
    """Run ``steps`` over ``items``; write output records to ``sink``; return the summary."""
    summary = RunSummary(steps=[StepCounts(step.name) for step in steps])
    step_journals: list[StepJournal | None] = [
        StepJournal(journal, k, step, retry_unknown=retry_unknown) if journal else None
        for k, step in enumerate(steps)
    ]
    last = len(steps) - 1

    def chained(
        k: int, source: AsyncIterator[FlowItem]
    ) -> AsyncIterator[tuple[FlowItem, ItemResult]]:
        step, sj = steps[k], step_journals[k]
        if step.bulk:
            prepare = BULK_PREPARERS[(step.resource, step.operation)]
            if sj is None:
                return run_bulk_step(step, source, client, prepare=prepare)
            return run_bulk_step(
                step,
                source,
                client,
                prepare=prepare,
                replay=sj.replay,
                begin=sj.begin,
                record=sj.record,
            )
        if sj is None:
            return run_step(step, source, client)
        return run_step(step, source, client, replay=sj.replay, run_one=sj.run_one)

    async def forward(
        k: int, results: AsyncIterator[tuple[FlowItem, ItemResult]]
    ) -> AsyncIterator[FlowItem]:
        """Step k's main output as step k+1's input; its error items go to the sink."""
        position = 0
        async for flow, result in results:
            _account(summary, k, result, on_result)
            for out in result.outputs:
                if out.output != MAIN_OUTPUT or (result.error is not None and _stops(steps[k])):
                    sink(encode_line(_tagged(out, steps[k].name)))
                    continue
                ancestors = {**flow.ancestors, steps[k].name: out.json}
                yield FlowItem(position, Item(json=out.json), ancestors)
                position += 1

    stream: AsyncIterator[FlowItem] = _input_flow(items)
    for k in range(last):
        stream = forward(k, chained(k, stream))
    try:
        async for _flow, result in chained(last, stream):
            _account(summary, last, result, on_result)
            for out in result.outputs:
                sink(out.line)
                summary.outputs += 1
    except StepStopped as stop:
        summary.stopped = stop
    summary.resumed = sum(sj.replayed for sj in step_journals if sj is not None)
    return summary


def _stops(step: Step) -> bool:
    return step.on_error.value == "stopWorkflow"


def _tagged(out: OutputItem, step_name: str) -> dict[str, Any]:
    record = out.to_dict()
    record["step"] = step_name
    return record


def _account(
    summary: RunSummary,
    step_index: int,
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
    for out in result.outputs:
        if out.error is None:
            summary.segments += count_segments(summary.segments_by_country, out.json)
    if on_result is not None:
        on_result(step_index, result)
