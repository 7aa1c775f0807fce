"""n8n's filter conditions (the shared logic of If and Filter), operator by operator.

Expected values follow n8n's packages/workflow/src/node-parameters/filter-parameter.ts
(executeFilterCondition, parseSingleFilterValue, arrayContainsValue) and
packages/workflow/src/type-validation.ts (validateFieldType), with JavaScript's comparison
semantics (``null < 5`` is true, ``undefined < 5`` false).
"""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.core.conditions import (
    FilterOptions,
    compile_regex,
    editor_options,
    filter_passes,
    node_options,
    saved_options,
)
from plivo_node.nodes.core.field_paths import MISSING

STRICT = FilterOptions(case_sensitive=True, type_validation="strict", version=2)
LOOSE = FilterOptions(case_sensitive=True, type_validation="loose", version=2)


def condition(
    kind: str,
    operation: str,
    left: Any = MISSING,
    right: Any = MISSING,
    *,
    right_type: str | None = None,
    single: bool = False,
) -> dict[str, Any]:
    operator: dict[str, Any] = {"type": kind, "operation": operation}
    if right_type:
        operator["rightType"] = right_type
    if single:
        operator["singleValue"] = True
    built: dict[str, Any] = {"id": "c", "operator": operator}
    if left is not MISSING:
        built["leftValue"] = left
    if right is not MISSING:
        built["rightValue"] = right
    return built


def passes(
    kind: str,
    operation: str,
    left: Any = MISSING,
    right: Any = MISSING,
    *,
    options: FilterOptions = STRICT,
    right_type: str | None = None,
    single: bool = False,
) -> bool:
    value = {
        "conditions": [
            condition(kind, operation, left, right, right_type=right_type, single=single)
        ],
        "combinator": "and",
    }
    return filter_passes(value, options, item_index=0)


def error_of(*args: Any, **kwargs: Any) -> ParameterError:
    with pytest.raises(ParameterError) as caught:
        passes(*args, **kwargs)
    return caught.value


# --- string -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "left", "right", "expected"),
    [
        ("equals", "abc", "abc", True),
        ("equals", "abc", "ABC", False),
        ("notEquals", "abc", "abd", True),
        ("contains", "hello world", "o w", True),
        ("contains", "hello", "", True),
        ("notContains", "hello", "xyz", True),
        ("startsWith", "+14155550100", "+1415", True),
        ("notStartsWith", "+44", "+1", True),
        ("endsWith", "report.pdf", ".pdf", True),
        ("notEndsWith", "report.pdf", ".PDF", True),
        ("regex", "order-123", r"^order-\d+$", True),
        ("regex", "ORDER-1", "/order-\\d/i", True),
        ("regex", "order", "/^x/", False),
        ("notRegex", "order", "^x", True),
        ("empty", "", "", True),
        ("empty", "a", "", False),
        ("notEmpty", "a", "", True),
        ("exists", "", "", True),
        ("notExists", "", "", False),
    ],
)
def test_string_operators(operation: str, left: Any, right: Any, *, expected: bool) -> None:
    assert passes("string", operation, left, right) is expected


@pytest.mark.parametrize(
    ("operation", "left", "expected"),
    [
        ("empty", MISSING, True),  # (leftValue ?? '').length === 0
        ("empty", None, True),
        ("notEmpty", None, False),
        ("equals", MISSING, False),
        ("exists", MISSING, False),
        ("exists", None, False),
        ("notExists", MISSING, True),
    ],
)
def test_string_operators_on_missing_and_null(operation: str, left: Any, *, expected: bool) -> None:
    assert passes("string", operation, left, "x", single=True) is expected


@pytest.mark.parametrize(
    ("operation", "left", "right", "case_sensitive", "expected"),
    [
        ("equals", "Hello", "hello", False, True),
        ("equals", "Hello", "hello", True, False),
        ("contains", "HELLO", "ell", False, True),
        ("startsWith", "Straße", "STR", False, True),
        # A regex keeps its case when case is ignored; only the text is lower-cased, so an
        # upper-case pattern can no longer match (n8n's behaviour).
        ("regex", "Hello", "^H", False, False),
        ("regex", "Hello", "^h", False, True),
        ("regex", "Hello", "/^H/", True, True),
    ],
)
def test_string_case(
    operation: str, left: str, right: str, *, case_sensitive: bool, expected: bool
) -> None:
    options = FilterOptions(case_sensitive=case_sensitive, type_validation="strict", version=2)
    assert passes("string", operation, left, right, options=options) is expected


