"""Dates written as text, read as n8n's ``tryToParseDateTime`` reads them.

n8n tries, in order, Luxon's ``fromISO``, ``fromHTTP``, ``fromRFC2822`` and ``fromSQL``, then
JavaScript's ``Date.parse`` (packages/workflow/src/type-validation.ts). This module reads:

- ISO 8601 as Luxon does: ``2023-10-21``, ``2023-10``, ``2023``, ``20231021``,
  ``2023-10-21T16:45:52.367Z``, ``2023-10-21T16:45+02:00``, week dates ``2023-W42-6``,
  ordinal dates ``2023-294``, and a time alone (``16:45``, today);
- HTTP dates (RFC 1123, RFC 850, asctime) and RFC 2822 (``Sat, 21 Oct 2023 16:45:52 +0200``);
- SQL: ``2023-10-21 16:45:52.367``, optionally with an offset or an IANA zone;
- the forms ``Date.parse`` is used for in practice: ``2023/10/21``, ``10/21/2023``,
  ``October 21, 2023``, ``21 Oct 2023`` (each optionally with ``HH:MM[:SS]``), and
  JavaScript's ``Date.prototype.toString()`` output.

A date without an offset is in UTC here: n8n reads it in the instance's time zone
(``GENERIC_TIMEZONE``), which this runtime does not have. Milliseconds are the finest unit, as
in Luxon. Anything else raises ``ValueError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS: Final = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
_WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTH_NAMES: Final = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY_NAMES: Final = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*"
_OBSOLETE_ZONES: Final = {
    "UT": 0,
    "GMT": 0,
    "EDT": -4,
    "EST": -5,
    "CDT": -5,
    "CST": -6,
    "MDT": -6,
    "MST": -7,
    "PDT": -7,
    "PST": -8,
}

_TIME: Final = r"(?P<h>\d\d)(?::?(?P<mi>\d\d)(?::?(?P<s>\d\d)(?:[.,](?P<f>\d{1,30}))?)?)?"
_OFFSET: Final = r"(?:(?P<z>Z)|(?P<oh>[+-]\d\d)(?::?(?P<om>\d\d))?)"
_ISO_TIME_TAIL: Final = rf"(?:T{_TIME}{_OFFSET}?)?"
_ISO: Final = tuple(
    re.compile(pattern)
    for pattern in (
        rf"(?P<y>[+-]\d{{6}}|\d{{4}})(?:-?(?P<m>\d\d)(?:-?(?P<d>\d\d))?)?{_ISO_TIME_TAIL}",
        rf"(?P<y>\d{{4}})-?W(?P<w>\d\d)(?:-?(?P<wd>\d))?{_ISO_TIME_TAIL}",
        rf"(?P<y>\d{{4}})-?(?P<o>\d{{3}}){_ISO_TIME_TAIL}",
        rf"{_TIME}{_OFFSET}?",
    )
)
_RFC2822: Final = re.compile(
    r"(?:(?P<wd>Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s)?(?P<d>\d{1,2})\s"
    r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s(?P<y>\d{2,4})\s"
    r"(?P<h>\d\d):(?P<mi>\d\d)(?::(?P<s>\d\d))?\s"
    r"(?:(?P<obs>UT|GMT|[ECMP][SD]T)|(?P<z>[Zz])|(?:(?P<oh>[+-]\d\d)(?P<om>\d\d)))"
)
_HTTP: Final = tuple(
    re.compile(pattern)
    for pattern in (
        (
            r"(?P<wd>Mon|Tue|Wed|Thu|Fri|Sat|Sun), (?P<d>\d\d) (?P<mon>[A-Z][a-z]{2}) (?P<y>\d{4}) "
            r"(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d) GMT"
        ),
        (
            r"(?P<wd>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (?P<d>\d\d)-"
            r"(?P<mon>[A-Z][a-z]{2})-(?P<y>\d\d) (?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d) GMT"
        ),
        (
            r"(?P<wd>Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?P<mon>[A-Z][a-z]{2}) (?P<d> \d|\d\d) "
            r"(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d) (?P<y>\d{4})"
        ),
    )
)
_SQL_TIME: Final = rf"{_TIME} ?(?:{_OFFSET}|(?P<iana>[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+|UTC))?"
_SQL: Final = (
    re.compile(rf"(?P<y>\d{{4}})-(?P<m>\d\d)-(?P<d>\d\d)(?: {_SQL_TIME})?"),
    re.compile(_SQL_TIME),
)
_CLOCK: Final = r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d\d)(?::(?P<s>\d\d))?)?"
_LEGACY: Final = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        rf"(?P<y>\d{{4}})/(?P<m>\d{{1,2}})/(?P<d>\d{{1,2}}){_CLOCK}",
        rf"(?P<m>\d{{1,2}})/(?P<d>\d{{1,2}})/(?P<y>\d{{4}}){_CLOCK}",
        (
            rf"(?:{_DAY_NAMES},?\s+)?{_MONTH_NAMES}\.?\s+(?P<d>\d{{1,2}}),?\s+(?P<y>\d{{4}}){_CLOCK}"
            r"(?:\s+(?:GMT|UTC|Z)(?P<oh>[+-]\d\d)?(?P<om>\d\d)?(?:\s+\(.*\))?)?"
        ),
        rf"(?:{_DAY_NAMES},?\s+)?(?P<d>\d{{1,2}})\s+{_MONTH_NAMES}\.?,?\s+(?P<y>\d{{4}}){_CLOCK}",
    )
)


def _fraction_ms(digits: str | None) -> int:
    # Luxon: Math.floor(parseFloat("0." + fraction) * 1000)
    return int(float(f"0.{digits}") * 1000) if digits else 0


def _offset(sign_hours: str | None, minutes: str | None, *, utc: bool) -> tzinfo | None:
    if utc:
        return UTC
    if sign_hours is None:
        return None
    hours = int(sign_hours)
    total = hours * 60 + (-1 if hours < 0 or sign_hours.startswith("-") else 1) * int(minutes or 0)
    return timezone(timedelta(minutes=total))


def _clock(groups: dict[str, str | None]) -> time:
    hour, minute, second = (int(groups.get(key) or 0) for key in ("h", "mi", "s"))
    return time(hour, minute, second, _fraction_ms(groups.get("f")) * 1000)


def _combine(day: date, clock: time, zone: tzinfo | None) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone or UTC)


def _today() -> date:
    return datetime.now(UTC).date()


def _year(text: str) -> int:
    year = int(text)
    if not 1 <= year <= 9999:
        raise ValueError(f"the year {text} is out of range")
    return year


def _iso_day(groups: dict[str, str | None]) -> date:
    year = _year(groups["y"] or "")
    if groups.get("w"):
        week, weekday = int(groups["w"] or 0), int(groups.get("wd") or 1)
        return date.fromisocalendar(year, week, weekday)
    if groups.get("o"):
        ordinal = int(groups["o"] or 0)
        if not 1 <= ordinal <= (366 if date(year, 12, 31).timetuple().tm_yday == 366 else 365):
            raise ValueError("the day of the year is out of range")
        return date(year, 1, 1) + timedelta(days=ordinal - 1)
    return date(year, int(groups.get("m") or 1), int(groups.get("d") or 1))


def _from_iso(text: str) -> datetime | None:
    for pattern in _ISO:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        groups = match.groupdict()
        day = _iso_day(groups) if groups.get("y") else _today()
        zone = _offset(groups.get("oh"), groups.get("om"), utc=bool(groups.get("z")))
        return _combine(day, _clock(groups), zone)
    return None


def _month(name: str) -> int:
    return _MONTHS.index(name[:3].lower()) + 1


def _check_weekday(moment: datetime, weekday: str | None) -> datetime:
    if weekday and _WEEKDAYS.index(weekday[:3].lower()) != moment.weekday():
        raise ValueError("the weekday does not match the date")
    return moment


def _two_digit_year(text: str) -> int:
    # Luxon's untruncateYear: 61-99 are 19xx, 00-60 are 20xx.
    year = int(text)
    return year + (1900 if year > 60 else 2000) if len(text) == 2 else year


def _from_rfc2822(text: str) -> datetime | None:
    cleaned = re.sub(r"\s\s+", " ", re.sub(r"\([^()]*\)|[\n\t]", " ", text)).strip()
    match = _RFC2822.fullmatch(cleaned)
    if match is None:
        return None
    groups = match.groupdict()
    if groups["obs"]:
        zone: tzinfo | None = timezone(timedelta(hours=_OBSOLETE_ZONES[groups["obs"]]))
    else:
        zone = _offset(groups["oh"], groups["om"], utc=bool(groups["z"]))
    day = date(
        _two_digit_year(groups["y"] or ""), _month(groups["mon"] or ""), int(groups["d"] or 0)
    )
    return _check_weekday(_combine(day, _clock(groups), zone), groups["wd"])


def _from_http(text: str) -> datetime | None:
    for pattern in _HTTP:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        groups = match.groupdict()
        if (groups["mon"] or "").lower() not in _MONTHS:
            return None
        year = _two_digit_year(groups["y"] or "")
        day = date(year, _month(groups["mon"] or ""), int((groups["d"] or "").strip()))
        return _check_weekday(_combine(day, _clock(groups), UTC), groups["wd"])
    return None


def _from_sql(text: str) -> datetime | None:
    for pattern in _SQL:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        groups = match.groupdict()
        day = (
            date(_year(groups["y"] or ""), int(groups["m"] or 0), int(groups["d"] or 0))
            if (groups.get("y"))
            else _today()
        )
        zone = _offset(groups.get("oh"), groups.get("om"), utc=bool(groups.get("z")))
        if groups.get("iana"):
            try:
                zone = ZoneInfo(groups["iana"] or "")
            except (ZoneInfoNotFoundError, ValueError):
                return None
        return _combine(day, _clock(groups), zone)
    return None


def _from_legacy(text: str) -> datetime | None:
    for pattern in _LEGACY:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        groups = match.groupdict()
        month = _month(groups["mon"]) if groups.get("mon") else int(groups["m"] or 0)
        day = date(_year(groups["y"] or ""), month, int(groups["d"] or 0))
        zone = _offset(groups.get("oh"), groups.get("om"), utc=False)
        return _combine(day, _clock(groups), zone)
    return None


_READERS: Final[tuple[Callable[[str], datetime | None], ...]] = (
    _from_iso,
    _from_http,
    _from_rfc2822,
    _from_sql,
    _from_legacy,
)


def parse_date_time(text: str) -> datetime:
    """The moment ``text`` names, with its offset (UTC when it gives none)."""
    stripped = text.strip()
    for reader in _READERS:
        try:
            moment = reader(stripped)
        except (ValueError, OverflowError):
            continue  # Luxon: an invalid DateTime; the next reader gets its turn
        if moment is not None:
            return moment
    raise ValueError(f"{text!r} is not a date n8n can read")


def to_millis(moment: datetime) -> int:
    """Luxon's ``toMillis()``: milliseconds since the epoch."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
