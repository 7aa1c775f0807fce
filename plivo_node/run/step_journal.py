"""The run journal as one step sees it: replaying an interrupted run, recording this one.

An item the journal holds as done or failed is replayed (its outputs are written again, nothing
is sent). An item a killed run left in flight may have reached the service: an operation its
node type says must never be repeated (a send, a create) is reported as ``unknown_outcome``
rather than repeated, unless the user opted in with ``--retry-unknown``; an
interrupted read, or a write that is safe to repeat, simply runs again.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Any

from plivo_node.core.api import ApiClient
from plivo_node.core.errors import ConfigurationError, PlivoNodeError, UnknownOutcomeError
from plivo_node.core.items import BinaryData
from plivo_node.run.engine import (
    MAIN_OUTPUT,
    FlowItem,
    ItemResult,
    OutputItem,
    Step,
    error_result,
    run_item,
)
from plivo_node.run.item_io import encode_line
from plivo_node.run.journal import ItemJournal, ItemState


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


# An output whose binary entries are its input item's (If, Filter and most nodes pass them on)
# is journaled with this mark instead of a copy of the data: a resume, which reads the input
# again, takes them from there. Other binary entries are journaled whole.
_INPUT_BINARY = "input"

Binary = Mapping[str, BinaryData]


def _output_from_dict(data: Mapping[str, Any], input_binary: Binary) -> OutputItem:
    stored = data.get("binary")
    if stored == _INPUT_BINARY:
        binary = input_binary
    elif isinstance(stored, Mapping):
        binary = {name: BinaryData.from_json(entry) for name, entry in stored.items()}
    else:
        binary = {}
    return OutputItem(
        json=dict(data["json"]),
        paired_item=int(data["pairedItem"]["item"]),
        output=int(data.get("output", MAIN_OUTPUT)),
        error=data.get("error"),
        binary=binary,
    )


def _output_record(out: OutputItem, input_binary: Binary) -> dict[str, Any]:
    record = out.to_dict()
    if out.output != MAIN_OUTPUT:
        record["output"] = out.output
    if out.binary:
        record["binary"] = (
            _INPUT_BINARY
            if out.binary == input_binary
            else {name: entry.to_json() for name, entry in out.binary.items()}
        )
    return record


def _journal_outputs(result: ItemResult, input_binary: Binary) -> str:
    """The item's outputs as the journal stores them: a JSON list of output records."""
    lines = (
        out.line
        if out.output == MAIN_OUTPUT and not out.binary
        else encode_line(_output_record(out, input_binary))
        for out in result.outputs
    )
    return "[" + ",".join(lines) + "]"


def result_from_record(
    index: int, outputs: Iterable[Mapping[str, Any]], input_binary: Binary
) -> ItemResult:
    items = tuple(_output_from_dict(o, input_binary) for o in outputs)
    error = next((StoredError(o.error) for o in items if o.error is not None), None)
    return ItemResult(index=index, outputs=items, error=error)


def input_fingerprint(flow: FlowItem) -> str:
    """A short digest of an input item's json: what a resume checks it is replaying."""
    # CRC-32 is plenty to tell that the item at one position changed, and costs little per item.
    return format(zlib.crc32(encode_line(flow.item.json).encode()), "08x")


def _unknown_result(step: Step, flow: FlowItem) -> ItemResult:
    exc = UnknownOutcomeError(
        f"the run was interrupted after this item was sent and before {step.service}'s answer "
        "was recorded: it may or may not have been delivered, so it was not sent again",
        hint=f"check {step.service}'s logs; rerun with --retry-unknown to send it again",
    )
    return error_result(step, flow, exc)


class StepJournal:
    """The journal as one step sees it: replay of recorded items, recording of new ones."""

    def __init__(
        self, journal: ItemJournal, step_index: int, step: Step, *, retry_unknown: bool
    ) -> None:
        self._journal = journal
        self._step_index = step_index
        self._step = step
        self._guard_sends = step.never_repeat
        self._recorded = journal.records(step_index)
        self._retry_unknown = retry_unknown
        # Fingerprints of the items between replay() and record(): bounded by the window.
        self._fingerprints: dict[int, str] = {}
        # Binary entries of the items between replay() and record(), when they have any.
        self._binaries: dict[int, Binary] = {}
        self.replayed = 0

    def replay(self, flow: FlowItem) -> ItemResult | None:
        """The recorded result of an item of the interrupted run, or None to run the item.

        Called for every item, in order, before it runs: it also notes the item's fingerprint,
        which :meth:`begin` and :meth:`record` store with the item.
        """
        index = flow.index
        fingerprint = input_fingerprint(flow)
        self._fingerprints[index] = fingerprint
        record = self._recorded.pop(index, None)
        if record is None:
            self._runs(flow)
            return None
        if record.input_fingerprint not in (None, fingerprint):
            raise ConfigurationError(
                f"step '{self._step.name}', item {index}: the input is not the one the "
                "interrupted run had at this position",
                hint="restore the input as it was (rows may be fixed or added only after the "
                "point the run reached), or start over with --restart",
            )
        if record.state in (ItemState.DONE, ItemState.FAILED):
            self.replayed += 1
            self._fingerprints.pop(index, None)
            return result_from_record(index, record.outputs or (), flow.item.binary)
        if self._retry_unknown:  # the user accepts a possible duplicate: send it again
            self._runs(flow)
            return None
        if record.state is ItemState.UNKNOWN and record.outputs:
            self.replayed += 1
            self._fingerprints.pop(index, None)
            return result_from_record(index, record.outputs, flow.item.binary)
        if record.state is ItemState.UNKNOWN or self._guard_sends:
            # Left in flight by the kill: the request may have reached the service.
            self.replayed += 1
            self._runs(flow)
            result = _unknown_result(self._step, flow)
            self.record(result)
            return result
        self._runs(flow)  # an interrupted read or idempotent write: simply run it again
        return None

    def _runs(self, flow: FlowItem) -> None:
        """Note the binary entries of an item about to run, for :meth:`record`."""
        if flow.item.binary:
            self._binaries[flow.index] = flow.item.binary

    def record(self, result: ItemResult) -> None:
        if isinstance(result.error, UnknownOutcomeError):
            state = ItemState.UNKNOWN
        elif result.error is not None:
            state = ItemState.FAILED
        else:
            state = ItemState.DONE
        self._journal.complete(
            self._step_index,
            result.index,
            state,
            _journal_outputs(result, self._binaries.pop(result.index, {})),
            self._fingerprints.pop(result.index, None),
        )

    def begin(self, indices: Sequence[int]) -> Awaitable[None]:
        """Mark items in flight, durably, as their request is about to be written.

        Awaited through the ``before_write`` hook (see :mod:`plivo_node.core.items`), after the
        rate limiter and the pacer: an item still waiting for its turn when a run stops was
        never marked, so a resume sends it instead of reporting it as unknown.
        """
        fingerprints = [self._fingerprints.get(index) for index in indices]
        return self._journal.begin(self._step_index, indices, fingerprints)

    def begin_item(self, flow: FlowItem) -> Awaitable[None]:
        index = flow.index
        return self._journal.begin(self._step_index, (index,), (self._fingerprints.get(index),))

    @property
    def marks_sends(self) -> bool:
        """Whether this step's requests are marked in flight (sends the service may act on
        twice)."""
        return self._guard_sends

    async def run_one(self, step: Step, flow: FlowItem, client: ApiClient) -> ItemResult:
        result = await run_item(step, flow, client)
        self.record(result)
        return result
