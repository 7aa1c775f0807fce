"""Every builder of text and arrays is bounded before it builds, each value and all of one
item's together; huge numeric text parses without Python's int-from-text limit; and the values
JavaScript has but JSON has not (undefined, NaN, Infinity, -0) leave an expression cleanly."""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import ExpressionError
from plivo_node.expressions import ExpressionContext, compile_expression
from plivo_node.expressions.limits import MAX_ARRAY_ITEMS, MAX_BUILT_PER_ITEM, MAX_TEXT_CHARS

ITEM: dict[str, Any] = {
    "arr": list(range(60_000)),
    "long": "x" * 5_000,
    "digits": "9" * 20_000,
}


def ev(source: str, json: dict[str, Any] | None = None) -> Any:
    context = ExpressionContext(json=ITEM if json is None else json, item_index=12)
    return compile_expression(source, parameter="message").evaluate(context)


def refused(source: str, json: dict[str, Any] | None = None) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        ev(source, json)
    error = caught.value
    assert (error.item_index, error.parameter) == (12, "message")
    assert str(error).startswith("Item 12, parameter 'message'")
    return error


@pytest.mark.parametrize(
    "source",
    [
        "={{ $json.arr.concat($json.arr) }}",
        "={{ $json.arr.concat($json.arr).length }}",
        "={{ 'x'.repeat(200000).split('') }}",
        "={{ 'a,'.repeat(200000).split(',') }}",
        "={{ $json.arr.slice().concat([1], $json.arr) }}",
    ],
)
def test_arrays_past_the_item_limit_are_refused_before_being_built(source: str) -> None:
    error = refused(source)
    assert f"more than the {MAX_ARRAY_ITEMS:,} allowed" in error.message
    assert error.hint == "build smaller arrays"


def test_split_with_a_limit_builds_only_that_many_items() -> None:
    assert ev("={{ 'x'.repeat(500000).split('', 3) }}") == ["x", "x", "x"]
    assert ev("={{ 'a,'.repeat(200000).split(',', 2) }}") == ["a", "a"]


@pytest.mark.parametrize(
    "source",
    [
        "={{ 'ab'.repeat(400000) + 'ab'.repeat(400000) }}",
        "={{ 'ab'.repeat(400000).concat('ab'.repeat(400000)) }}",
        "={{ 'x'.repeat(10 ** 9) }}",
        "={{ 'x'.padStart(10 ** 9) }}",
        "={{ 'x'.padEnd(2 ** 40, 'ab') }}",
        "={{ $json.arr.join('-'.repeat(20)) }}",
        "={{ String([$json.long.repeat(100), $json.long.repeat(100), $json.long]) }}",
        "={{ $json.long.replaceAll('x', '$`') }}",  # each match becomes everything before it
        "={{ $json.long.replaceAll('', $json.long) }}",
        "={{ 'x'.repeat(600000).replace('x', '$&$\\'') }}",
        "={{ JSON.stringify([$json.arr, $json.arr, $json.arr]) }}",
        "=Hi {{ $json.arr }} {{ $json.arr }} {{ $json.arr }}",  # about 350,000 each
    ],
)
def test_text_past_the_size_limit_is_refused_before_being_built(source: str) -> None:
    error = refused(source)
    assert "characters" in error.message
    assert "allowed" in error.message


def test_many_values_each_small_enough_exhaust_the_items_budget() -> None:
    one = "'x'.repeat(900000)"
    source = "={{ [" + ", ".join([one] * 12) + "].length }}"
    error = refused(source)
    assert f"more than {MAX_BUILT_PER_ITEM:,} characters and array items in total" in error.message
    assert ev("={{ [" + ", ".join([one] * 5) + "].length }}") == 5  # under the budget


