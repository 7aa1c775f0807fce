"""Schedule Trigger (``n8n-nodes-base.scheduleTrigger``, typeVersions 1-1.3): n8n's rules as
cron expressions, its recurrence check, and the item a tick emits.

Semantics follow n8n's packages/nodes-base/nodes/Schedule (GenericFunctions.ts,
ScheduleTrigger.node.ts, SchedulerInterface.ts):

- each entry of ``rule.interval`` is one rule, turned into a 6-field cron expression (with
  seconds) by :func:`cron_expression`: ``seconds`` → ``*/N * * * * *``; ``minutes`` →
  ``S */N * * * *``; ``hours`` → ``S M */N * * *`` when N divides 24, else ``S M * * * *``
  filtered by the recurrence check; ``days`` → ``S M H * * *``; ``weeks`` → ``S M H * * D,D``;
  ``months`` → ``S M H DOM */N *``; ``cronExpression`` → the expression as written (5 fields,
  or 6 with seconds first). ``S`` (and ``M``, ``H``, ``DOM`` when absent) is n8n's "stable
  random" value: a SHA-256 digest of a seed and a label, so every replica computes the same
  ticks (n8n seeds it with the workflow and node ids; ``serve`` with the pipeline's key);
- rules running every N > 1 hours, days, weeks or months fire on their cron expression only
  when N units have passed since the rule last fired (:func:`recurrence_check`, n8n's
  ``recurrenceCheckAt``: hour of day, day of year, week of year, month, compared modulo the
  unit's cycle; several weekdays of one week all fire);
- the item (:func:`tick_item`) holds the tick's time in the pipeline's time zone, under
  n8n's names and in moment.js's formats (``timestamp``, ``Readable date``, ... ``Timezone``).

The cron library (cronsim) is imported only when a timetable is built or checked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from plivo_node.core.errors import ConfigurationError
from plivo_node.expressions import is_expression

TYPE_VERSIONS: Final = (1, 1.1, 1.2, 1.3)
FIELDS: Final = ("seconds", "minutes", "hours", "days", "weeks", "months", "cronExpression")
# Each interval's whole-number parameters and their bounds (n8n's validateInterval and the
# description's minValue/maxValue).
WHOLE_NUMBERS: Final[dict[str, tuple[int, int | None]]] = {
    "secondsInterval": (1, 59),
    "minutesInterval": (1, 59),
    "hoursInterval": (1, 23),
    "daysInterval": (1, 31),
    "weeksInterval": (1, None),
    "monthsInterval": (1, None),
    "triggerAtDayOfMonth": (1, 31),
    "triggerAtHour": (0, 23),
    "triggerAtMinute": (0, 59),
}
_UNIT_OF_FIELD: Final = {"hours": "hours", "days": "days", "weeks": "weeks", "months": "months"}
_INTERVAL_OF_UNIT: Final = {
    "hours": "hoursInterval",
    "days": "daysInterval",
    "weeks": "weeksInterval",
    "months": "monthsInterval",
}
# How many values each recurrence unit cycles through (n8n's modulo).
_CYCLE: Final = {"hours": 24, "days": 365, "weeks": 52, "months": 12}


def stable_int(seed: str, label: str, low: int, high: int) -> int:
    """n8n's ``stableInt``: a whole number in ``[low, high)`` from the SHA-256 of
    ``seed:label`` (its first four bytes, big-endian)."""
    digest = hashlib.sha256(f"{seed}:{label}".encode()).digest()
    return low + int.from_bytes(digest[:4], "big") % (high - low)


def cron_expression(interval: Mapping[str, Any], seed: str) -> str:
    """The 6-field cron expression n8n registers for one rule (see the module docstring)."""
    field = interval.get("field", "days")
    if field == "cronExpression":
        return str(interval.get("expression", "")).strip()
    if field == "seconds":
        return f"*/{interval['secondsInterval']} * * * * *"
    second = stable_int(seed, "second", 0, 60)
    if field == "minutes":
        return f"{second} */{interval['minutesInterval']} * * * *"
    minute = interval.get("triggerAtMinute")
    minute = stable_int(seed, "minute", 0, 60) if minute is None else minute
    if field == "hours":
        hours = int(interval["hoursInterval"])
        if 24 % hours == 0:
            return f"{second} {minute} */{hours} * * *"
        # */18 would fire at 00:xx and 18:xx: an 18 h gap, then 6 h. Every hour, filtered by
        # the recurrence check, keeps a steady rhythm.
        return f"{second} {minute} * * * *"
    hour = interval.get("triggerAtHour")
    hour = stable_int(seed, "hour", 0, 24) if hour is None else hour
    if field == "days":
        return f"{second} {minute} {hour} * * *"
    if field == "weeks":
        days = list(interval.get("triggerAtDay") or [])
        weekdays = ",".join(str(day) for day in days) if days else "*"
        return f"{second} {minute} {hour} * * {weekdays}"
    day = interval.get("triggerAtDayOfMonth")
    # 1-28 when absent: a later day would skip the months without it.
    day = stable_int(seed, "dayOfMonth", 1, 29) if day is None else day
    return f"{second} {minute} {hour} {day} */{interval['monthsInterval']} *"


# --- every N hours, days, weeks or months --------------------------------------------------


@dataclass(frozen=True)
class Recurrence:
    unit: str  # hours, days, weeks or months
    size: int  # fire when this many units have passed since the last run


def recurrence_of(interval: Mapping[str, Any]) -> Recurrence | None:
    """n8n's ``intervalToRecurrence``: a check only for an interval other than 1."""
    unit = _UNIT_OF_FIELD.get(str(interval.get("field")))
    if unit is None:
        return None
    size = int(interval.get(_INTERVAL_OF_UNIT[unit], 1))
    return Recurrence(unit, size) if size != 1 else None


