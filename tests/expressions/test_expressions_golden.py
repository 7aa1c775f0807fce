"""Expressions follow JavaScript: every entry of the golden file, written by Node.js from
scripts/expressions_golden.mjs, gives the same value here (or, where JavaScript throws or we
deliberately refuse, a clear ExpressionError naming the parameter)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from plivo_node.core.errors import ExpressionError
from plivo_node.expressions import ExpressionContext, compile_expression
from plivo_node.expressions.values import UNDEFINED

GOLDEN = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "expressions_golden.json").read_text(
        encoding="utf-8"
    )
)
ERROR = object()
_TAGGED = {
    "undefined": UNDEFINED,
    "NaN": math.nan,
    "Infinity": math.inf,
    "-Infinity": -math.inf,
    "-0": -0.0,
}


def decode(value: Any) -> Any:
    """The golden file's encoding back to our values (tags for what JSON cannot hold)."""
    if isinstance(value, dict):
        if "$js" in value:
            return ERROR if value["$js"] == "error" else _TAGGED[value["$js"]]
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def same(ours: Any, theirs: Any) -> bool:
    """JavaScript's sameness of two values: types match (true is not 1), NaN equals NaN, and
    0 and -0 differ; containers element by element, keys in order."""
    if isinstance(theirs, bool) or isinstance(ours, bool):
        return type(ours) is type(theirs) and ours == theirs
    if isinstance(theirs, int | float):
        if not isinstance(ours, int | float):
            return False
        if math.isnan(theirs):
            return math.isnan(ours)
        # The golden file holds the double's shortest digits: compare as doubles.
        mine, js = float(ours), float(theirs)
        return mine == js and math.copysign(1, mine) == math.copysign(1, js)
    if isinstance(theirs, list):
        return (
            isinstance(ours, list | tuple)
            and len(ours) == len(theirs)
            and all(same(a, b) for a, b in zip(ours, theirs, strict=True))
        )
    if isinstance(theirs, dict):
        return (
            isinstance(ours, dict)
            and list(ours) == list(theirs)
            and all(same(ours[key], theirs[key]) for key in theirs)
        )
    return type(ours) is type(theirs) and ours == theirs


def _id(entry: dict[str, Any]) -> str:
    return f"{entry['group']}: {entry['expression']}"


def test_the_corpus_is_large_and_covers_every_group() -> None:
    entries = GOLDEN["entries"]
    assert len(entries) >= 300
    groups = {entry["group"] for entry in entries}
    assert {"looseEquality", "strictEquality", "relational", "toFixed", "strings"} <= groups
    assert any("refused" in entry for entry in entries)


@pytest.mark.parametrize("entry", GOLDEN["entries"], ids=_id)
def test_expression_matches_javascript(entry: dict[str, Any]) -> None:
    source = "={{ " + entry["expression"] + " }}"
    context = ExpressionContext(json=GOLDEN["contexts"][entry["context"]], item_index=4)
    expected = decode(entry["expected"])
    compiled_and_run = _outcome(source, context)
    if isinstance(compiled_and_run, ExpressionError):
        error = compiled_and_run
        assert expected is ERROR, f"JavaScript gives {entry['expected']!r}; we refused: {error}"
        assert error.parameter == "text"
        assert "Traceback" not in str(error)
        return
    assert expected is not ERROR, (
        f"JavaScript throws ({entry['expected']}); we gave {compiled_and_run!r}"
    )
    assert same(compiled_and_run, expected), (
        f"JavaScript gives {entry['expected']!r}; we gave {compiled_and_run!r}"
    )


def _outcome(source: str, context: ExpressionContext) -> Any:
    """The expression's JavaScript value, or the ExpressionError compiling or running it."""
    try:
        return compile_expression(source, parameter="text").js_value(context)
    except ExpressionError as error:
        return error
