"""One run journal per served pipeline, shared by its events, each event in steps of its own.

Every event is a run of one item, and the runner keys its journal by ``(lane, position)``.
:class:`EventJournal` gives an event's run the journal under the keys
``(event id * LANE_STRIDE + lane, position)``, so events never see each other's items, and
every event's marks share the journal's group commits (a few commits for many events, not a
file per event). When an event is done its steps are discarded, in the next group commit.

An event accepted by this process (``fresh``) has nothing journaled yet: its run reads
nothing back, which spares every event a query (and the commit before it); only an event
queued before this start, whose run a crash may have interrupted, reads its records.
"""

from __future__ import annotations

from collections.abc import Sequence

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.items import JsonObject
from plivo_node.run.journal import ItemState, Record, RunJournal

# More lanes than any pipeline has (checked when serve starts): fixed, so that a journal
# written before a restart reads the same after it.
LANE_STRIDE = 1000


def check_lanes(lanes: int, pipeline: str) -> None:
    if lanes >= LANE_STRIDE:
        raise ConfigurationError(
            f"{pipeline} has {lanes} lanes; serve runs pipelines of fewer than {LANE_STRIDE}",
            hint="split the pipeline",
        )


class EventJournal:
    """The journal as one event's run sees it (an :class:`~plivo_node.run.journal.ItemJournal`)."""

    def __init__(self, journal: RunJournal, event_id: int, *, fresh: bool = False) -> None:
        self._journal = journal
        self._base = event_id * LANE_STRIDE
        self._fresh = fresh

    async def begin(
        self,
        step: int,
        indices: Sequence[int],
        fingerprints: Sequence[str | None] | None = None,
    ) -> None:
        await self._journal.begin(self._base + step, indices, fingerprints)

    def complete(
        self,
        step: int,
        index: int,
        state: ItemState | str,
        outputs: Sequence[JsonObject] | str,
        fingerprint: str | None = None,
    ) -> None:
        self._journal.complete(self._base + step, index, state, outputs, fingerprint)

    def records(self, step: int) -> dict[int, Record]:
        if self._fresh:
            return {}
        return self._journal.records(self._base + step)

    def discard(self) -> None:
        """The event is done (its done mark committed): its items are never replayed again."""
        self._journal.discard_later(self._base, self._base + LANE_STRIDE - 1)
