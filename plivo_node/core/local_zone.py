"""This machine's IANA time zone name: what a schedule runs in when the pipeline names none.

n8n defaults a workflow's time zone to the instance's (``GENERIC_TIMEZONE``, else the host's);
here it is ``TZ`` when that names an IANA zone, else the zone ``/etc/localtime`` links to, else
``/etc/timezone``, else UTC.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MARKER = "zoneinfo/"


def is_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine (or the tzdata package) knows."""
    if not name or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_zone_name() -> str:
    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        target = ""
    if _MARKER in target:
        candidates.append(target.rsplit(_MARKER, 1)[1])
    with contextlib.suppress(OSError, UnicodeDecodeError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    return next((name for name in candidates if is_zone(name)), "UTC")