def test_the_budget_is_per_evaluation_not_per_process() -> None:
    compiled = compile_expression("={{ 'x'.repeat(900000).length }}", parameter="message")
    for index in range(30):  # 27 million characters over 30 items: each item has its own budget
        assert compiled.evaluate(ExpressionContext(json={}, item_index=index)) == 900_000


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("={{ String(parseInt($json.digits)) }}", "Infinity"),
        ("={{ String(Number($json.digits)) }}", "Infinity"),
        ("={{ String(parseFloat($json.digits)) }}", "Infinity"),
        ("={{ String(JSON.parse($json.digits)) }}", "Infinity"),
        ("={{ String(parseInt($json.digits, 3)) }}", "NaN"),  # 9 is no digit in base 3
        ("={{ String(parseInt('2'.repeat(20000), 3)) }}", "Infinity"),
        ("={{ String(parseInt('1'.repeat(5000), 7)) }}", "Infinity"),
        ("={{ parseInt('0'.repeat(20000) + '42') }}", 42),
        ("={{ Number('0x' + 'f'.repeat(20000)) > 1 }}", True),
        ("={{ parseInt('1' + '0'.repeat(300), 10) > 1e299 }}", True),
        ("={{ $json.digits == Infinity }}", True),  # as in JavaScript: beyond the doubles
        ("={{ $json.digits > 1e308 }}", True),
        ("={{ $json.digits.length }}", 20_000),
    ],
)
def test_huge_numeric_text_parses_without_pythons_digit_limit(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_an_infinite_parse_given_to_a_parameter_is_a_clear_error() -> None:
    error = refused("={{ parseInt($json.digits) }}")
    assert "The value is Infinity" in error.message
    assert "Number($json.x) || 0" in (error.hint or "")


def test_nan_and_infinity_never_leave_an_expression_as_a_value() -> None:
    assert "The value is NaN" in refused("={{ $json.nope * 2 }}").message
    assert "The value is NaN" in refused("=Total: {{ Number('abc') }} USD").message
    assert "The value is Infinity" in refused("={{ [1, 1 / 0] }}").message
    assert "The value is -Infinity" in refused("={{ {a: {b: -1 / 0}} }}").message
    assert ev("={{ String(0 / 0) }}") == "NaN"  # asked for in words: allowed
    assert ev("={{ JSON.stringify([0 / 0]) }}") == "[null]"  # as JSON.stringify writes it


def test_undefined_leaves_as_null_or_nothing() -> None:
    assert ev("={{ $json.nope }}", {}) is None
    assert ev("=[{{ $json.nope }}]", {}) == "[]"
    assert ev("={{ [$json.nope, null] }}", {}) == [None, None]
    assert ev("={{ {a: $json.nope, b: 1} }}", {}) == {"b": 1}
    assert ev("={{ $json.nope?.deeper }}", {}) is None


def test_negative_zero_and_whole_doubles_leave_as_json_numbers() -> None:
    zero = ev("={{ -0 }}", {})
    assert zero == 0
    assert type(zero) is int
    assert type(ev("={{ 10 / 2 }}", {})) is int
    assert ev("={{ [0.5 * 4, -0] }}", {}) == [2, 0]
    assert ev("=n={{ -0 }} big={{ 2 ** 70 }} small={{ 1e-7 }}", {}) == (
        "n=0 big=1.1805916207174113e+21 small=1e-7"
    )


def test_deep_data_is_refused_when_turned_into_text() -> None:
    deep: Any = "bottom"
    for _ in range(500):
        deep = [deep]
    error = refused("=x{{ $json.deep }}", {"deep": deep})
    assert "nested more than 200 levels" in error.message
    error = refused("={{ $json.deep }}", {"deep": deep})
    assert "nested more than 200 levels" in error.message


def test_very_deep_data_in_javascript_text_conversion_is_an_error_not_a_crash() -> None:
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    error = refused("={{ String($json.deep).length }}", {"deep": deep})
    assert "nested too deeply" in error.message


def test_json_parse_bounds_what_it_builds() -> None:
    source = "={{ JSON.parse('[' + '1,'.repeat(150000) + '1]').length }}"
    assert f"more than the {MAX_ARRAY_ITEMS:,} allowed" in refused(source).message
    assert ev("={{ JSON.parse('[' + '1,'.repeat(999) + '1]').length }}") == 1000
    assert "nested more than" in refused("={{ JSON.parse('['.repeat(100000)) }}").message


def test_input_all_counts_against_the_array_limit() -> None:
    many = [{"n": index} for index in range(MAX_ARRAY_ITEMS + 1)]
    context = ExpressionContext(json={}, item_index=12, input_items=many)
    with pytest.raises(ExpressionError, match="array of"):
        compile_expression("={{ $input.all().length }}", parameter="message").evaluate(context)


def test_text_limit_is_a_million_characters() -> None:
    assert len(ev("={{ 'x'.repeat(1000000) }}")) == MAX_TEXT_CHARS
    assert "1,000,001 characters" in refused("={{ 'x'.repeat(1000000) + 'y' }}").message


def test_json_text_of_plain_data_is_written_as_javascript_writes_it() -> None:
    data = {"a": [1, 2.5, "é\n", None, True], "b": {"c": 0.0001, "d": -123456789.125}}
    assert ev("={{ JSON.stringify($json.data) }}", {"data": data}) == (
        '{"a":[1,2.5,"é\\n",null,true],"b":{"c":0.0001,"d":-123456789.125}}'
    )
    # Floats Python writes differently (2.0, 1e-05, 1e+16) take JavaScript's writer.
    odd = [2.0, 0.00001, 1e16, 1e21]
    assert ev("=x{{ $json.odd }}", {"odd": odd}) == "x[2,0.00001,10000000000000000,1e+21]"