@pytest.mark.parametrize(
    ("left", "text"),
    [
        (5, "5"),
        (1.5, "1.5"),
        (True, "true"),
        ({"a": 1}, '{"a":1}'),
        ([1, "x"], '[1,"x"]'),
    ],
)
def test_loose_validation_turns_values_into_text_as_n8n_does(left: Any, text: str) -> None:
    assert passes("string", "equals", left, text, options=LOOSE)


@pytest.mark.parametrize(
    ("left", "message"),
    [
        (5, "Wrong type: '5' is a number but was expecting a string"),
        (True, "Wrong type: 'true' is a boolean but was expecting a string"),
        ({"a": 1}, "Wrong type: '[object Object]' is an object but was expecting a string"),
        ([1, 2], "Wrong type: '1,2' is an object but was expecting a string"),
    ],
)
def test_strict_validation_refuses_a_left_value_of_another_type(left: Any, message: str) -> None:
    error = error_of("string", "equals", left, "5")
    assert error.message == message
    assert error.parameter == "conditions.conditions[0].leftValue"
    assert error.item_index == 0
    assert "Convert types where required" in (error.hint or "")


def test_strict_validation_checks_the_left_side_even_for_exists() -> None:
    # n8n parses both sides before looking at the operation.
    assert error_of("string", "exists", 5, "", single=True).message.startswith("Wrong type: '5'")


def test_an_invalid_regex_is_an_error_naming_the_pattern() -> None:
    error = error_of("string", "regex", "abc", "(unclosed")
    assert error.message.startswith("Invalid regular expression: /(unclosed/")
    assert error.parameter == "conditions.conditions[0].rightValue"


def test_regex_literals_map_javascript_flags_and_named_groups() -> None:
    pattern = compile_regex("/^(?<word>a.b)$/si", where="c", item_index=0)
    assert pattern.search("A\nB") is not None
    assert compile_regex("a|b", where="c", item_index=0).search("xbx") is not None


# --- number -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "left", "right", "expected"),
    [
        ("equals", 5, 5, True),
        ("equals", 5, 5.0, True),
        ("equals", 0.5, 0.25, False),
        ("notEquals", 5, 6, True),
        ("gt", 6, 5, True),
        ("gt", 5, 5, False),
        ("gte", 5, 5, True),
        ("lt", -1, 0, True),
        ("lte", 5, 4, False),
        ("lte", 4.5, 4.5, True),
    ],
)
def test_number_operators(operation: str, left: Any, right: Any, *, expected: bool) -> None:
    assert passes("number", operation, left, right) is expected


@pytest.mark.parametrize(
    ("operation", "left", "expected"),
    [
        # JavaScript: null < 18 (null is 0), but undefined < 18 is false (NaN).
        ("lt", None, True),
        ("lt", MISSING, False),
        ("gte", None, False),
        ("lte", None, True),
        ("gt", MISSING, False),
        ("lte", MISSING, False),
        ("equals", None, False),
        ("notEquals", MISSING, True),
        ("empty", None, True),
        ("empty", MISSING, True),
        ("empty", 0, False),
        ("notEmpty", 0, True),
    ],
)
def test_number_operators_on_null_and_missing(operation: str, left: Any, *, expected: bool) -> None:
    assert passes("number", operation, left, 18) is expected


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("18", 18, True),
        (" 18 ", "18", True),
        ("1e1", 10, True),
        ("0x10", 16, True),
        (True, 1, True),
    ],
)
def test_loose_validation_reads_numbers_from_text(left: Any, right: Any, *, expected: bool) -> None:
    assert passes("number", "equals", left, right, options=LOOSE) is expected


def test_strict_validation_refuses_a_number_written_as_text() -> None:
    error = error_of("number", "equals", 5, "5")
    assert error.message == "Wrong type: '5' is a string but was expecting a number"
    assert error.parameter == "conditions.conditions[0].rightValue"


def test_both_sides_of_the_same_wrong_type_get_one_message() -> None:
    error = error_of("number", "gt", "5", "3")
    assert error.message == "Comparison type expects a number but both fields are a string"
    assert error.parameter == "conditions.conditions[0]"


def test_loose_validation_refuses_what_cannot_be_converted() -> None:
    error = error_of("number", "gt", "abc", 3, options=LOOSE)
    assert error.message == "Conversion error: the string 'abc' can't be converted to a number"
    assert error.hint == "change the comparison's type"


