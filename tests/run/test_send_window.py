"""Send windows: parsing, the open test in one or several zones, the next opening, the gate."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import time as clock_time

import pytest

from plivo_node.core.errors import ItemError
from plivo_node.run import send_window
from plivo_node.run.send_window import (
    Deferred,
    SendWindow,
    WindowGate,
    is_open,
    next_opening,
    parse_send_window,
)

NINE_TO_EIGHT = SendWindow(clock_time(9), clock_time(20), None)
NEW_YORK, LOS_ANGELES = "America/New_York", "America/Los_Angeles"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_parse_accepts_times_zones_and_reports_bad_values() -> None:
    window, problems = parse_send_window(
        {"from": "09:00", "to": "20:30", "timezone": "Europe/Paris"}
    )
    assert problems == []
    assert window == SendWindow(clock_time(9), clock_time(20, 30), "Europe/Paris")
    assert parse_send_window(None) == (None, [])
    _, problems = parse_send_window({"from": "09:00", "to": "20:00", "timezone": "Mars/Olympus"})
    assert problems == [
        (
            "settings.sendWindow.timezone: 'Mars/Olympus' is not a time zone; use 'recipient' "
            "or an IANA zone such as America/New_York"
        )
    ]
    _, problems = parse_send_window({"from": "09:00", "to": "09:00"})
    assert "from and to are the same time" in problems[0]


@pytest.mark.parametrize(
    ("instant", "zones", "expected"),
    [
        ("2026-12-03T14:30", [NEW_YORK], True),  # 09:30 in New York
        ("2026-12-03T14:30", [LOS_ANGELES], False),  # 06:30 in Los Angeles
        ("2026-12-03T14:30", [NEW_YORK, LOS_ANGELES], False),  # open in every zone, or not
        ("2026-12-03T17:00", [NEW_YORK, LOS_ANGELES], True),
        ("2026-12-04T01:00", [NEW_YORK], False),  # 20:00 in New York: the end is excluded
    ],
)
def test_open_in_every_zone(instant: str, zones: list[str], expected: bool) -> None:
    assert is_open(NINE_TO_EIGHT, utc(instant), zones) is expected


def test_a_window_across_midnight() -> None:
    night = SendWindow(clock_time(22), clock_time(6), "UTC")
    assert is_open(night, utc("2026-12-03T23:00"), ["UTC"])
    assert is_open(night, utc("2026-12-03T05:59"), ["UTC"])
    assert not is_open(night, utc("2026-12-03T12:00"), ["UTC"])


def test_next_opening_is_the_first_instant_open_everywhere() -> None:
    now = utc("2026-12-03T14:30")
    assert next_opening(NINE_TO_EIGHT, now, [LOS_ANGELES]) == utc("2026-12-03T17:00")
    assert next_opening(NINE_TO_EIGHT, now, [NEW_YORK, LOS_ANGELES]) == utc("2026-12-03T17:00")
    late = utc("2026-12-04T02:00")  # 21:00 in New York
    assert next_opening(NINE_TO_EIGHT, late, [NEW_YORK]) == utc("2026-12-04T14:00")
    # New York and Shanghai are 13 hours apart: an 11-hour window never overlaps.
    assert next_opening(NINE_TO_EIGHT, now, [NEW_YORK, "Asia/Shanghai"]) is None


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.instant = now

    def now(self) -> datetime:
        return self.instant

    async def sleep_until(self, instant: datetime, stopped: object) -> bool:
        self.instant = instant
        return False


def test_the_gate_defers_counts_and_names_the_first_opening(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(send_window, "CLOCK", FixedClock(utc("2026-12-03T14:30")))
    zones = {"+12125550100": (NEW_YORK,), "+14155550100": (LOS_ANGELES,)}
    gate = WindowGate(NINE_TO_EIGHT, {("sms", "send"): "to"}, lambda v: zones.get(v, ()))
    gate.admit("to", "+12125550100")  # open in New York: returns
    with pytest.raises(Deferred):
        gate.admit("to", "+14155550100")
    assert gate.outside == 1
    assert gate.opening_text() == "2026-12-03 17:00 UTC (09:00 America/Los_Angeles)"
    with pytest.raises(ItemError) as unknown:
        gate.admit("to", "sip:alice@example.com")
    assert "cannot be told" in str(unknown.value)
    assert "IANA zone" in str(unknown.value)
    gate.hold = False  # a dry run: counted, not held
    gate.admit("to", "+14155550100")
    assert gate.outside == 2


def test_a_number_spanning_zones_too_far_apart_fails_with_the_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(send_window, "CLOCK", FixedClock(utc("2026-12-03T14:30")))
    gate = WindowGate(NINE_TO_EIGHT, {("sms", "send"): "to"}, lambda v: (NEW_YORK, "Asia/Shanghai"))
    with pytest.raises(ItemError) as never:
        gate.admit("to", "+18005550100")
    assert "never open in all of them at once" in str(never.value)
