"""Constant values that passed are remembered; values with problems are checked every time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from plivo_node.description import cache
from plivo_node.nodes.plivo import constant_checks

SEND = ("sms", "send")
GOOD = {"from": "+14155550100", "to": "+14155550101", "text": "hi"}


@pytest.fixture
def checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """A private cache, and a record of every time the checks really ran."""
    monkeypatch.setenv(cache.CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    calls: list[object] = []
    real = constant_checks._problems

    def counting(operation: tuple[str, str], parameters: dict[str, object]) -> Iterator[str]:
        calls.append(parameters)
        return real(operation, parameters)

    monkeypatch.setattr(constant_checks, "_problems", counting)
    return calls


def test_values_that_passed_are_not_checked_again(checks: list[object]) -> None:
    assert constant_checks.constant_problems(SEND, GOOD) == []
    assert constant_checks.constant_problems(SEND, GOOD) == []
    assert checks == [GOOD]
    changed = {**GOOD, "to": "+14155550102"}
    assert constant_checks.constant_problems(SEND, changed) == []
    assert checks == [GOOD, changed]


def test_values_with_problems_are_checked_and_reported_every_time(checks: list[object]) -> None:
    bad = {**GOOD, "to": "+1415"}
    for _ in range(2):
        problems = constant_checks.constant_problems(SEND, bad)
        assert len(problems) == 1
        assert "'+1415' is not a valid phone number" in problems[0]
    assert checks == [bad, bad]


def test_an_unwritable_cache_only_means_checking_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checks: list[object]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(cache.CACHE_DIR_VARIABLE, str(blocker / "cache"))
    assert constant_checks.constant_problems(SEND, GOOD) == []
    assert constant_checks.constant_problems(SEND, GOOD) == []
    assert checks == [GOOD, GOOD]


def test_one_name_keeps_only_the_latest_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    keys = [f"key-{n}" for n in range(cache.RECENT_VERDICTS + 3)]
    for key in keys:
        cache.remember_passed_recently("name", key)
    assert not any(cache.passed_recently("name", key) for key in keys[:3])
    assert all(cache.passed_recently("name", key) for key in keys[3:])
    assert not cache.passed_recently("other name", keys[-1])
    assert len(list((tmp_path / "cache" / "verdicts").iterdir())) == 1
