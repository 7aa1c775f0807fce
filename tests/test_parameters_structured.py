"""Structured parameters (filter, assignmentCollection, json) and nodes without resources.

n8n resolves a parameter with ``getParameterValue``, which walks objects and arrays and
evaluates every string starting with ``=``, at any depth (packages/workflow/src/expression.ts).
So a filter's ``leftValue``/``rightValue`` and an assignment's ``value`` (or ``name``) are
expressions of the item, while their siblings stay literal.
"""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import ExpressionError, ParameterError, PipelineError
from plivo_node.description import NodeDescription
from plivo_node.description.parameters import ParameterResolver
from plivo_node.expressions import ExpressionContext

NODE = NodeDescription.from_data(
    {
        "displayName": "Core",
        "name": "core",
        "group": ["transform"],
        "version": [2, 2.1],
        "description": "A node without resources",
        "defaults": {"name": "Core"},
        "inputs": ["main"],
        "outputs": ["main"],
        "properties": [
            {"displayName": "Conditions", "name": "conditions", "type": "filter", "default": {}},
            {
                "displayName": "Fields to Set",
                "name": "assignments",
                "type": "assignmentCollection",
                "default": {},
            },
            {"displayName": "JSON", "name": "jsonOutput", "type": "json", "default": "{}"},
            {
                "displayName": "Convert types where required",
                "name": "looseTypeValidation",
                "type": "boolean",
                "default": False,
                "displayOptions": {"show": {"@version": [{"_cnd": {"gte": 2.1}}]}},
            },
            {
                "displayName": "Options",
                "name": "options",
                "type": "collection",
                "default": {},
                "options": [
                    {
                        "displayName": "Ignore Case",
                        "name": "ignoreCase",
                        "type": "boolean",
                        "default": True,
                    }
                ],
            },
        ],
    }
)


def resolve(
    raw: dict[str, Any], json: dict[str, Any] | None = None, *, index: int = 0, version: float = 2
) -> dict[str, Any]:
    step = ParameterResolver(NODE, raw, step_name="Step", type_version=version)
    return step.resolve(ExpressionContext(json=json or {}, item_index=index))


def condition(left: Any, right: Any = "", operation: str = "equals") -> dict[str, Any]:
    return {
        "conditions": {
            "options": {"caseSensitive": True, "leftValue": "", "typeValidation": "strict"},
            "conditions": [
                {
                    "id": "c1",
                    "leftValue": left,
                    "rightValue": right,
                    "operator": {"type": "number", "operation": operation},
                }
            ],
            "combinator": "and",
        }
    }


