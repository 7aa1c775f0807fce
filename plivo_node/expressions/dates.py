"""Dates as ``$now`` and ``$today`` offer them: a small part of Luxon's ``DateTime``."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Final

from plivo_node.core.errors import ExpressionError
from plivo_node.expressions.coercion import to_number, to_string
from plivo_node.expressions.values import iso

_MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _offset_text(moment: datetime, *, colon: bool) -> str:
    offset = moment.utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}" if colon else f"{sign}{hours:02d}{rest:02d}"


def _hour12(moment: datetime) -> int:
    return moment.hour % 12 or 12


_LUXON_TOKENS: Final[dict[str, Callable[[datetime], str]]] = {
    "yyyy": lambda moment: f"{moment.year:04d}",
    "yy": lambda moment: f"{moment.year % 100:02d}",
    "MMMM": lambda moment: _MONTHS[moment.month - 1],
    "MMM": lambda moment: _MONTHS[moment.month - 1][:3],
    "MM": lambda moment: f"{moment.month:02d}",
    "M": lambda moment: str(moment.month),
    "dd": lambda moment: f"{moment.day:02d}",
    "d": lambda moment: str(moment.day),
    "HH": lambda moment: f"{moment.hour:02d}",
    "H": lambda moment: str(moment.hour),
    "hh": lambda moment: f"{_hour12(moment):02d}",
    "h": lambda moment: str(_hour12(moment)),
    "mm": lambda moment: f"{moment.minute:02d}",
    "m": lambda moment: str(moment.minute),
    "ss": lambda moment: f"{moment.second:02d}",
    "s": lambda moment: str(moment.second),
    "SSS": lambda moment: f"{moment.microsecond // 1000:03d}",
    "a": lambda moment: "AM" if moment.hour < 12 else "PM",
    "EEEE": lambda moment: _WEEKDAYS[moment.weekday()],
    "EEE": lambda moment: _WEEKDAYS[moment.weekday()][:3],
    "ZZZ": lambda moment: _offset_text(moment, colon=False),
    "ZZ": lambda moment: _offset_text(moment, colon=True),
    "Z": lambda moment: _offset_text(moment, colon=True),
}
# Longest tokens first, so "yyyy" is not read as "yy" twice; 'quoted' text is literal.
_LUXON_PATTERN: Final = re.compile(
    "'[^']*'|" + "|".join(sorted(_LUXON_TOKENS, key=len, reverse=True))
)


def _to_format(moment: datetime, pattern: object) -> str:
    """Luxon's ``toFormat`` for the common tokens (yyyy-MM-dd HH:mm:ss, 'literal' text)."""

    def replace(match: re.Match[str]) -> str:
        token = match.group()
        return token[1:-1] if token.startswith("'") else _LUXON_TOKENS[token](moment)

    return _LUXON_PATTERN.sub(replace, to_string(pattern))


_DURATION_UNITS: Final = frozenset(("weeks", "days", "hours", "minutes", "seconds", "milliseconds"))


def _add_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved by whole months, the day clamped to the target month's last day."""
    total = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(total, 12)
    month_days = (date(year + (month == 11), (month + 1) % 12 + 1, 1) - timedelta(1)).day
    return moment.replace(year=year, month=month + 1, day=min(moment.day, month_days))


def _shift(moment: datetime, duration: object, sign: int) -> datetime:
    """``plus()`` (sign 1) and ``minus()`` (sign -1): milliseconds or ``{ days: 1, … }``."""
    if isinstance(duration, int | float) and not isinstance(duration, bool):
        return moment + sign * timedelta(milliseconds=float(duration))
    if not isinstance(duration, Mapping):
        raise ExpressionError("plus()/minus() take an object such as { days: 1 } or milliseconds")
    months = 0
    delta = timedelta()
    for unit, amount in duration.items():
        name = unit if str(unit).endswith("s") else f"{unit}s"
        count = to_number(amount)
        if isinstance(count, float) and not math.isfinite(count):
            raise ExpressionError(f"plus()/minus() need a number of {name}")
        if name in ("years", "months"):
            months += int(count) * (12 if name == "years" else 1)
        elif name in _DURATION_UNITS:
            delta += timedelta(**{name: count})  # Luxon and timedelta share these names
        else:
            raise ExpressionError(
                f"Unknown duration unit '{unit}'", hint="use years … milliseconds"
            )
    try:
        if months:
            moment = _add_months(moment, sign * months)
        return moment + sign * delta
    except (OverflowError, ValueError):
        raise ExpressionError("The date is out of range") from None


def start_of_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


DATE_PROPERTIES: Final[dict[str, Callable[[datetime], object]]] = {
    "year": lambda moment: moment.year,
    "month": lambda moment: moment.month,
    "day": lambda moment: moment.day,
    "hour": lambda moment: moment.hour,
    "minute": lambda moment: moment.minute,
    "second": lambda moment: moment.second,
    "millisecond": lambda moment: moment.microsecond // 1000,
    "weekday": lambda moment: moment.isoweekday(),
}

DATE_METHODS: Final[dict[str, Callable[..., object]]] = {
    "toISO": iso,
    "toISODate": lambda moment: moment.date().isoformat(),
    "toString": iso,
    "toJSON": iso,
    "isoformat": iso,
    "toFormat": _to_format,
    "toMillis": lambda moment: int(moment.timestamp() * 1000),
    "toSeconds": lambda moment: int(moment.timestamp()),
    "plus": lambda moment, duration: _shift(moment, duration, 1),
    "minus": lambda moment, duration: _shift(moment, duration, -1),
}
