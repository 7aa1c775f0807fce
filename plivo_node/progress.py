"""Progress on stderr: a live bar on a terminal, a plain periodic line otherwise."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

_BAR_WIDTH = 28


def _eta(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


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
    ) -> None:
        self._stream = stream
        self._total = total
        self._live = live
        self._interval = interval if interval is not None else (0.1 if live else 5.0)
        self._clock = clock
        self._started = self._clock()
        self._last_draw = self._started
        self.done = 0
        self.failed = 0

    def advance(self, *, failed: bool) -> None:
        self.done += 1
        if failed:
            self.failed += 1
        now = self._clock()
        if now - self._last_draw >= self._interval:
            self._last_draw = now
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        now = self._clock() if now is None else now
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        parts = []
        if self._total:
            fraction = min(self.done / self._total, 1.0)
            if self._live:
                filled = int(fraction * _BAR_WIDTH)
                parts.append("[" + "#" * filled + "." * (_BAR_WIDTH - filled) + "]")
            parts.append(f"{self.done}/{self._total} items ({fraction:.0%})")
        else:
            parts.append(f"{self.done} items")
        parts.append(f"{rate:.0f}/s")
        if self._total and rate > 0 and self.done < self._total:
            parts.append(f"ETA {_eta((self._total - self.done) / rate)}")
        parts.append(f"{self.failed} failed")
        return "  ".join(parts)

    def _draw(self, now: float) -> None:
        if self._live:
            self._stream.write("\r\x1b[2K" + self.line(now))
        else:
            self._stream.write("progress: " + self.line(now) + "\n")
        self._stream.flush()

    def close(self) -> None:
        if self._live:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()