def _week_one_start(year: int) -> date:
    """The Sunday that starts week 1 of ``year`` (moment's "en" locale: weeks start on
    Sunday, and week 1 holds January 1)."""
    first = date(year, 1, 1)
    return first - timedelta(days=(first.weekday() + 1) % 7)


def week_of_year(day: date) -> int:
    """moment.js's ``week()`` in the "en" locale."""
    next_start = _week_one_start(day.year + 1)
    if day >= next_start:
        return 1
    return (day - _week_one_start(day.year)).days // 7 + 1


def unit_value(unit: str, at: datetime) -> int:
    """What n8n compares for a unit: hour (0-23), day of year (1-366), week of year, month
    (0-11), all in the tick's own time zone."""
    if unit == "hours":
        return at.hour
    if unit == "days":
        return at.timetuple().tm_yday
    if unit == "weeks":
        return week_of_year(at.date())
    return at.month - 1


def recurrence_check(recurrence: Recurrence, last: int | None, at: datetime) -> tuple[bool, int]:
    """n8n's ``recurrenceCheckAt``: whether the rule fires at ``at`` given the value it last
    fired at (None: never), and the value to remember."""
    value = unit_value(recurrence.unit, at)
    if last is None:
        return True, value
    cycle = _CYCLE[recurrence.unit]
    passed = (value - last + cycle) % cycle
    if passed >= recurrence.size or (recurrence.unit == "weeks" and value == last):
        return True, value
    return False, last


# --- checks ---------------------------------------------------------------------------------


def interval_problems(index: int, interval: Mapping[str, Any]) -> list[str]:
    """What makes one rule unusable, each ``rule.interval[i].<name>: why (fix)``; values that
    are expressions are left to the resolver."""
    where = f"rule.interval[{index}]"
    problems: list[str] = []
    field = interval.get("field", "days")
    for name, (low, high) in WHOLE_NUMBERS.items():
        value = interval.get(name)
        if value is None or is_expression(value) or isinstance(value, str):
            continue
        whole = isinstance(value, int) and not isinstance(value, bool)
        if not whole or value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"of at least {low}"
            problems.append(f"{where}.{name}: {value!r} must be a whole number {span}")
    if field == "cronExpression":
        expression = interval.get("expression", "")
        if isinstance(expression, str) and not is_expression(expression):
            problem = cron_problem(expression)
            if problem is not None:
                problems.append(f"{where}.expression: {problem}")
    return problems


def cron_problem(expression: str) -> str | None:
    """Why a cron expression cannot run, or None."""
    from cronsim import CronSim, CronSimError  # noqa: PLC0415 - only when a schedule is used

    text = expression.strip()
    if not text:
        return "the cron expression is empty (write one, e.g. '0 9 * * 1-5' for 09:00 on weekdays)"
    try:
        next(CronSim(text, datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))))
    except (CronSimError, StopIteration) as exc:
        return (
            f"{text!r} is not a valid cron expression ({exc or 'it never fires'}; write 5 "
            "fields [minute] [hour] [day of month] [month] [day of week], or 6 with [second] "
            "first, e.g. '0 9 * * 1-5')"
        )
    return None


