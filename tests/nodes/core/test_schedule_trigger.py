"""The Schedule Trigger: n8n's rules as cron expressions, its recurrence check, its item, and
the checks that refuse a rule before anything runs.

The golden cron expressions were derived by reading n8n's toCronExpression
(packages/nodes-base/nodes/Schedule/GenericFunctions.ts, the version with ``stableInt``); the
stable values (second 12, minute 3, hour 15, day of month 3 for the seed "schedule/daily")
were computed with Node.js's crypto, as n8n computes them:
``sha256("schedule/daily:second").readUInt32BE(0) % 60`` and so on.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from plivo_node.cli import EXIT_OK, EXIT_USAGE, main
from plivo_node.core.errors import ConfigurationError
from plivo_node.nodes.core.schedule_trigger import (
    Recurrence,
    cron_expression,
    recurrence_check,
    recurrence_of,
    stable_int,
    tick_item,
    timetable,
    week_of_year,
)

SEED = "schedule/daily"


def test_stable_values_match_node_crypto() -> None:
    assert [stable_int(SEED, label, 0, 60) for label in ("second", "minute")] == [12, 3]
    assert stable_int(SEED, "hour", 0, 24) == 15
    assert stable_int(SEED, "dayOfMonth", 1, 29) == 3
    assert stable_int("schedule/balance", "second", 0, 60) == 27


@pytest.mark.parametrize(
    ("interval", "cron"),
    [
        ({"field": "seconds", "secondsInterval": 30}, "*/30 * * * * *"),
        ({"field": "minutes", "minutesInterval": 5}, "12 */5 * * * *"),
        ({"field": "hours", "hoursInterval": 6, "triggerAtMinute": 15}, "12 15 */6 * * *"),
        # 18 does not divide 24: every hour, and the recurrence check keeps 18 h apart.
        ({"field": "hours", "hoursInterval": 18, "triggerAtMinute": 0}, "12 0 * * * *"),
        ({"field": "hours", "hoursInterval": 3}, "12 3 */3 * * *"),
        (
            {"field": "days", "daysInterval": 1, "triggerAtHour": 9, "triggerAtMinute": 30},
            "12 30 9 * * *",
        ),
        ({"field": "days"}, "12 3 15 * * *"),
        (
            {"field": "weeks", "triggerAtDay": [1, 3], "triggerAtHour": 8, "triggerAtMinute": 0},
            "12 0 8 * * 1,3",
        ),
        (
            {"field": "weeks", "triggerAtDay": [], "triggerAtHour": 8, "triggerAtMinute": 0},
            "12 0 8 * * *",
        ),
        (
            {
                "field": "months",
                "monthsInterval": 2,
                "triggerAtDayOfMonth": 15,
                "triggerAtHour": 7,
                "triggerAtMinute": 45,
            },
            "12 45 7 15 */2 *",
        ),
        ({"field": "months", "monthsInterval": 1}, "12 3 15 3 */1 *"),
        ({"field": "cronExpression", "expression": " 0 9 * * 1-5 "}, "0 9 * * 1-5"),
    ],
)
def test_each_interval_becomes_n8ns_cron_expression(interval: dict[str, Any], cron: str) -> None:
    assert cron_expression(interval, SEED) == cron


def test_only_intervals_other_than_one_get_a_recurrence_check() -> None:
    assert recurrence_of({"field": "days", "daysInterval": 1}) is None
    assert recurrence_of({"field": "days", "daysInterval": 3}) == Recurrence("days", 3)
    assert recurrence_of({"field": "weeks", "weeksInterval": 2}) == Recurrence("weeks", 2)
    assert recurrence_of({"field": "minutes", "minutesInterval": 7}) is None


def test_every_three_days_fires_on_the_first_and_fourth_day() -> None:
    every_three = Recurrence("days", 3)
    last: int | None = None
    fired = []
    for day in range(1, 8):
        at = datetime(2026, 3, day, 9, tzinfo=UTC)
        runs, last = recurrence_check(every_three, last, at)
        fired.append(runs)
    assert fired == [True, False, False, True, False, False, True]


def test_every_two_weeks_fires_on_every_chosen_day_of_a_week_it_runs() -> None:
    fortnightly = Recurrence("weeks", 2)
    # Mondays and Wednesdays of four weeks (moment's weeks start on Sunday).
    days = [datetime(2026, 3, 2, tzinfo=UTC) + timedelta(weeks=w, days=d) for w in range(4)
            for d in (0, 2)]  # fmt: skip
    last: int | None = None
    fired = []
    for at in days:
        runs, last = recurrence_check(fortnightly, last, at)
        fired.append(runs)
    assert fired == [True, True, False, False, True, True, False, False]


def test_weeks_are_momentjs_en_weeks() -> None:
    assert week_of_year(datetime(2026, 1, 1).date()) == 1  # a Thursday
    assert week_of_year(datetime(2026, 1, 4).date()) == 2  # the next Sunday starts week 2
    assert week_of_year(datetime(2025, 12, 28).date()) == 1  # the week that holds 1 January
    assert week_of_year(datetime(2026, 12, 26).date()) == 52


def test_the_item_is_n8ns_in_the_pipelines_time_zone() -> None:
    at = datetime(2026, 12, 3, 8, 0, 5, 123456, tzinfo=UTC)
    assert tick_item(at, "Europe/Berlin") == {
        "timestamp": "2026-12-03T09:00:05.123+01:00",
        "Readable date": "December 3rd 2026, 9:00:05 am",
        "Readable time": "9:00:05 am",
        "Day of week": "Thursday",
        "Year": "2026",
        "Month": "December",
        "Day of month": "03",
        "Hour": "09",
        "Minute": "00",
        "Second": "05",
        "Timezone": "Europe/Berlin (UTC+01:00)",
    }
    evening = tick_item(datetime(2026, 7, 22, 20, 30, tzinfo=UTC), "America/New_York")
    assert evening["Readable date"] == "July 22nd 2026, 4:30:00 pm"
    assert evening["Timezone"] == "America/New_York (UTC-04:00)"
    assert tick_item(datetime(2026, 1, 11, 0, 0, tzinfo=UTC), "UTC")["Readable time"] == (
        "12:00:00 am"
    )


def params(*intervals: dict[str, Any]) -> dict[str, Any]:
    return {"rule": {"interval": list(intervals)}}


def test_the_timetable_fires_each_rule_and_several_rules_share_one_tick() -> None:
    table = timetable(
        params(
            {"field": "seconds", "secondsInterval": 20},
            {"field": "cronExpression", "expression": "*/30 * * * * *"},
        ),
        seed=SEED,
        timezone="Europe/Berlin",
    )
    now = datetime(2026, 12, 3, 8, 0, 1, 500000, tzinfo=UTC)
    ticks = []
    memory: dict[str, int] = {}
    for _ in range(4):
        now = table.next_fire(now)
        assert table.fires(now, memory)
        ticks.append(now.astimezone(UTC).strftime("%H:%M:%S"))
    assert ticks == ["08:00:20", "08:00:30", "08:00:40", "08:01:00"]
    assert str(table.next_fire(now).tzinfo) == "Europe/Berlin"


def test_a_recurring_rule_remembers_its_last_run_in_the_callers_memory() -> None:
    table = timetable(
        params({"field": "days", "daysInterval": 2, "triggerAtHour": 9, "triggerAtMinute": 0}),
        seed=SEED,
        timezone="UTC",
    )
    now = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    memory: dict[str, int] = {}
    fired = []
    for _ in range(4):
        now = table.next_fire(now)
        assert (now.hour, now.minute, now.second) == (9, 0, 12)
        fired.append(table.fires(now, memory))
    assert fired == [True, False, True, False]
    assert memory == {"0": 62}  # day of year of 3 March 2026


@pytest.mark.parametrize(
    ("interval", "message"),
    [
        (
            {"field": "minutes", "minutesInterval": 2.5},
            "rule.interval[0].minutesInterval: 2.5 must be a whole number from 1 to 59",
        ),
        (
            {"field": "cronExpression", "expression": "0 61 * * *"},
            "rule.interval[0].expression: '0 61 * * *' is not a valid cron expression (Bad hour",
        ),
        (
            {"field": "cronExpression", "expression": "0 0 30 2 *"},
            "is not a valid cron expression (Bad day-of-month",
        ),
        ({"field": "cronExpression"}, "rule.interval[0].expression: the cron expression is empty"),
    ],
)
def test_unusable_rules_are_refused_naming_the_parameter(
    interval: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        timetable(params(interval), seed=SEED, timezone="UTC")
    assert message in caught.value.message


@pytest.mark.parametrize("rule", [{"interval": []}, {}])
def test_no_rule_at_all_is_refused(rule: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="there is no rule"):
        timetable({"rule": rule}, seed=SEED, timezone="UTC")


# --- through the CLI -----------------------------------------------------------------------

PIPELINE = """version: 1
{settings}steps:
  - name: Schedule
    node: scheduleTrigger
    parameters:
      rule:
        interval:
{rules}
"""


def write(tmp_path: Path, rules: str, settings: str = "") -> Path:
    pipeline = tmp_path / "scheduled.yaml"
    pipeline.write_text(PIPELINE.format(rules=rules, settings=settings), encoding="utf-8")
    return pipeline


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_URL"):
        monkeypatch.delenv(name, raising=False)


def test_run_fires_the_schedule_once_now_in_the_pipelines_time_zone(tmp_path: Path) -> None:
    pipeline = write(
        tmp_path,
        "          - {field: hours, hoursInterval: 2}",
        "settings: {timezone: Asia/Kolkata}\n",
    )
    out = tmp_path / "out.jsonl"
    before = datetime.now(UTC).replace(microsecond=0)
    assert main(["run", str(pipeline), "--output", str(out), "--no-journal", "--sandbox"]) == 0
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    item = record["json"]
    assert item["Timezone"] == "Asia/Kolkata (UTC+05:30)"
    stamp = datetime.fromisoformat(item["timestamp"])
    assert stamp.utcoffset() == timedelta(hours=5, minutes=30)
    assert before <= stamp <= datetime.now(UTC)
    assert item["Hour"] == f"{stamp.astimezone(ZoneInfo('Asia/Kolkata')).hour:02d}"


@pytest.mark.parametrize(
    ("rules", "settings", "message"),
    [
        (
            "          - {field: minutes, minutesInterval: 60}",
            "",
            "parameters.rule.interval[0].minutesInterval: 60 is above the maximum of 59",
        ),
        (
            "          - {field: hours, hoursInterval: 1.5}",
            "",
            "parameters.rule.interval[0].hoursInterval: 1.5 must be a whole number from 1 to 23",
        ),
        (
            '          - {field: cronExpression, expression: "* * *"}',
            "",
            "parameters.rule.interval[0].expression: '* * *' is not a valid cron expression",
        ),
        (
            "          - {field: fortnights}",
            "",
            "parameters.rule.interval[0].field: 'fortnights' is not one of the allowed values",
        ),
        (
            "          - {field: days, triggerAtHour: 9, everyDay: true}",
            "",
            "parameters.rule.interval[0].everyDay: unknown value of 'Trigger Interval'",
        ),
        ("          - {field: days}", "settings: {timezone: Mars/Olympus}\n", "settings.timezone"),
    ],
)
def test_validate_and_run_refuse_bad_rules_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rules: str, settings: str, message: str
) -> None:
    pipeline = write(tmp_path, rules, settings)
    assert main(["validate", str(pipeline)]) == EXIT_USAGE
    assert message in capsys.readouterr().err
    assert main(["run", str(pipeline), "--sandbox", "--no-journal"]) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_validate_accepts_every_kind_of_rule(tmp_path: Path) -> None:
    rules = "\n".join(
        f"          - {rule}"
        for rule in (
            "{field: seconds, secondsInterval: 1}",
            "{field: minutes}",
            "{field: hours, hoursInterval: 18, triggerAtMinute: 5}",
            "{field: days, daysInterval: 2, triggerAtHour: 9}",
            "{field: weeks, weeksInterval: 2, triggerAtDay: [1, 5], triggerAtHour: 17}",
            "{field: months, monthsInterval: 3, triggerAtDayOfMonth: 1}",
            '{field: cronExpression, expression: "0 */15 9-17 * * 1-5"}',
        )
    )
    assert main(["validate", str(write(tmp_path, rules))]) == EXIT_OK
