"""Send windows: items that message someone go out only during the pipeline's hours.

``settings.sendWindow: {from: "09:00", to: "20:00", timezone: recipient, outside: wait}``.
The window applies to the steps whose node type marks the operation as messaging someone
(:class:`plivo_node.core.node.Messaging`, which names the destination parameter and tells a
destination's time zones). With ``timezone: recipient`` the window must be open in every zone
the destination may be in (the most restrictive reading); an IANA zone applies to everyone.
``from`` later than ``to`` is a window across midnight (22:00-06:00).

An item outside its window is not run at all in this pass: no request, no output, nothing
recorded in the journal (:class:`Deferred`), exactly like an item a stopped run never started,
so ``--resume`` sends it later and the journal guarantees nothing already sent is sent again.
``outside: wait`` (the default) makes ``run`` sleep until the earliest window opens and then
resume itself, pass after pass, until every item went out; ``outside: defer`` ends the run
(exit 75) for a later ``--resume``. Either way a SIGINT/SIGTERM while waiting stops cleanly.

Deferral leaves a hole in the step's output until a later pass fills it, so the window is
only allowed on steps whose output ends the run (a later step would number its items
differently on resume).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from plivo_node.core.errors import ItemError

RECIPIENT = "recipient"
_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
WAIT = "wait"
DEFER = "defer"
# How far ahead a window opening is looked for (a window open in every zone of a number).
LOOKAHEAD_DAYS = 3
ZONE_HINT = "set settings.sendWindow.timezone to an IANA zone such as America/New_York"

if TYPE_CHECKING:  # asyncio only where a run waits: validate imports this module
    import asyncio


class Deferred(Exception):  # noqa: N818 - not a failure: the item's turn has not come
    """The item is outside its send window: it is not run in this pass."""


@dataclass(frozen=True)
class SendWindow:
    start: clock_time
    end: clock_time
    zone: str | None  # None: each recipient's own zones
    outside: str = WAIT

    def describe(self) -> str:
        where = "recipient time" if self.zone is None else self.zone
        return f"{self.start:%H:%M}-{self.end:%H:%M} {where}"


def _parse_time(raw: object, key: str, problems: list[str]) -> clock_time:
    match = _HH_MM.match(str(raw))
    if match is None:
        problems.append(
            f"settings.sendWindow.{key}: {raw!r} is not a time of day; write it as HH:MM on a "
            "24-hour clock, like 09:00 or 20:30"
        )
        return clock_time(0)
    return clock_time(int(match[1]), int(match[2]))


def parse_send_window(raw: Mapping[str, Any] | None) -> tuple[SendWindow | None, list[str]]:
    """The window of a pipeline's ``settings.sendWindow`` (its shape already checked by the
    schema), and the problems of its values."""
    if raw is None:
        return None, []
    problems: list[str] = []
    start = _parse_time(raw.get("from"), "from", problems)
    end = _parse_time(raw.get("to"), "to", problems)
    if not problems and start == end:
        problems.append(
            "settings.sendWindow: from and to are the same time; remove sendWindow to send at "
            "any hour"
        )
    zone_name = str(raw.get("timezone", RECIPIENT))
    zone: str | None = None
    if zone_name != RECIPIENT:
        if not known_zone(zone_name):
            problems.append(
                f"settings.sendWindow.timezone: {zone_name!r} is not a time zone; use "
                f"'{RECIPIENT}' or an IANA zone such as America/New_York"
            )
        zone = zone_name
    window = SendWindow(start, end, zone, str(raw.get("outside", WAIT)))
    return (None if problems else window), problems


@lru_cache(maxsize=1024)
def known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_open(window: SendWindow, instant: datetime, zones: Sequence[str]) -> bool:
    """Whether the window is open at ``instant`` in every one of ``zones``."""
    for name in zones:
        local = instant.astimezone(_zone(name)).time()
        if window.start < window.end:
            inside = window.start <= local < window.end
        else:  # across midnight
            inside = local >= window.start or local < window.end
        if not inside:
            return False
    return True


def next_opening(window: SendWindow, now: datetime, zones: Sequence[str]) -> datetime | None:
    """The first instant after ``now`` at which the window is open in every zone, or None
    when there is none within a few days (zones too far apart for a short window)."""
    candidates: set[datetime] = set()
    for name in zones:
        zone = _zone(name)
        today = now.astimezone(zone).date()
        for offset in range(LOOKAHEAD_DAYS + 1):
            day = today + timedelta(days=offset)
            opening = datetime.combine(day, window.start, tzinfo=zone).astimezone(UTC)
            if opening > now:
                candidates.add(opening)
    return next((c for c in sorted(candidates) if is_open(window, c, zones)), None)


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, instant: datetime, stopped: asyncio.Event) -> bool:
        """Wait until ``instant``; True if ``stopped`` was set first."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, instant: datetime, stopped: asyncio.Event) -> bool:
        import asyncio  # noqa: PLC0415

        seconds = max((instant - self.now()).total_seconds(), 0.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopped.wait(), timeout=seconds)
        return stopped.is_set()