def constant_problems(params: Mapping[str, Any]) -> Iterator[str]:
    """The rules' problems known before anything runs (``validate``), from the raw values."""
    rule = params.get("rule")
    if not isinstance(rule, Mapping):
        return
    intervals = rule.get("interval")
    if isinstance(intervals, list):
        for index, interval in enumerate(intervals):
            if isinstance(interval, Mapping):
                for problem in interval_problems(index, interval):
                    yield f"parameters.{problem}"
    elif intervals is not None:
        yield "parameters.rule.interval: expected a list of rules"
    if not intervals:
        yield (
            "parameters.rule.interval: there is no rule, so the schedule never fires (add "
            "one, e.g. {field: days, triggerAtHour: 9})"
        )


# --- the timetable --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    index: int
    cron: str
    recurrence: Recurrence | None


@dataclass(frozen=True)
class ScheduleTimetable:
    """The step's rules in its time zone (the :class:`~plivo_node.core.node.Timetable`)."""

    rules: tuple[Rule, ...]
    zone: ZoneInfo

    def next_fire(self, after: datetime) -> datetime:
        from cronsim import CronSim  # noqa: PLC0415

        local = after.astimezone(self.zone)
        return min(next(CronSim(rule.cron, local)) for rule in self.rules)

    def fires(self, at: datetime, memory: MutableMapping[str, int]) -> bool:
        from cronsim import CronSim  # noqa: PLC0415

        local = at.astimezone(self.zone).replace(microsecond=0)
        fired = False
        for rule in self.rules:
            if next(CronSim(rule.cron, local - timedelta(seconds=1))) != local:
                continue
            if rule.recurrence is None:
                fired = True
                continue
            key = str(rule.index)
            runs, remembered = recurrence_check(rule.recurrence, memory.get(key), local)
            memory[key] = remembered
            fired = fired or runs
        return fired


def timetable(params: Mapping[str, Any], *, seed: str, timezone: str) -> ScheduleTimetable:
    """The timetable of the step's resolved parameters (ConfigurationError when unusable)."""
    rule = params.get("rule")
    intervals = rule.get("interval") if isinstance(rule, Mapping) else None
    problems = list(constant_problems(params))
    if not isinstance(rule, Mapping):
        problems.append("parameters.rule: there is no rule, so the schedule never fires")
    if not isinstance(intervals, list):
        intervals = []  # reported above
    rules: list[Rule] = []
    for index, interval in enumerate(intervals):
        if not isinstance(interval, Mapping) or interval_problems(index, interval):
            continue  # reported above
        cron = cron_expression(interval, seed)
        problem = cron_problem(cron)
        if problem is not None:
            problems.append(f"parameters.rule.interval[{index}]: {problem}")
        rules.append(Rule(index, cron, recurrence_of(interval)))
    if problems:
        raise ConfigurationError(
            "; ".join(dict.fromkeys(problems)),
            hint="fix the Schedule Trigger's rules (plivo-node describe --node scheduleTrigger "
            "lists them)",
        )
    return ScheduleTimetable(tuple(rules), ZoneInfo(timezone))


# --- the item -----------------------------------------------------------------------------


# English names, as moment's default locale writes them (strftime's follow the C locale).
_MONTHS: Final = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _offset(at: datetime) -> str:
    """moment's ``Z``: ``+01:00``."""
    text = at.strftime("%z") or "+0000"
    return f"{text[:3]}:{text[3:5]}"


def tick_item(at: datetime, timezone: str) -> dict[str, str]:
    """The item n8n's Schedule Trigger emits for a tick at ``at``, in ``timezone``."""
    local = at.astimezone(ZoneInfo(timezone))
    hour12 = local.hour % 12 or 12
    meridiem = "am" if local.hour < 12 else "pm"
    clock = f"{hour12}:{local.minute:02d}:{local.second:02d} {meridiem}"
    month = _MONTHS[local.month - 1]
    millis = local.microsecond // 1000
    return {
        # moment's toISOString(true): milliseconds, and the zone's own offset.
        "timestamp": f"{local.replace(tzinfo=None).isoformat(timespec='seconds')}.{millis:03d}"
        + _offset(local),
        "Readable date": f"{month} {_ordinal(local.day)} {local.year}, {clock}",
        "Readable time": clock,
        "Day of week": _WEEKDAYS[local.weekday()],
        "Year": f"{local.year:04d}",
        "Month": month,
        "Day of month": f"{local.day:02d}",
        "Hour": f"{local.hour:02d}",
        "Minute": f"{local.minute:02d}",
        "Second": f"{local.second:02d}",
        "Timezone": f"{timezone} (UTC{_offset(local)})",
    }