@pytest.mark.parametrize(("version", "expected"), [(2, False), (3, True)])
def test_an_empty_text_is_an_empty_number_from_filter_version_3(
    version: int, *, expected: bool
) -> None:
    # Before version 3, Number("") is 0, which exists.
    options = FilterOptions(type_validation="loose", version=version)
    assert passes("number", "empty", "", single=True, options=options) is expected
    assert passes("number", "empty", [], single=True, options=options) is expected


def test_the_right_side_of_a_one_value_operator_is_not_checked() -> None:
    assert passes("number", "notEmpty", 3, "", single=True)
    assert error_of("number", "notEmpty", 3, "").message.startswith("Wrong type: ''")


# --- boolean ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "left", "right", "expected"),
    [
        ("true", True, MISSING, True),
        ("true", False, MISSING, False),
        ("false", False, MISSING, True),
        ("true", MISSING, MISSING, False),
        ("equals", True, True, True),
        ("equals", True, False, False),
        ("notEquals", True, False, True),
        ("empty", None, MISSING, True),
        ("notEmpty", False, MISSING, True),
    ],
)
def test_boolean_operators(operation: str, left: Any, right: Any, *, expected: bool) -> None:
    assert passes("boolean", operation, left, right, single=right is MISSING) is expected


@pytest.mark.parametrize(
    ("left", "version", "expected"),
    [
        ("false", 2, False),  # version 2 reads "false" as false ...
        ("false", 1, True),  # ... version 1 as JavaScript's Boolean("false"), which is true
        ("TRUE", 2, True),
        ("0", 2, False),
        (0, 2, False),
        (1, 2, True),
        ("yes", 2, True),  # not a boolean word: Boolean("yes")
        ("", 2, False),
    ],
)
def test_loose_booleans(left: Any, version: int, *, expected: bool) -> None:
    options = FilterOptions(type_validation="loose", version=version)
    assert passes("boolean", "true", left, single=True, options=options) is expected


def test_strict_booleans_refuse_text() -> None:
    error = error_of("boolean", "true", "true", single=True)
    assert error.message == "Wrong type: 'true' is a string but was expecting a boolean"


# --- dateTime ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "left", "right", "expected"),
    [
        ("after", "2023-10-26T16:45:52.367Z", "2023-10-21", True),
        ("before", "2023-10-20T16:45:52.367Z", "2023-10-21", True),
        ("equals", "2023-10-21T12:00:00+02:00", "2023-10-21T10:00:00Z", True),
        ("notEquals", "2023-10-21T12:00:00+02:00", "2023-10-21T12:00:00Z", True),
        ("afterOrEquals", "2023-10-21", "2023-10-21T00:00:00.000Z", True),
        ("beforeOrEquals", "Sat, 21 Oct 2023 10:00:00 GMT", "2023-10-21T10:00", True),
        ("after", "2023-10-21 10:00:00.001", "2023-10-21T10:00:00Z", True),
        ("before", MISSING, "2023-10-21", False),
        ("after", "2023-10-21", None, False),
        ("empty", MISSING, "", True),
        ("notEmpty", "2023-10-21", "", True),
    ],
)
def test_date_time_operators(operation: str, left: Any, right: Any, *, expected: bool) -> None:
    single = operation in ("empty", "notEmpty")
    assert passes("dateTime", operation, left, right, single=single) is expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (STRICT, "Wrong type: 'soon' is a string but was expecting a dateTime"),
        (LOOSE, "Conversion error: the string 'soon' can't be converted to a dateTime"),
    ],
)
def test_a_text_that_is_no_date_is_an_error(options: FilterOptions, message: str) -> None:
    assert error_of("dateTime", "after", "soon", "2023-10-21", options=options).message == message


# --- array ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "left", "right", "right_type", "expected"),
    [
        ("contains", ["exotic", "sweet"], "exotic", "any", True),
        ("contains", [], "exotic", "any", False),
        ("contains", MISSING, "exotic", "any", False),
        ("contains", [1, 2], 1, "any", True),
        ("contains", [1, 2], "1", "any", False),  # includes() is ===
        ("contains", [{"a": 1}], {"a": 1}, "any", False),  # objects compare by identity
        ("notContains", ["Exotic"], "exotic", "any", True),
        ("lengthEquals", [1, 2], 2, "number", True),
        ("lengthNotEquals", [1, 2], 2, "number", False),
        ("lengthGt", [1, 2], 1, "number", True),
        ("lengthLt", [1, 2], 2, "number", False),
        ("lengthGte", [1, 2], 2, "number", True),
        ("lengthLte", [], 0, "number", True),
        ("empty", [], "", "any", True),
        ("empty", MISSING, "", "any", True),
        ("notEmpty", [0], "", "any", True),
    ],
)
def test_array_operators(
    operation: str, left: Any, right: Any, right_type: str, *, expected: bool
) -> None:
    assert passes("array", operation, left, right, right_type=right_type) is expected


