"""Progress display: a fake clock drives time, a StringIO stands in for stderr."""

from __future__ import annotations

import io

import pytest

from plivo_node.run.progress import Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def live_progress(
    total: int | None, *, width: int | None = 200
) -> tuple[Progress, io.StringIO, FakeClock]:
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(stream, total=total, live=True, interval=0.1, clock=clock, width=width)
    return progress, stream, clock


def test_live_bar_redraws_in_place_with_counts_rate_eta_and_failures() -> None:
    progress, stream, clock = live_progress(100)
    for n in range(25):
        clock.now += 0.1 if n == 24 else 0.0
        progress.advance(failed=n % 10 == 0)  # items 0, 10 and 20 fail
    out = stream.getvalue()
    # Drawn once (only the last item came after an interval), in place, without a newline.
    assert out.count("\r\x1b[2K") == 1
    assert "\n" not in out
    text = out.removeprefix("\r\x1b[2K")
    assert text == ("[######..................]  25/100 items (25%)  250/s  ETA 0m00s  3 failed")


def test_live_bar_eta_and_fill_follow_the_rate() -> None:
    progress, stream, clock = live_progress(40)
    for _ in range(10):
        clock.now += 1.0  # one item a second
        progress.advance(failed=False)
    last = stream.getvalue().split("\r\x1b[2K")[-1]
    assert last == "[######..................]  10/40 items (25%)  1.0/s  ETA 0m30s  0 failed"


def test_live_bar_draws_at_most_once_per_interval() -> None:
    progress, stream, clock = live_progress(1000)
    for _ in range(500):
        clock.now += 0.001  # 500 items in half a second
        progress.advance(failed=False)
    draws = stream.getvalue().count("\r\x1b[2K")
    assert 4 <= draws <= 5


def test_live_bar_never_wider_than_the_terminal() -> None:
    progress, stream, clock = live_progress(123456, width=40)
    clock.now += 1.0
    progress.advance(failed=False)
    drawn = stream.getvalue().removeprefix("\r\x1b[2K")
    assert drawn
    assert len(drawn) <= 39


def test_close_erases_the_bar_once_and_only_if_drawn() -> None:
    progress, stream, clock = live_progress(10)
    progress.close()
    assert stream.getvalue() == ""  # nothing drawn: nothing to erase
    clock.now += 1.0
    progress.advance(failed=False)
    progress.close()
    progress.close()
    assert stream.getvalue().endswith("failed\r\x1b[2K")
    assert stream.getvalue().count("\r\x1b[2K") == 2


def test_plain_mode_writes_one_line_per_interval_not_per_item() -> None:
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(stream, total=960, live=False, interval=5.0, clock=clock)
    for _ in range(480):
        clock.now += 1 / 16  # 16 items a second for 30 seconds
        progress.advance(failed=False)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 6
    assert all(line.startswith("progress: ") for line in lines)
    assert "\r" not in stream.getvalue()
    assert "[" not in stream.getvalue()  # no bar in logs
    assert lines[0] == "progress: 80/960 items (8%)  16/s  ETA 0m55s  0 failed"
    progress.close()
    assert len(stream.getvalue().splitlines()) == 6  # closing a plain display writes nothing


def test_unknown_total_shows_count_and_rate_without_share_or_eta() -> None:
    for total in (None, 0):
        stream, clock = io.StringIO(), FakeClock()
        progress = Progress(stream, total=total, live=False, interval=1.0, clock=clock)
        for _ in range(8):
            clock.now += 0.25
            progress.advance(failed=True)
        assert stream.getvalue().splitlines() == [
            "progress: 4 items  4.0/s  4 failed",
            "progress: 8 items  4.0/s  8 failed",
        ]


def test_unknown_total_live_has_no_bar() -> None:
    progress, stream, clock = live_progress(None)
    clock.now += 2.0
    progress.advance(failed=False)
    assert stream.getvalue() == "\r\x1b[2K1 item  0.5/s  0 failed"


def test_line_at_the_start_and_past_the_total() -> None:
    progress, _stream, clock = live_progress(2)
    assert progress.line() == "[........................]  0/2 items (0%)  0.0/s  0 failed"
    for _ in range(3):  # more items than counted up front: capped, no ETA
        clock.now += 1.0
        progress.advance(failed=False)
    assert progress.line() == "[########################]  3/2 items (100%)  1.0/s  0 failed"


def test_long_runs_show_hours_in_the_eta() -> None:
    progress, _stream, clock = live_progress(100_000)
    clock.now += 10.0
    for _ in range(10):
        progress.advance(failed=False)
    # 99,990 items left at 1 item a second.
    assert "ETA 27h46m" in progress.line()


def test_a_stream_without_a_terminal_has_no_width_limit() -> None:
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(stream, total=10**9, live=True, interval=0.0, clock=clock)
    clock.now += 1.0
    progress.advance(failed=False)
    assert stream.getvalue().endswith("0 failed")


def test_live_bar_follows_the_terminal_width_at_each_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    widths = iter([30, 60])
    monkeypatch.setattr("plivo_node.run.progress._terminal_width", lambda _stream: next(widths))
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(stream, total=10**6, live=True, interval=1.0, clock=clock)
    for _ in range(2):
        clock.now += 1.0
        progress.advance(failed=False)
    first, second = stream.getvalue().split("\r\x1b[2K")[1:]
    assert (len(first), len(second)) == (29, 59)


def test_a_disabled_progress_writes_nothing_however_long_the_run() -> None:
    """--no-progress still printed a 'progress:' line every 5 s."""
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(stream, total=100, live=False, interval=5.0, clock=clock, enabled=False)
    for _ in range(100):
        clock.now += 1.0
        progress.advance(failed=False)
    progress.close()
    assert stream.getvalue() == ""


def test_the_rate_and_eta_leave_out_the_items_replayed_on_resume() -> None:
    """900 items replayed at once made a run at 1 item/s promise to end in seconds."""
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(stream, total=1000, live=False, interval=5.0, clock=clock, resumed=900)
    for _ in range(900):
        progress.advance(failed=False)  # replayed from the journal: no time passes
    for _ in range(10):
        clock.now += 1.0
        progress.advance(failed=False)  # this run's own sends: 1 per second
    assert progress.line() == "910/1000 items (91%)  1.0/s  ETA 1m30s  0 failed"
