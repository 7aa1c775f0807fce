"""displayOptions inside collections: root paths (/operation) and sibling fields, per item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plivo_node.core.errors import ParameterError, PipelineError
from plivo_node.description import DisplayOptions, NodeDescription, load_node_description
from plivo_node.description.parameters import ParameterResolver
from plivo_node.description.visibility import UNKNOWN, evaluate, is_shown, value_matches
from plivo_node.expressions import ExpressionContext
from plivo_node.nodes.plivo.description import plivo_description

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "manifests" / "root_paths.yaml"


@pytest.fixture(scope="module")
def node() -> NodeDescription:
    return load_node_description(FIXTURE)


def resolve(node: NodeDescription, json: dict[str, Any] | None = None, **raw: Any) -> Any:
    step = ParameterResolver(node, {"resource": "sms", **raw}, step_name="s")
    return step.resolve(ExpressionContext(json=json or {}, item_index=0))["options"]


def test_root_path_conditions_decide_which_fields_exist(node: NodeDescription) -> None:
    with pytest.raises(PipelineError) as caught:
        ParameterResolver(
            node,
            {"resource": "sms", "operation": "send", "options": {"when": "now"}},
            step_name="s",
        )
    assert caught.value.problems == [
        "parameters.options.when: unknown field of 'Options' for sms send (valid fields: every)"
    ]
    assert resolve(node, operation="schedule", options={"when": "now"}) == {"when": "now"}


def test_sibling_conditions_drop_hidden_fields(node: NodeDescription) -> None:
    assert resolve(node, operation="schedule", options={"every": 5}) == {}
    assert resolve(node, operation="schedule", options={"every": 5, "repeat": True}) == {
        "every": 5,
        "repeat": True,
    }


def test_sibling_conditions_from_expressions_are_decided_per_item(node: NodeDescription) -> None:
    options = {"repeat": "={{ $json.again }}", "every": "={{ $json.gap }}"}
    assert resolve(node, {"again": False, "gap": 0}, operation="schedule", options=options) == {
        "repeat": False
    }
    with pytest.raises(ParameterError) as caught:
        resolve(node, {"again": True, "gap": 0}, operation="schedule", options=options)
    assert caught.value.parameter == "options.every"


def _options(**raw: Any) -> DisplayOptions:
    return DisplayOptions.from_data(raw)


def test_show_keys_are_anded_and_values_ored() -> None:
    shown = _options(show={"resource": ["sms", "mms"], "operation": ["send"]})
    values = {"resource": "mms", "operation": "send"}
    assert is_shown(shown, values.get)
    assert not is_shown(shown, {"resource": "call", "operation": "send"}.get)
    assert not is_shown(shown, {"resource": "sms"}.get)  # a missing value never matches


def test_any_matching_hide_key_hides() -> None:
    hidden = _options(hide={"resource": ["sms"], "returnAll": [True]})
    assert not is_shown(hidden, {"resource": "call", "returnAll": True}.get)
    assert is_shown(hidden, {"resource": "call", "returnAll": False}.get)


def test_booleans_are_not_numbers_and_lists_match_any_element() -> None:
    assert not value_matches((True,), 1)
    assert not value_matches((0,), actual=False)
    assert value_matches(("sms",), ["voice", "sms"])


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ({"eq": 5}, 5, True),
        ({"not": "a"}, "a", False),
        ({"gt": 3}, 4, True),
        ({"gte": 3}, 3, True),
        ({"lt": 3}, 3, False),
        ({"lte": 3}, 3, True),
        ({"between": {"from": 1, "to": 2}}, 3, False),
        ({"startsWith": "+1"}, "+1415", True),
        ({"endsWith": "5"}, "+1415", True),
        ({"includes": "41"}, "+1415", True),
        ({"regex": "^\\+\\d+$"}, "+1415", True),
        ({"exists": True}, "", False),
        ({"gt": 3}, "4", False),  # text is not a number
    ],
)
def test_conditions(condition: dict[str, Any], value: Any, expected: bool) -> None:
    assert value_matches(({"_cnd": condition},), value) is expected


def test_unknown_values_leave_the_answer_open() -> None:
    limit = _options(show={"resource": ["number"], "returnAll": [False]})
    assert evaluate(limit, lambda key: {"resource": "number"}.get(key, UNKNOWN)) is None
    assert evaluate(limit, lambda key: {"resource": "sms"}.get(key, UNKNOWN)) is False


def test_real_manifest_loads_independently_of_the_fixture() -> None:
    assert ("sms", "send") in plivo_description().operations()