def test_array_contains_ignores_the_case_of_text() -> None:
    options = FilterOptions(case_sensitive=False, type_validation="strict", version=2)
    assert passes("array", "contains", ["Exotic", 1], "exotic", options=options, right_type="any")
    assert not passes("array", "contains", ["Exotic"], "exotic", right_type="any")


def test_the_right_side_is_read_as_the_operator_type_without_a_right_type() -> None:
    error = error_of("array", "contains", ["a"], "a")
    assert error.message == "Wrong type: 'a' is a string but was expecting an array"


@pytest.mark.parametrize(("left", "length"), [("[1, 2]", 2), ("['a','b','c']", 3), ('["x"]', 1)])
def test_loose_arrays_read_json_text(left: str, length: int) -> None:
    assert passes("array", "lengthEquals", left, length, options=LOOSE, right_type="number")


def test_strict_arrays_refuse_text() -> None:
    error = error_of("array", "notEmpty", "[1]", single=True)
    assert error.message == "Wrong type: '[1]' is a string but was expecting an array"


# --- object -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "left", "expected"),
    [
        ("empty", {}, True),
        ("empty", {"a": 1}, False),
        ("empty", MISSING, True),
        ("empty", None, True),
        ("notEmpty", {"foo": "bar"}, True),
        ("notEmpty", {}, False),
        ("exists", {}, True),
    ],
)
def test_object_operators(operation: str, left: Any, *, expected: bool) -> None:
    assert passes("object", operation, left, "", single=True) is expected


@pytest.mark.parametrize(
    ("left", "expected"), [('{"a": 1}', True), ("{a: 1}", True), ("{}", False)]
)
def test_loose_objects_read_json_and_javascript_literals(left: str, *, expected: bool) -> None:
    assert passes("object", "notEmpty", left, single=True, options=LOOSE) is expected


def test_strict_objects_refuse_text() -> None:
    error = error_of("object", "empty", "{}", single=True)
    assert error.message == "Wrong type: '{}' is a string but was expecting an object"


# --- combining conditions ---------------------------------------------------------------------


def test_and_needs_every_condition_and_or_one() -> None:
    both = [condition("number", "gt", 5, 1), condition("string", "equals", "a", "b")]
    assert not filter_passes({"conditions": both, "combinator": "and"}, STRICT, item_index=0)
    assert filter_passes({"conditions": both, "combinator": "or"}, STRICT, item_index=0)


def test_no_conditions_pass_with_and_and_fail_with_or() -> None:
    # JavaScript: [].every(...) is true, [].some(...) is false.
    assert filter_passes({"conditions": [], "combinator": "and"}, STRICT, item_index=0)
    assert not filter_passes({"conditions": [], "combinator": "or"}, STRICT, item_index=0)


def test_a_condition_after_the_deciding_one_is_not_read() -> None:
    broken = condition("number", "equals", "text", 1)  # a type error if it were read
    decided_or = [condition("number", "gt", 5, 1), broken]
    decided_and = [condition("number", "gt", 1, 5), broken]
    assert filter_passes({"conditions": decided_or, "combinator": "or"}, STRICT, item_index=0)
    assert not filter_passes({"conditions": decided_and, "combinator": "and"}, STRICT, item_index=0)
    with pytest.raises(ParameterError, match="Wrong type: 'text'"):
        filter_passes({"conditions": decided_and, "combinator": "or"}, STRICT, item_index=3)


def test_errors_name_the_condition_and_the_item() -> None:
    conditions = [condition("number", "gt", 5, 1), condition("number", "lt", "x", 1)]
    with pytest.raises(ParameterError) as caught:
        filter_passes({"conditions": conditions, "combinator": "and"}, STRICT, item_index=7)
    assert caught.value.parameter == "conditions.conditions[1].leftValue"
    assert caught.value.item_index == 7
    assert str(caught.value).startswith("Item 7, parameter 'conditions.conditions[1].leftValue'")


