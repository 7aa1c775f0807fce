"""Split Out (n8n-nodes-base.splitOut v1): one item per element of a list.

Pinned from packages/nodes-base/nodes/Transform/SplitOut/SplitOut.node.ts (as merged: a
destination name is a literal key, n8n issue #34053 is open) and n8n's test workflows
(SplitOut/test/workflow.*.json).
"""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.core import split_out

DATA = {
    "data": [{"id": 3, "char": "c"}, {"id": 4, "char": "d"}],
    "data2": [{"text": "foo"}],
    "data3": [{"text": "bar"}],
}


def split(params: dict[str, Any], item: dict[str, Any]) -> list[dict[str, Any]]:
    results = split_out.execute(params, item, item_index=0, type_version=1)
    assert all(output == 0 for output, _ in results)
    return [json for _, json in results]


def test_object_elements_become_the_items(run_node: Any) -> None:
    # workflow.splitOut.json, "Item Lists": noOtherFields is the default.
    results = run_node(
        "splitOut", {"fieldToSplitOut": "data", "options": {}}, [DATA], type_version=1
    )
    assert results == [(0, {"id": 3, "char": "c"}), (0, {"id": 4, "char": "d"})]


def test_all_other_fields_keep_the_element_under_its_name() -> None:
    params = {"fieldToSplitOut": "data", "include": "allOtherFields"}
    assert split(params, DATA) == [
        {"data2": [{"text": "foo"}], "data3": [{"text": "bar"}], "data": {"id": 3, "char": "c"}},
        {"data2": [{"text": "foo"}], "data3": [{"text": "bar"}], "data": {"id": 4, "char": "d"}},
    ]


@pytest.mark.parametrize("fields", ["data3", ["data3"]])
def test_selected_other_fields(fields: Any) -> None:
    params = {
        "fieldToSplitOut": "data",
        "include": "selectedOtherFields",
        "fieldsToInclude": fields,
    }
    assert split(params, DATA) == [
        {"data": {"id": 3, "char": "c"}, "data3": [{"text": "bar"}]},
        {"data": {"id": 4, "char": "d"}, "data3": [{"text": "bar"}]},
    ]


def test_a_destination_field_name() -> None:
    params = {"fieldToSplitOut": "data", "options": {"destinationFieldName": "output"}}
    assert split(params, DATA) == [
        {"output": {"id": 3, "char": "c"}},
        {"output": {"id": 4, "char": "d"}},
    ]


def test_a_destination_with_dots_is_one_key() -> None:
    params = {"fieldToSplitOut": "data2", "options": {"destinationFieldName": "out.put"}}
    assert split(params, DATA) == [{"out.put": {"text": "foo"}}]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["a", "b"], [{"tags": "a"}, {"tags": "b"}]),
        ("solo", [{"tags": "solo"}]),
        (5, [{"tags": 5}]),
        (None, [{"tags": None}]),
        ({"x": 1, "y": {"z": 2}}, [{"tags": 1}, {"z": 2}]),  # an object splits into its values
        ([[1, 2], []], [{"0": 1, "1": 2}, {}]),  # an array element spreads as "0", "1", ...
        ([], []),
    ],
)
def test_what_each_kind_of_value_splits_into(value: Any, expected: list[Any]) -> None:
    assert split({"fieldToSplitOut": "tags"}, {"tags": value, "other": 1}) == expected


def test_a_missing_field_gives_no_items() -> None:
    assert split({"fieldToSplitOut": "contacts"}, {"other": 1}) == []


def test_dot_notation_reads_and_removes_nested_lists() -> None:
    item = {"campaign": {"name": "spring", "contacts": ["+1", "+2"]}}
    params = {"fieldToSplitOut": "campaign.contacts", "include": "allOtherFields"}
    assert split(params, item) == [
        {"campaign": {"name": "spring"}, "campaign.contacts": "+1"},
        {"campaign": {"name": "spring"}, "campaign.contacts": "+2"},
    ]