def first_condition(resolved: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = resolved["conditions"]["conditions"][0]
    return found


def test_a_node_without_resources_takes_its_own_parameters_and_defaults() -> None:
    resolved = resolve({})
    assert resolved == {
        "conditions": {},
        "assignments": {},
        "jsonOutput": "{}",
        "options": {},
    }
    step = ParameterResolver(NODE, {}, step_name="Step")
    assert (step.resource, step.operation) == ("", "")


def test_an_unknown_parameter_is_named_for_this_node() -> None:
    with pytest.raises(PipelineError) as caught:
        ParameterResolver(NODE, {"condition": {}}, step_name="Step")
    assert caught.value.problems == [
        (
            "parameters.condition: unknown parameter for this node; did you mean 'conditions'? "
            "(valid parameters: assignments, conditions, jsonOutput, looseTypeValidation, options)"
        )
    ]


def test_a_nested_expression_is_evaluated_per_item_and_keeps_its_type() -> None:
    raw = condition("={{ $json.age }}", 18, "gte")
    assert first_condition(resolve(raw, {"age": 21}))["leftValue"] == 21
    assert first_condition(resolve(raw, {"age": "21"}, index=1))["leftValue"] == "21"
    second = first_condition(resolve(raw, {"age": [1, 2]}))
    assert second["leftValue"] == [1, 2]
    assert second["rightValue"] == 18  # literal siblings are kept as they are
    assert second["operator"] == {"type": "number", "operation": "gte"}


def test_a_missing_field_leaves_the_key_out_but_null_is_kept() -> None:
    # n8n: `={{ $json.age }}` on an item without "age" is undefined, and undefined < 18 is
    # false while null < 18 is true; the two must stay apart.
    raw = condition("={{ $json.age }}", 18, "lt")
    assert "leftValue" not in first_condition(resolve(raw, {}))
    assert first_condition(resolve(raw, {"age": None}))["leftValue"] is None
    computed = condition("={{ $json.person.age }}", 18, "lt")
    assert "leftValue" not in first_condition(resolve(computed, {"person": {}}))


def test_multi_segment_and_literal_templates() -> None:
    raw = condition("=age {{ $json.age }} of {{ $json.name }}")
    assert first_condition(resolve(raw, {"age": 3, "name": "Ann"}))["leftValue"] == "age 3 of Ann"
    literal = condition("{{ $json.age }}")  # no leading "=": literal text
    assert first_condition(resolve(literal, {"age": 3}))["leftValue"] == "{{ $json.age }}"


def test_expressions_inside_assignment_lists_names_included() -> None:
    raw = {
        "assignments": {
            "assignments": [
                {"id": "a", "name": "greeting", "value": "=Hi {{ $json.name }}", "type": "string"},
                {"id": "b", "name": "={{ 'n_' + $itemIndex }}", "value": 5, "type": "number"},
                {"id": "c", "name": "missing", "value": "={{ $json.nope }}", "type": "string"},
            ]
        }
    }
    resolved = resolve(raw, {"name": "Ann"}, index=3)["assignments"]["assignments"]
    assert resolved[0]["value"] == "Hi Ann"
    assert resolved[1]["name"] == "n_3"
    assert "value" not in resolved[2]


def test_an_undefined_list_element_becomes_null() -> None:
    raw = {"jsonOutput": {"list": ["={{ $json.nope }}", "={{ $json.a }}"]}}
    assert resolve(raw, {"a": 1})["jsonOutput"] == {"list": [None, 1]}


def test_a_structure_without_expressions_is_a_fresh_copy_for_each_item() -> None:
    raw = condition(5, 6)
    step = ParameterResolver(NODE, raw, step_name="Step", type_version=2)
    first = step.resolve(ExpressionContext(json={}, item_index=0))
    first["conditions"]["conditions"][0]["leftValue"] = "changed"
    second = step.resolve(ExpressionContext(json={}, item_index=1))
    assert second["conditions"]["conditions"][0]["leftValue"] == 5


def test_a_whole_structure_may_be_one_expression() -> None:
    wanted = {"conditions": [], "combinator": "or"}
    assert resolve({"conditions": "={{ $json.f }}"}, {"f": wanted})["conditions"] == wanted


def test_a_broken_nested_expression_is_reported_where_it_is() -> None:
    with pytest.raises(PipelineError) as caught:
        ParameterResolver(NODE, condition("={{ $json.age + }}"), step_name="Step")
    (problem,) = caught.value.problems
    assert problem.startswith("parameters.conditions.conditions[0].leftValue: ")


def test_a_nested_evaluation_error_names_the_item_and_the_place() -> None:
    with pytest.raises(ExpressionError) as caught:
        resolve(condition("={{ $json.a.b.c }}"), {"a": None}, index=4)
    assert caught.value.item_index == 4
    assert caught.value.parameter == "conditions.conditions[0].leftValue"


def test_a_structure_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(PipelineError) as caught:
        ParameterResolver(NODE, {"conditions": ["a"]}, step_name="Step")
    assert caught.value.problems == [
        (
            "parameters.conditions: expected an object, got an array (give 'Conditions' as n8n "
            "saves it (an object), or an expression that yields one)"
        )
    ]
    with pytest.raises(ParameterError, match="expected an object, got a string"):
        resolve({"assignments": "={{ $json.text }}"}, {"text": "x"})
    with pytest.raises(PipelineError, match="expected JSON text, got a number"):
        ParameterResolver(NODE, {"jsonOutput": 5}, step_name="Step")


def test_the_type_version_decides_version_conditions() -> None:
    assert "looseTypeValidation" not in resolve({"looseTypeValidation": True}, version=2)
    assert resolve({"looseTypeValidation": True}, version=2.1)["looseTypeValidation"] is True
    assert resolve({}, version=2.2)["looseTypeValidation"] is False