# The clock runs read; tests replace it with one that moves on without waiting.
CLOCK: Clock = SystemClock()


@dataclass
class WindowGate:
    """One run's send window, shared by the steps it applies to: decides each item's turn."""

    window: SendWindow
    # The node type's operations that message someone, and their destination parameter.
    destinations: Mapping[tuple[str, str], str]
    # The node type's time zones of a destination value (every zone it may be in).
    zones_of: Callable[[str], Sequence[str]]
    # False in a dry run: every item runs, the outside ones are only counted.
    hold: bool = True
    outside: int = 0  # items outside their window in this pass
    next_open: datetime | None = None
    first_zone: str = ""  # a zone of the item whose window opens first (for the message)

    def parameter_of(self, resource: str, operation: str) -> str:
        return self.destinations[(resource, operation)]

    def admit(self, parameter: str, value: object) -> None:
        """Return if the destination ``value`` may be messaged now; raise :class:`Deferred`
        when not (or an :class:`ItemError` when its window can never be told or never opens)."""
        text = str(value or "")
        zones: Sequence[str]
        if self.window.zone is not None:
            zones = (self.window.zone,)
        else:
            zones = self.zones_of(text)
            if not zones:
                raise ItemError(
                    f"the time zone of '{text}' cannot be told from the number, so its send "
                    f"window ({self.window.describe()}) cannot be kept",
                    hint=ZONE_HINT,
                    parameter=parameter,
                )
        now = CLOCK.now()
        if is_open(self.window, now, zones):
            return
        opening = next_opening(self.window, now, zones)
        if opening is None:
            raise ItemError(
                f"'{text}' spans the time zones {', '.join(zones)}, and the send window "
                f"({self.window.describe()}) is never open in all of them at once",
                hint=f"widen the window, or {ZONE_HINT}",
                parameter=parameter,
            )
        self.outside += 1
        if self.next_open is None or opening < self.next_open:
            self.next_open, self.first_zone = opening, zones[0]
        if self.hold:
            raise Deferred

    def reset(self) -> None:
        """A new pass: nothing counted yet."""
        self.outside, self.next_open, self.first_zone = 0, None, ""

    def opening_text(self) -> str:
        """``2026-12-03 14:00 UTC (09:00 America/New_York)``."""
        if self.next_open is None:
            return "unknown"
        local = self.next_open.astimezone(_zone(self.first_zone)) if self.first_zone else None
        text = f"{self.next_open:%Y-%m-%d %H:%M} UTC"
        return text + (f" ({local:%H:%M} {self.first_zone})" if local is not None else "")

    def line(self) -> str:
        verb = "are" if self.hold else "would be"
        return (
            f"send window {self.window.describe()}: {self.outside} items {verb} outside it; "
            f"the first opens at {self.opening_text()}"
        )