@pytest.mark.parametrize(
    ("value", "parameter", "message"),
    [
        ({"conditions": [], "combinator": "xor"}, "conditions.combinator", "'xor' is not a way"),
        ({"combinator": "and"}, "conditions.conditions", "the filter has no list of conditions"),
        (
            {"conditions": [condition("text", "equals", "a", "a")], "combinator": "and"},
            "conditions.conditions[0].operator.type",
            "'text' is not a type n8n's conditions compare",
        ),
        (
            {"conditions": [condition("number", "contains", 1, 1)], "combinator": "and"},
            "conditions.conditions[0].operator.operation",
            "'contains' is not an operation of type number",
        ),
        (
            {
                "conditions": [condition("array", "contains", [], 1, right_type="list")],
                "combinator": "and",
            },
            "conditions.conditions[0].operator.rightType",
            "'list' is not a type a condition's right side can have",
        ),
        (
            {"conditions": [{"leftValue": 1}], "combinator": "and"},
            "conditions.conditions[0].operator",
            "the condition has no operator",
        ),
        (
            {"conditions": ["x"], "combinator": "and"},
            "conditions.conditions[0]",
            "a condition must",
        ),
    ],
)
def test_a_malformed_filter_is_an_error_naming_where(
    value: dict[str, Any], parameter: str, message: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        filter_passes(value, STRICT, item_index=0)
    assert caught.value.parameter == parameter
    assert caught.value.message.startswith(message)


# --- which options apply ----------------------------------------------------------------------


def test_saved_options_are_read_as_n8n_reads_them() -> None:
    # A saved options object without caseSensitive ignores case (!undefined), and any
    # typeValidation but "strict" is loose (filter-parameter.ts).
    assert saved_options({}, parameter="conditions", item_index=0) == FilterOptions(
        case_sensitive=False, type_validation="loose", version=1
    )
    assert saved_options(
        {"caseSensitive": True, "typeValidation": "strict", "version": 3},
        parameter="conditions",
        item_index=0,
    ) == FilterOptions(case_sensitive=True, type_validation="strict", version=3)


def test_a_saved_filter_version_n8n_does_not_have_is_an_error() -> None:
    with pytest.raises(ParameterError) as caught:
        saved_options({"version": 4}, parameter="conditions", item_index=0)
    assert caught.value.parameter == "conditions.options.version"


@pytest.mark.parametrize(("type_version", "version"), [(2, 1), (2.1, 1), (2.2, 2), (2.3, 3)])
def test_the_editor_sets_the_filter_version_from_the_type_version(
    type_version: float, version: int
) -> None:
    options = editor_options(
        type_version=type_version, ignore_case=MISSING, loose_type_validation=False
    )
    assert options == FilterOptions(case_sensitive=True, type_validation="strict", version=version)


def test_ignore_case_counts_only_when_the_option_is_added() -> None:
    # caseSensitive: '={{!$parameter.options.ignoreCase}}' and options holds only what was
    # added, so a node without "Ignore Case" compares case-sensitively.
    assert editor_options(type_version=2, ignore_case=True, loose_type_validation=False) == (
        FilterOptions(case_sensitive=False, type_validation="strict", version=1)
    )


@pytest.mark.parametrize(
    ("type_version", "params", "expected"),
    [
        (2, {"options": {"looseTypeValidation": True}}, "loose"),
        (2, {"looseTypeValidation": True}, "strict"),  # not this version's place for it
        (2.1, {"looseTypeValidation": True}, "loose"),
        (2.1, {"options": {"looseTypeValidation": True}}, "strict"),
    ],
)
def test_convert_types_moved_out_of_options_in_2_1(
    type_version: float, params: dict[str, Any], expected: str
) -> None:
    options = node_options(params, {"conditions": []}, type_version=type_version, item_index=0)
    assert options.type_validation == expected


def test_saved_options_win_over_the_node_parameters() -> None:
    conditions = {"options": {"caseSensitive": True, "typeValidation": "strict"}}
    params = {"looseTypeValidation": True, "options": {"ignoreCase": True}}
    options = node_options(params, conditions, type_version=2.2, item_index=0)
    assert options == FilterOptions(case_sensitive=True, type_validation="strict", version=1)


def test_a_right_side_of_any_type_against_text() -> None:
    # JavaScript: "a5".includes(5) converts 5 to "5"; "5" === 5 is false.
    assert passes("string", "contains", "a5", 5, right_type="any")
    assert passes("string", "endsWith", "x1.5", 1.5, right_type="any")
    assert passes("string", "startsWith", "abc", None, right_type="any")  # null ?? "" is ""
    assert not passes("string", "equals", "5", 5, right_type="any")


def test_a_right_side_of_any_type_against_a_date_is_an_error() -> None:
    error = error_of("dateTime", "after", "2023-10-21", "tomorrow", right_type="any")
    assert error.message == "the value 'tomorrow' is not a date"
    assert error.parameter == "conditions.conditions[0].rightValue"