def test_disable_dot_notation_reads_a_literal_key() -> None:
    nested = {"a": {"b": [2, 3]}}
    literal_off = {"fieldToSplitOut": "a.b", "options": {"disableDotNotation": True}}
    assert split({"fieldToSplitOut": "a.b"}, nested) == [{"a.b": 2}, {"a.b": 3}]
    assert split(literal_off, nested) == []
    # lodash's get takes a key the item has exactly as written before any path.
    both = {"a.b": [1], "a": {"b": [2, 3]}}
    assert split({"fieldToSplitOut": "a.b"}, both) == [{"a.b": 1}]
    assert split(literal_off, both) == [{"a.b": 1}]


def test_a_json_prefix_is_dropped() -> None:
    assert split({"fieldToSplitOut": "$json.tags"}, {"tags": ["a"]}) == [{"tags": "a"}]


def test_several_fields_split_side_by_side() -> None:
    item = {"names": ["Ann", "Bob", "Cy"], "phones": ["+1", "+2"]}
    params = {"fieldToSplitOut": "names, phones"}
    assert split(params, item) == [
        {"names": "Ann", "phones": "+1"},
        {"names": "Bob", "phones": "+2"},
        {"names": "Cy"},
    ]
    # With several fields an object element stays under its field's name.
    objects = {"a": [{"x": 1}], "b": [{"y": 2}]}
    assert split({"fieldToSplitOut": ["a", "b"]}, objects) == [{"a": {"x": 1}, "b": {"y": 2}}]


def test_several_destination_names_one_per_field() -> None:
    item = {"names": ["Ann"], "phones": ["+1"]}
    params = {"fieldToSplitOut": "names,phones", "options": {"destinationFieldName": "name, to"}}
    assert split(params, item) == [{"name": "Ann", "to": "+1"}]


def test_the_new_items_share_nothing() -> None:
    item = {"list": [1, 2], "meta": {"k": [0]}}
    first, second = split({"fieldToSplitOut": "list", "include": "allOtherFields"}, item)
    first["meta"]["k"].append(9)
    assert second["meta"] == {"k": [0]}
    assert item["meta"] == {"k": [0]}


def test_contacts_for_a_campaign(run_node: Any) -> None:
    item = {"campaign": "spring", "contacts": [{"name": "Ann", "phone": "+14155550100"}]}
    params = {"fieldToSplitOut": "={{ 'contacts' }}", "include": "allOtherFields", "options": {}}
    assert run_node("splitOut", params, [item], type_version=1) == [
        (0, {"campaign": "spring", "contacts": {"name": "Ann", "phone": "+14155550100"}})
    ]


@pytest.mark.parametrize(
    ("params", "parameter", "message"),
    [
        ({"fieldToSplitOut": ""}, "fieldToSplitOut", "no field to split out is given"),
        (
            {"fieldToSplitOut": 123},
            "fieldToSplitOut",
            "The 'Fields To Split Out' parameter must be a string of fields",
        ),
        (
            {"fieldToSplitOut": "a,b", "options": {"destinationFieldName": "x"}},
            "options.destinationFieldName",
            "If multiple fields to split out are given",
        ),
        ({"fieldToSplitOut": "a", "include": "some"}, "include", "'some' is not a way"),
        (
            {"fieldToSplitOut": "a", "include": "selectedOtherFields", "fieldsToInclude": ""},
            "fieldsToInclude",
            "No fields specified",
        ),
        ({"fieldToSplitOut": "$binary"}, "fieldToSplitOut", "splitting binary data"),
        (
            {"fieldToSplitOut": "a", "options": {"includeBinary": True}},
            "options.includeBinary",
            "copying binary data",
        ),
        (
            {"fieldToSplitOut": "__proto__.a", "include": "allOtherFields"},
            "fieldToSplitOut",
            "the field path '__proto__.a' uses the reserved name",
        ),
    ],
)
def test_errors_name_the_parameter(params: dict[str, Any], parameter: str, message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        split_out.execute(params, {"a": [1], "b": [2]}, item_index=5, type_version=1)
    assert (caught.value.parameter, caught.value.item_index) == (parameter, 5)
    assert caught.value.message.startswith(message)


def test_no_fields_to_include_is_only_an_error_when_there_are_items() -> None:
    params = {"fieldToSplitOut": "a", "include": "selectedOtherFields"}
    assert split(params, {"b": 1}) == []


def test_split_out_type_versions() -> None:
    with pytest.raises(ParameterError, match="Split Out typeVersion 2 is not supported"):
        split_out.execute({"fieldToSplitOut": "a"}, {}, item_index=0, type_version=2)
