"""Parsed pipeline YAML kept in the cache: a hit equals a parse; anything doubtful is parsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from plivo_node.description import cache, yaml_source
from plivo_node.description.yaml_cache import read_yaml_text_cached

TEXT = "version: 1\nsteps:\n  - {name: a, n: 1.5, when: 2024-01-01, enabled: true, none: null}\n"


@pytest.fixture
def parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A private cache, and every text really parsed."""
    monkeypatch.setenv(cache.CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    calls: list[str] = []
    real = yaml_source.read_yaml_text

    def counting(text: str) -> tuple[object, list[str]]:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(yaml_source, "read_yaml_text", counting)
    return calls


def test_a_text_read_again_is_not_parsed_again(parses: list[str]) -> None:
    first = read_yaml_text_cached(TEXT, "p.yaml")
    second = read_yaml_text_cached(TEXT, "p.yaml")
    assert parses == [TEXT]
    assert second == first == yaml_source.read_yaml_text(TEXT)
    assert repr(second) == repr(first)  # 1.5 stays a float, true a bool, the date text


def test_a_changed_text_is_parsed(parses: list[str]) -> None:
    read_yaml_text_cached(TEXT, "p.yaml")
    changed = TEXT.replace("1.5", "2")
    data, problems = read_yaml_text_cached(changed, "p.yaml")
    assert parses == [TEXT, changed]
    assert (problems, data["steps"][0]["n"]) == ([], 2)


def test_data_json_cannot_give_back_exactly_is_parsed_every_time(parses: list[str]) -> None:
    text = "steps:\n  1: integer key\n"
    for _ in range(2):
        assert read_yaml_text_cached(text, "p.yaml") == ({"steps": {1: "integer key"}}, [])
    assert parses == [text, text]


def test_problems_are_found_by_parsing_every_time(parses: list[str]) -> None:
    text = "a: 1\na: 2\n"
    for _ in range(2):
        data, problems = read_yaml_text_cached(text, "p.yaml")
        assert data is None
        assert "duplicate key 'a'" in problems[0]
    assert parses == [text, text]
