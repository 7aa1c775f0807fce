"""Edit Fields (Set) (n8n-nodes-base.set v3.3/3.4): fields set by assignment or from JSON.

Pinned from packages/nodes-base/nodes/Set/v2/{SetV2.node.ts, manual.mode.ts, raw.mode.ts,
helpers/utils.ts} (validateEntry, composeReturnItem, parseJsonParameter) and n8n's
validateFieldType (packages/workflow/src/type-validation.ts).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.core import edit_fields


def assign(*fields: tuple[str, Any, str], **params: Any) -> dict[str, Any]:
    assignments = [
        {"id": str(index), "name": name, "value": value, "type": kind}
        for index, (name, value, kind) in enumerate(fields)
    ]
    return {"mode": "manual", "assignments": {"assignments": assignments}, **params}


def run(params: dict[str, Any], item: dict[str, Any] | None = None, version: float = 3.4) -> Any:
    ((output, json),) = edit_fields.execute(params, item or {}, item_index=0, type_version=version)
    assert output == 0
    return json


def value_of(value: Any, kind: str, **options: Any) -> Any:
    return run(assign(("field", value, kind), options=options))["field"]


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("text", "string", "text"),
        (12, "string", "12"),
        (1.5, "string", "1.5"),
        (True, "string", "true"),
        ({"a": 1}, "string", '{"a":1}'),
        ([1, "x"], "string", '[1,"x"]'),
        ("12", "number", 12),
        (" 1.5 ", "number", 1.5),
        ("", "number", 0),
        ("0x1f", "number", 31),
        ("-2e3", "number", -2000),
        (7, "number", 7),
        (True, "number", 1),
        ("true", "boolean", True),
        ("FALSE", "boolean", False),
        ("1", "boolean", True),
        ("0", "boolean", False),
        (1, "boolean", True),
        (False, "boolean", False),
        ("[1, 2]", "array", [1, 2]),
        ("['a', 'b']", "array", ["a", "b"]),
        (["x"], "array", ["x"]),
        ('{"a": {"b": 1}}', "object", {"a": {"b": 1}}),
        ("{name: 'Ann', age: 30}", "object", {"name": "Ann", "age": 30}),
        ({"k": [1]}, "object", {"k": [1]}),
    ],
)
def test_assignment_types_convert_as_n8n_does(value: Any, kind: str, expected: Any) -> None:
    assert value_of(value, kind) == expected


@pytest.mark.parametrize("kind", ["string", "number", "boolean", "array", "object"])
@pytest.mark.parametrize("value", [None, "__missing__"])
def test_null_and_a_missing_value_set_null(value: Any, kind: str) -> None:
    assignment: dict[str, Any] = {"id": "1", "name": "field", "type": kind}
    if value is None:
        assignment["value"] = None
    assert run({"assignments": {"assignments": [assignment]}}) == {"field": None}


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        ("abc", "number", "'field' expects a number but we got 'abc'"),
        ({"a": 1}, "number", "'field' expects a number but we got object"),
        ("yes", "boolean", "'field' expects a boolean but we got 'yes'"),
        ("", "boolean", "'field' expects a boolean but we got ''"),
        (2, "boolean", "'field' expects a boolean but we got '2'"),
        ("a,b", "array", "'field' expects a array but we got 'a,b'"),
        ({"a": 1}, "array", "'field' expects a array but we got object"),
        ("[1]", "object", "'field' expects a object but we got '[1]'"),
        ("not json", "object", "'field' expects a object but we got 'not json'"),
    ],
)
def test_a_value_that_does_not_convert_is_an_error(value: Any, kind: str, message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        value_of(value, kind)
    assert caught.value.message == message
    assert caught.value.parameter == "assignments.assignments[0].value"
    assert "Ignore Type Conversion Errors" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("value", "kind"), [("abc", "number"), ("yes", "boolean"), ("a,b", "array"), (5, "object")]
)
def test_ignore_conversion_errors_keeps_the_value(value: Any, kind: str) -> None:
    assert value_of(value, kind, ignoreConversionErrors=True) == value


def test_an_infinite_number_is_refused() -> None:
    with pytest.raises(ParameterError, match="would be Infinity, which JSON cannot hold"):
        value_of("Infinity", "number")


def test_dot_notation_sets_nested_fields() -> None:
    params = assign(("contact.name", "Ann", "string"), ("list[1].n", "2", "number"))
    assert run(params) == {"contact": {"name": "Ann"}, "list": [None, {"n": 2}]}


def test_without_dot_notation_a_name_is_one_key() -> None:
    params = assign(("contact.name", "Ann", "string"), options={"dotNotation": False})
    assert run(params) == {"contact.name": "Ann"}


def test_an_existing_key_with_a_dot_is_overwritten_as_it_is() -> None:
    # lodash set uses the exact key when the object has it.
    params = assign(("a.b", 2, "number"), includeOtherFields=True)
    assert run(params, {"a.b": 1, "c": 3}) == {"a.b": 2, "c": 3}


def test_a_field_name_reaching_into_a_prototype_is_refused() -> None:
    with pytest.raises(ParameterError, match="reserved name '__proto__'"):
        run(assign(("__proto__.x", 1, "number")))


def test_only_the_set_fields_unless_other_fields_are_included() -> None:
    item = {"name": "Ann", "phone": "+1"}
    params = assign(("greeting", "hi", "string"))
    assert run(params, item) == {"greeting": "hi"}
    assert run({**params, "includeOtherFields": True}, item) == {
        "name": "Ann",
        "phone": "+1",
        "greeting": "hi",
    }


def test_a_set_field_replaces_an_input_field() -> None:
    params = assign(("name", "Bob", "string"), includeOtherFields=True)
    assert run(params, {"name": "Ann", "id": 1}) == {"name": "Bob", "id": 1}


def test_include_selected_keeps_the_listed_fields_nested_ones_by_their_last_name() -> None:
    item = {"a": 1, "b": 2, "c": {"d": 3}, "e": 4}
    params = assign(
        ("x", 1, "number"),
        includeOtherFields=True,
        include="selected",
        includeFields="a, c.d, nope",
    )
    assert run(params, item) == {"a": 1, "d": 3, "x": 1}


def test_include_except_drops_the_listed_fields() -> None:
    item = {"a": 1, "b": 2, "c": {"d": 3, "f": 5}}
    params = assign(includeOtherFields=True, include="except", excludeFields="b,c.d")
    assert run(params, item) == {"a": 1, "c": {"f": 5}}


def test_include_is_ignored_without_include_other_fields() -> None:
    params = assign(("x", 1, "number"), include="except", excludeFields="a")
    assert run(params, {"a": 1, "b": 2}) == {"x": 1}


def test_the_input_item_is_never_changed() -> None:
    item = {"c": {"d": 3}, "l": [1]}
    before = copy.deepcopy(item)
    params = assign(("c.e", 1, "number"), includeOtherFields=True)
    result = run(params, item)
    result["l"].append(2)
    assert item == before


def test_fields_are_set_in_javascript_key_order() -> None:
    # Object.fromEntries then Object.keys: array-index names come first, ascending.
    params = assign(("b", 1, "number"), ("10", 2, "number"), ("a", 3, "number"), ("2", 4, "number"))
    assert list(run(params)) == ["2", "10", "b", "a"]


def test_json_mode_sets_the_fields_of_the_object() -> None:
    params = {"mode": "raw", "jsonOutput": '{"name": "Ann", "contact.phone": "+1", "n": 2}'}
    assert run(params) == {"name": "Ann", "contact": {"phone": "+1"}, "n": 2}


def test_json_mode_repairs_javascript_style_json() -> None:
    params = {"mode": "raw", "jsonOutput": "{name: 'Ann', tags: ['a', 'b',],}"}
    assert run(params) == {"name": "Ann", "tags": ["a", "b"]}


def test_json_mode_takes_an_object_and_keeps_other_fields() -> None:
    params = {"mode": "raw", "jsonOutput": {"b": 2}, "includeOtherFields": True}
    assert run(params, {"a": 1}) == {"a": 1, "b": 2}


def test_json_mode_default_text() -> None:
    assert run({"mode": "raw"}) == {"my_field_1": "value", "my_field_2": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{name: }", "The 'JSON Output' contains invalid JSON"),
        ("[1, 2]", "The 'JSON Output' does not contain a valid JSON object"),
        ('"text"', "The 'JSON Output' does not contain a valid JSON object"),
    ],
)
def test_json_mode_errors(text: str, message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        run({"mode": "raw", "jsonOutput": text})
    assert caught.value.message.startswith(message)
    assert caught.value.parameter == "jsonOutput"


def test_a_workflow_file_with_expressions(run_node: Any) -> None:
    params = {
        "assignments": {
            "assignments": [
                {"id": "1", "name": "to", "value": "={{ $json.phone }}", "type": "string"},
                {"id": "2", "name": "text", "value": "=Hi {{ $json.name }}", "type": "string"},
                {"id": "3", "name": "count", "value": "={{ $json.n }}", "type": "number"},
                {"id": "4", "name": "tags", "value": "={{ $json.tags }}", "type": "array"},
            ]
        },
        "options": {},
    }
    items = [{"phone": 14155550100, "name": "Ann", "n": "3", "tags": ["a"]}, {"name": "Bob"}]
    assert run_node("set", params, items, type_version=3.4) == [
        (0, {"to": "14155550100", "text": "Hi Ann", "count": 3, "tags": ["a"]}),
        (0, {"to": None, "text": "Hi Bob", "count": None, "tags": None}),
    ]


def test_json_mode_in_a_workflow_file(run_node: Any) -> None:
    params = {"mode": "raw", "jsonOutput": '={ "who": "{{ $json.name }}", "data": {{ $json.d }} }'}
    items = [{"name": "Ann", "d": {"x": [1, 2]}}]
    assert run_node("set", params, items, type_version=3.3) == [
        (0, {"who": "Ann", "data": {"x": [1, 2]}})
    ]


def test_duplicate_item_is_for_n8n_test_runs_only() -> None:
    params = assign(("x", 1, "number"), duplicateItem=True, duplicateCount=3)
    assert edit_fields.execute(params, {}, item_index=0, type_version=3.4) == [(0, {"x": 1})]


@pytest.mark.parametrize(
    ("type_version", "params", "parameter"),
    [
        (
            3.4,
            {"includeOtherFields": True, "options": {"stripBinary": False}},
            "options.stripBinary",
        ),
        (3.3, {"options": {"includeBinary": True}}, "options.includeBinary"),
    ],
)
def test_keeping_binary_data_is_refused(
    type_version: float, params: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        run(params, version=type_version)
    assert caught.value.parameter == parameter
    assert "which this runtime does not support" in caught.value.message


def test_binary_options_that_drop_binary_data_are_accepted() -> None:
    assert run({"options": {"stripBinary": False}}) == {}  # no other fields: nothing to keep
    assert run({"options": {"includeBinary": False}}, version=3.3) == {}


@pytest.mark.parametrize(
    ("params", "parameter", "message"),
    [
        (assign(("f", "x", "binary")), "assignments.assignments[0].type", "a binary field"),
        (assign(("f", "x", "date")), "assignments.assignments[0].type", "'date' is not a field"),
        (
            {"assignments": {"assignments": [{"value": 1}]}},
            "assignments.assignments[0]",
            "an assignment needs a name",
        ),
        ({"assignments": {"assignments": "x"}}, "assignments.assignments", "expected a list"),
        ({"mode": "code"}, "mode", "'code' is not a mode"),
        ({"includeOtherFields": True, "include": "some"}, "include", "'some' is not a way"),
        ({"options": []}, "options", "expected an object"),
        (
            {"includeOtherFields": True, "include": "selected", "includeFields": 5},
            "includeFields",
            "expected a comma-separated list",
        ),
    ],
)
def test_malformed_parameters_are_errors_naming_them(
    params: dict[str, Any], parameter: str, message: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        run(params, {"a": 1})
    assert caught.value.parameter == parameter
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize("type_version", [3, 3.2, 3.5])
def test_type_versions_other_than_3_3_and_3_4_are_refused(type_version: float) -> None:
    with pytest.raises(ParameterError, match=r"Edit Fields typeVersion .* \(supported: 3.3, 3.4\)"):
        run({}, version=type_version)
