"""YAML reading bounded by what is written: aliases, nesting, numbers; and bounded messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from plivo_node.core.redaction import forget_secrets, register_secret
from plivo_node.description.schema import MAX_MESSAGE, MAX_PROBLEMS, validate_against_schema
from plivo_node.description.yaml_source import (
    MAX_ALIAS_EXPANSION,
    read_yaml_file,
    read_yaml_text,
)

LAUGHS = "\n".join(
    [
        "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]",
        *(
            f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]"
            for n in range(1, 9)  # 10**9 "lol"s once expanded
        ),
    ]
)


def only_problem(text: str) -> str:
    data, problems = read_yaml_text(text)
    assert data is None
    assert len(problems) == 1, problems
    return problems[0]


def test_a_billion_laughs_is_refused_before_it_is_built() -> None:
    assert "expand it to over 1,000,000 characters more than is written" in only_problem(LAUGHS)


def test_modest_aliases_are_expanded() -> None:
    data, problems = read_yaml_text(
        "base: &b {concurrency: 5}\nfirst: *b\nsecond: *b\nlist: &l [1, 2]\nagain: [*l, *l]\n"
    )
    assert problems == []
    assert data["second"] == {"concurrency": 5}
    assert data["again"] == [[1, 2], [1, 2]]


def test_the_bound_counts_what_aliases_add_not_what_is_written() -> None:
    big = "x" * (MAX_ALIAS_EXPANSION // 2)
    data, problems = read_yaml_text(f"a: &a {big}\nb: *a\n")
    assert problems == []
    assert data["b"] == big
    assert "expand it" in only_problem(f"a: &a {big}\nb: [*a, *a, *a]\n")
    plain, problems = read_yaml_text("a: " + "y" * (2 * MAX_ALIAS_EXPANSION) + "\n")
    assert problems == []
    assert len(plain["a"]) == 2 * MAX_ALIAS_EXPANSION


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    assert "refers to the node that contains it" in only_problem("steps: &s [1, *s]\n")
    assert "refers to the node that contains it" in only_problem("m: &m {a: {b: *m}}\n")


@pytest.mark.parametrize("depth", [101, 100_000])
def test_deep_nesting_is_refused(depth: int) -> None:
    problem = only_problem("[" * depth + "]" * depth)
    assert problem == "line 1, column 101: the document is nested more than 100 levels deep"


def test_nesting_at_the_bound_is_read() -> None:
    data, problems = read_yaml_text("[" * 100 + "]" * 100)
    assert problems == []
    assert data is not None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("9" * 5000, "line 1, column 4: the number has more than 4300 digits"),
        (".inf", "'.inf' is not a finite number"),
        ("-.Inf", "'-.Inf' is not a finite number"),
        (".nan", "'.nan' is not a finite number"),
        ("1.0e+999", "'1.0e+999' is not a finite number"),
    ],
)
def test_numbers_json_cannot_hold_are_refused_with_their_place(value: str, problem: str) -> None:
    assert problem in only_problem(f"n: {value}\n")


def test_values_stay_json_values() -> None:
    data, problems = read_yaml_text("d: 2024-01-01\nt: 2024-01-01 10:00:00\nn: 1.5e+10\ni: 0x1F\n")
    assert problems == []
    assert data == {"d": "2024-01-01", "t": "2024-01-01 10:00:00", "n": 1.5e10, "i": 31}


def test_an_unhashable_key_is_a_located_problem() -> None:
    assert "line 1, column 3: found unhashable key" in only_problem("? [a]\n: b\n")


def test_a_file_that_is_not_utf8_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(b"name: Jos\xe9\n")
    assert read_yaml_file(path) == (
        None,
        [f"cannot read {path}: it is not UTF-8 text (invalid continuation byte)"],
    )


# --- schema messages are bounded ---------------------------------------------------------


def test_a_huge_value_is_shortened_in_its_message() -> None:
    problems = validate_against_schema({"version": 1, "steps": "s" * 1_000_000}, "pipeline", "p")
    assert problems
    assert all(len(p) <= MAX_MESSAGE * 2 for p in problems)
    key_problems = validate_against_schema(
        {"version": 1, "steps": [], "k" * 1_000_000: 1}, "pipeline", "p"
    )
    assert any("characters in all" in p for p in key_problems)
    assert all(len(p) <= MAX_MESSAGE * 2 for p in key_problems)


def test_the_number_of_problems_is_bounded() -> None:
    steps = [{"name": n} for n in range(1000)]
    problems = validate_against_schema({"version": 1, "steps": steps}, "pipeline", "p")
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1].startswith("... and ")
    assert problems[-1].endswith(" more problems")


def test_nesting_built_from_aliases_counts_too() -> None:
    inner = "[" * 60 + "]" * 60
    text = f"a: &a {inner}\nb: {'[' * 50}*a{']' * 50}\n"
    assert only_problem(text) == "the document is nested more than 100 levels deep"


def test_a_secret_across_the_cut_is_masked_not_halved() -> None:
    secret = "tok-" + "S" * 60
    register_secret(secret)
    try:
        key = "k" * (MAX_MESSAGE - 120) + secret + "k" * 1000  # the cut falls inside the secret
        problems = validate_against_schema({"version": 1, "steps": [], key: 1}, "pipeline", "p")
    finally:
        forget_secrets()
    assert not any("tok-SSS" in problem for problem in problems)
    assert any("********" in problem for problem in problems)
