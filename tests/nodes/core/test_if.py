"""If (n8n-nodes-base.if v2-2.3): true on output 0, false on output 1.

Pinned from packages/nodes-base/nodes/If/V2/IfV2.node.ts and n8n's own test workflows
(packages/nodes-base/nodes/If/test/v2/IfV2.{date-time,other}.json), run through the node's
YAML description and the parameter resolver, as a workflow file's parameters are.
"""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.core import if_node

FRUIT = [
    {"date": "2023-10-26T16:45:52.367Z", "label": "Apple", "tags": [], "meta": {"foo": "bar"}},
    {"date": "2023-10-20T16:45:52.367Z", "label": "Banana", "tags": ["exotic"], "meta": {}},
    {"date": "2023-10-20T16:45:52.367Z", "label": "Kiwi", "tags": ["exotic"], "meta": {}},
    {"date": "2023-10-20T16:45:52.367Z", "label": "Orange", "meta": {}},
]


def labels(results: list[tuple[int, dict[str, Any]]], output: int) -> list[str]:
    return [json["label"] for index, json in results if index == output]


def test_n8n_date_time_workflow(run_node: Any) -> None:
    # IfV2.date-time.json: saved options without typeValidation, so n8n reads them as loose.
    params = {
        "conditions": {
            "options": {"caseSensitive": True, "leftValue": ""},
            "conditions": [
                {
                    "leftValue": "={{ $json.date }}",
                    "rightValue": "2023-10-21",
                    "operator": {"type": "dateTime", "operation": "before"},
                }
            ],
            "combinator": "or",
        },
        "options": {},
    }
    results = run_node("if", params, FRUIT, type_version=2)
    assert labels(results, 0) == ["Banana", "Kiwi", "Orange"]
    assert labels(results, 1) == ["Apple"]


def test_n8n_array_and_object_workflow(run_node: Any) -> None:
    # IfV2.other.json: array contains (right side of any type) OR object not empty.
    params = {
        "conditions": {
            "options": {"caseSensitive": True, "leftValue": ""},
            "conditions": [
                {
                    "leftValue": "={{ $json.tags }}",
                    "rightValue": "exotic",
                    "operator": {"type": "array", "operation": "contains", "rightType": "any"},
                },
                {
                    "leftValue": "={{ $json.meta }}",
                    "rightValue": "",
                    "operator": {"type": "object", "operation": "notEmpty", "singleValue": True},
                },
            ],
            "combinator": "or",
        },
        "options": {},
    }
    results = run_node("if", params, FRUIT, type_version=2)
    assert labels(results, 0) == ["Apple", "Banana", "Kiwi"]
    assert labels(results, 1) == ["Orange"]


def age_check(operation: str, right: Any, *, saved: dict[str, Any] | None = None) -> dict[str, Any]:
    conditions: dict[str, Any] = {
        "conditions": [
            {
                "id": "1",
                "leftValue": "={{ $json.age }}",
                "rightValue": right,
                "operator": {"type": "number", "operation": operation},
            }
        ],
        "combinator": "and",
    }
    if saved is not None:
        conditions["options"] = saved
    return {"conditions": conditions}


def test_a_missing_field_and_a_null_field_route_differently(run_node: Any) -> None:
    # JavaScript: undefined < 18 is false, null < 18 is true.
    items = [{"age": 12}, {"age": 30}, {"age": None}, {}]
    results = run_node("if", age_check("lt", 18), items, type_version=2.2)
    assert [output for output, _ in results] == [0, 1, 0, 1]


def test_strict_validation_stops_on_a_number_written_as_text(run_node: Any) -> None:
    with pytest.raises(ParameterError) as caught:
        run_node("if", age_check("gte", 18), [{"age": 20}, {"age": "21"}], type_version=2.2)
    assert caught.value.item_index == 1
    assert caught.value.message == "Wrong type: '21' is a string but was expecting a number"


def test_convert_types_where_required_converts(run_node: Any) -> None:
    params = {**age_check("gte", 18), "looseTypeValidation": True}
    results = run_node("if", params, [{"age": "21"}, {"age": "9"}], type_version=2.2)
    assert [output for output, _ in results] == [0, 1]


def test_ignore_case_applies_when_no_options_are_saved(run_node: Any) -> None:
    params = {
        "conditions": {
            "conditions": [
                {
                    "leftValue": "={{ $json.status }}",
                    "rightValue": "OPTED-IN",
                    "operator": {"type": "string", "operation": "equals"},
                }
            ],
            "combinator": "and",
        }
    }
    items = [{"status": "opted-in"}]
    assert run_node("if", params, items, type_version=2.3)[0][0] == 1
    ignoring = {**params, "options": {"ignoreCase": True}}
    assert run_node("if", ignoring, items, type_version=2.3)[0][0] == 0


def test_the_item_leaves_unchanged() -> None:
    item = {"a": [1]}
    params = {"conditions": {"conditions": [], "combinator": "or"}}
    assert if_node.execute(params, item, item_index=0, type_version=2) == [(1, item)]
    assert item == {"a": [1]}


def test_no_conditions_at_all_send_every_item_to_true() -> None:
    # n8n: an empty filter value is not evaluated; the node gets {} back, which is truthy.
    assert if_node.execute({}, {"x": 1}, item_index=0, type_version=2) == [(0, {"x": 1})]
    assert if_node.execute({"conditions": {}}, {}, item_index=0, type_version=2.3)[0][0] == 0


@pytest.mark.parametrize("type_version", [1, 3, 2.4])
def test_type_versions_other_than_v2_are_refused(type_version: float) -> None:
    with pytest.raises(ParameterError) as caught:
        if_node.execute({}, {}, item_index=0, type_version=type_version)
    assert caught.value.parameter == "typeVersion"
    assert "supported: 2, 2.1, 2.2, 2.3" in caught.value.message


def test_conditions_that_are_not_an_object_are_refused() -> None:
    with pytest.raises(ParameterError) as caught:
        if_node.execute({"conditions": []}, {}, item_index=2, type_version=2)
    assert (caught.value.parameter, caught.value.item_index) == ("conditions", 2)
