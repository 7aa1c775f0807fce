"""Progress on stderr: a live bar on a terminal, a plain periodic line otherwise.

The live bar redraws one line in place (carriage return, erase line), so it must never be
wider than the terminal: a wrapped line cannot be erased and would leave a trail of copies.
The plain form (logs, CI, pipes) writes one line per interval, however many items finish.
A disabled progress (``--no-progress``) writes nothing at all.

The rate and the ETA are this run's own: items replayed from the journal on ``--resume``
finish at once, and counting them would promise an end far earlier than the real one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TextIO

from plivo_node.core.words import counted

_BAR_WIDTH = 24
_ERASE_LINE = "\r\x1b[2K"
LIVE_INTERVAL = 0.1
PLAIN_INTERVAL = 5.0


def _eta(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _rate(per_second: float) -> str:
    # Slow operations (calls, lookups) run at a few items a second: keep a decimal for them.
    return f"{per_second:.1f}/s" if per_second < 10 else f"{per_second:.0f}/s"


def _terminal_width(stream: TextIO) -> int | None:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return None  # not a terminal (or no file descriptor): nothing to fit


class Progress:
    """Counts finished items and failures; redraws at most every ``interval`` seconds."""

    def __init__(
        self,
        stream: TextIO,
        *,
        total: int | None,
        live: bool,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        width: int | None = None,
        enabled: bool = True,
        resumed: int = 0,
    ) -> None:
        self._stream = stream
        self._enabled = enabled
        # Items an interrupted run finished, replayed first: left out of the rate.
        self._resumed = resumed
        self._total = total if total is not None and total > 0 else None
        self._live = live
        self._interval = (
            interval if interval is not None else (LIVE_INTERVAL if live else PLAIN_INTERVAL)
        )
        self._clock = clock
        self._width = width  # None: the terminal's, read at each draw (it may be resized)
        self._started = self._clock()
        self._last_draw = self._started
        self._bar_shown = False
        self.done = 0
        self.failed = 0

    def advance(self, *, failed: bool) -> None:
        self.done += 1
        if failed:
            self.failed += 1
        if not self._enabled:
            return
        now = self._clock()
        if now - self._last_draw >= self._interval:
            self._last_draw = now
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        """The progress text: counts, share done, rate, time left and failures."""
        now = self._clock() if now is None else now
        elapsed = now - self._started
        ran = self.done - min(self.done, self._resumed)
        rate = ran / elapsed if elapsed > 0 else 0.0
        parts = []
        if self._total is not None:
            fraction = min(self.done / self._total, 1.0)
            if self._live:
                filled = int(fraction * _BAR_WIDTH)
                parts.append("[" + "#" * filled + "." * (_BAR_WIDTH - filled) + "]")
            parts.append(f"{self.done}/{self._total} items ({fraction:.0%})")
        else:
            parts.append(counted(self.done, "item"))
        parts.append(_rate(rate))
        if self._total is not None and rate > 0 and self.done < self._total:
            parts.append(f"ETA {_eta((self._total - self.done) / rate)}")
        parts.append(f"{self.failed} failed")
        return "  ".join(parts)

    def _draw(self, now: float) -> None:
        text = self.line(now)
        if self._live:
            width = self._width if self._width is not None else _terminal_width(self._stream)
            if width is not None:
                # Stop short of the last column: writing there wraps on some terminals.
                text = text[: max(width - 1, 0)]
            self._stream.write(_ERASE_LINE + text)
            self._bar_shown = True
        else:
            self._stream.write("progress: " + text + "\n")
        self._stream.flush()

    def close(self) -> None:
        """Erase the live bar, so the summary that follows starts on a clean line."""
        if self._bar_shown:
            self._stream.write(_ERASE_LINE)
            self._stream.flush()
            self._bar_shown = False
