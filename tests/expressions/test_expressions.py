"""The ``={{ }}`` expression engine: n8n semantics, JavaScript conveniences, and the sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from plivo_node.core.errors import ExpressionError
from plivo_node.core.items import BinaryData
from plivo_node.expressions import (
    MAX_SOURCE_CHARS,
    MAX_TEXT_CHARS,
    CompiledExpression,
    ExpressionContext,
    compile_expression,
    is_expression,
)
from plivo_node.expressions.sandbox import ENVIRONMENT

NOW = datetime(2024, 3, 5, 14, 7, 9, 123000, tzinfo=UTC)
ITEM = {
    "name": " Ada Lovelace ",
    "first name": "Ada",
    "phone": "+14155550100",
    "count": 3,
    "vip": True,
    "tags": ["math", "engines"],
    "address": {"city": "London", "lines": ["12 St James's Square", {"flat": 2}]},
    "_id": "abc123",
    "empty": None,
}


def _steps(name: str) -> Mapping[str, Any]:
    known = {"Read contacts": {"to": "+14155550199", "body": "Hello"}}
    return known[name]  # KeyError for an unknown step, as the executor's lookup does


def ctx(**overrides: Any) -> ExpressionContext:
    values: dict[str, Any] = {
        "json": ITEM,
        "item_index": 7,
        "parameters": {"resource": "sms", "text": "=Hi {{ $json.name }}"},
        "step_item": _steps,
        "now": NOW,
    }
    values.update(overrides)
    return ExpressionContext(**values)


def ev(source: str, context: ExpressionContext | None = None) -> Any:
    return compile_expression(source, parameter="text").evaluate(context or ctx())


def refused(source: str, context: ExpressionContext | None = None) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        ev(source, context)
    message = str(caught.value)
    assert "Traceback" not in message
    assert 'File "' not in message
    return caught.value


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    compile_expression.cache_clear()
    yield
    compile_expression.cache_clear()


# --- literal or expression -------------------------------------------------------------------


def test_only_strings_starting_with_equals_are_expressions() -> None:
    assert is_expression("={{ 1 }}")
    assert not is_expression("{{ 1 }}")
    assert not is_expression(5)
    assert not is_expression(None)


def test_literal_text_keeps_braces_untouched() -> None:
    assert ev("Hi {{ $json.name }}") == "Hi {{ $json.name }}"
    assert ev("{% if x %}") == "{% if x %}"


def test_expression_without_segments_is_the_text_after_equals() -> None:
    assert ev("=plain text") == "plain text"
    assert ev("=") == ""


# --- types and splicing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("={{ $json.count }}", 3),
        ("={{ $json.vip }}", True),
        ("={{ $json.tags }}", ["math", "engines"]),
        ("={{ $json.address }}", ITEM["address"]),
        ("={{ $json.empty }}", None),
        ("=  {{ $json.count }}\n", 3),
        ("={{ 10 / 4 }}", 2.5),
        ("={{ 10 / 2 }}", 5),
        ("={{ [1, 'a', null] }}", [1, "a", None]),
        ("={{ {a: {b: 1}} }}", {"a": {"b": 1}}),
    ],
)
def test_single_segment_keeps_its_type(source: str, expected: Any) -> None:
    result = ev(source)
    assert result == expected
    assert type(result) is type(expected)


def test_splicing_renders_like_javascript_string() -> None:
    source = (
        "=n={{ $json.count }} b={{ $json.vip }} f={{ false }} x={{ $json.empty }}"
        " t={{ $json.tags }} o={{ {a: 1} }} d={{ 1.5 }} i={{ 4 / 2 }}"
    )
    assert ev(source) == 'n=3 b=true f=false x= t=["math","engines"] o={"a":1} d=1.5 i=2'


def test_two_segments_side_by_side() -> None:
    assert ev("={{ $json['first name'] }}{{ $json.count }}") == "Ada3"


def test_closing_braces_inside_strings_and_objects_do_not_end_a_segment() -> None:
    assert ev("={{ '}}' }}") == "}}"
    assert ev("=<{{ {a: {b: '}}'}} }}>") == '<{"a":{"b":"}}"}}>'


# --- variables ----------------------------------------------------------------------------------


def test_json_access_forms() -> None:
    assert ev("={{ $json.phone }}") == "+14155550100"
    assert ev('={{ $json["first name"] }}') == "Ada"
    assert ev("={{ $json.address.city }}") == "London"
    assert ev("={{ $json.address.lines[0] }}") == "12 St James's Square"
    assert ev("={{ $json.address.lines[1].flat }}") == 2
    assert ev("={{ $json.tags['1'] }}") == "engines"


def test_json_keys_starting_with_one_underscore_are_data() -> None:
    assert ev("={{ $json._id }}") == "abc123"


def test_missing_keys_are_null_and_render_empty() -> None:
    assert ev("={{ $json.nope }}") is None
    assert ev("={{ $json.tags[9] }}") is None
    assert ev("=[{{ $json.nope }}]") == "[]"
    assert ev("={{ $json.nope?.deeper?.still }}") is None


def test_reading_through_a_missing_value_explains_itself() -> None:
    error = refused("={{ $json.nope.deeper }}")
    assert "Cannot read 'deeper' of undefined" in error.message
    assert "Cannot read 'b' of null" in refused("={{ $json.empty.b }}").message
    assert error.hint is not None
    assert "?." in error.hint


def test_binary() -> None:
    binary = {"photo": BinaryData(data="aGk=", mime_type="image/png", file_name="a.png")}
    context = ctx(binary=binary)
    assert ev("={{ $binary.photo.mimeType }}", context) == "image/png"
    assert ev("={{ $binary.photo.fileName }}", context) == "a.png"
    assert ev("={{ $binary.photo }}", context) == {
        "data": "aGk=",
        "mimeType": "image/png",
        "fileName": "a.png",
    }


def test_item_index_and_its_old_aliases() -> None:
    assert ev("={{ $itemIndex }}") == 7
    assert ev("={{ $position + $thisItemIndex }}") == 14


def test_parameter_gives_the_raw_parameters() -> None:
    assert ev("={{ $parameter.resource }}") == "sms"
    assert ev("={{ $parameter.text }}") == "=Hi {{ $json.name }}"


def test_now_is_iso_and_has_date_parts() -> None:
    assert ev("={{ $now }}") == "2024-03-05T14:07:09.123+00:00"
    assert ev("=at {{ $now }}") == "at 2024-03-05T14:07:09.123+00:00"
    assert ev("={{ $now.year }}") == 2024
    assert ev("={{ $now.month * 100 + $now.day }}") == 305
    assert ev("={{ $now.weekday }}") == 2  # Luxon: Monday is 1
    assert ev("={{ $now.toISO() }}") == "2024-03-05T14:07:09.123+00:00"


def test_now_luxon_helpers() -> None:
    eastern = ctx(now=datetime(2024, 1, 31, 23, 5, tzinfo=timezone(timedelta(hours=-5))))
    assert ev("={{ $now.toFormat('yyyy-MM-dd HH:mm:ss') }}") == "2024-03-05 14:07:09"
    pattern = "={{ $now.toFormat(\"EEE d MMM yy, h:mm a ZZ 'literal'\") }}"
    assert ev(pattern, eastern) == "Wed 31 Jan 24, 11:05 PM -05:00 literal"
    assert ev("={{ $now.plus({ days: 1 }).toISODate() }}") == "2024-03-06"
    assert ev("={{ $now.plus({ months: 1 }).toISODate() }}", eastern) == "2024-02-29"
    assert ev("={{ $now.minus({ hours: 15 }).day }}") == 4
    assert ev("={{ $now.toMillis() }}") == int(NOW.timestamp() * 1000)


def test_today_is_midnight_of_now() -> None:
    assert ev("={{ $today }}") == "2024-03-05T00:00:00.000+00:00"
    assert ev("={{ $now > $today }}") is True


def test_input_item_and_all_items() -> None:
    assert ev("={{ $input.item.json.count }}") == 3
    context = ctx(input_items=[{"n": 1}, {"n": 2}, {"n": 5}])
    assert ev("={{ $input.all().length }}", context) == 3
    assert ev("={{ $input.first().json.n + $input.last().json.n }}", context) == 6
    error = refused("={{ $input.all() }}")
    assert "not available" in error.message


def test_earlier_step_item_in_both_syntaxes() -> None:
    assert ev("={{ $('Read contacts').item.json.to }}") == "+14155550199"
    assert ev('={{ $node["Read contacts"].json.body }}') == "Hello"
    assert ev('=To {{ $("Read contacts").item.json.to }}') == "To +14155550199"


def test_unknown_step_is_a_clear_error() -> None:
    error = refused("={{ $('Nope').item.json.to }}")
    assert "no step named 'Nope'" in error.message
    assert error.item_index == 7


def test_step_reference_without_a_lookup() -> None:
    error = refused("={{ $node['Read contacts'].json }}", ctx(step_item=None))
    assert "no step named 'Read contacts'" in error.message


def test_step_lookup_is_lazy() -> None:
    calls: list[str] = []

    def lookup(name: str) -> Mapping[str, Any]:
        calls.append(name)
        return {"x": 1}

    assert ev("={{ $json.vip ? 'yes' : $('Other').item.json.x }}", ctx(step_item=lookup)) == "yes"
    assert calls == []


# --- JavaScript conveniences ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Empty arrays and objects are true in JavaScript, NaN is false: Python says otherwise.
        ("={{ Boolean([]) }}", True),
        ("={{ Boolean({}) }}", True),
        ("={{ Boolean(Number('x')) }}", False),
        ("={{ Boolean('') || Boolean(0) }}", False),
        ("={{ ![] }}", False),
        ("={{ {} ? 'yes' : 'no' }}", "yes"),
        ("={{ [] || 'fallback' }}", []),
        ("={{ {} && 'second' }}", "second"),
        ("={{ Number('x') || 'fallback' }}", "fallback"),
        ("={{ 0 || [] || 'last' }}", []),
        ("={{ $json.tags && $json.tags.length }}", 2),
        ("={{ $json.empty && $json.empty.city }}", None),  # && still short-circuits
    ],
)
def test_truthiness_is_javascripts(source: str, expected: Any) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("={{ $json.name.trim().toUpperCase() }}", "ADA LOVELACE"),
        ("={{ $json['first name'].toLowerCase() }}", "ada"),
        ("={{ $json.name.length }}", 14),
        ("={{ $json.tags.length }}", 2),
        ("={{ 'a,b,,c'.split(',') }}", ["a", "b", "", "c"]),
        ("={{ $json.name.includes('Love') }}", True),
        ("={{ $json.tags.includes('math') }}", True),
        ("={{ 'a-b-a'.replace('a', 'x') }}", "x-b-a"),
        ("={{ 'a-b-a'.replaceAll('a', 'x') }}", "x-b-x"),
        ("={{ $json.phone.startsWith('+1') }}", True),
        ("={{ $json.phone.slice(-4) }}", "0100"),
        ("={{ '7'.padStart(3, '0') }}", "007"),
        ("={{ $json.tags.join(' & ') }}", "math & engines"),
        ("={{ $json.tags.at(-1) }}", "engines"),
        ("={{ (2.345).toFixed(2) }}", "2.35"),
        ("={{ $json.nope || 'fallback' }}", "fallback"),
        ("={{ $json.vip && $json.count }}", 3),
        ("={{ $json.nope ?? 'unset' }}", "unset"),
        ("={{ $json.count === 3 ? 'three' : 'other' }}", "three"),
        ("={{ $json.count !== 3 }}", False),
        ("={{ !$json.vip }}", False),
        ("={{ 'Hi ' + $json['first name'] + '!' }}", "Hi Ada!"),
        ("={{ 'n' + $json.count + true }}", "n3true"),
        ("={{ 1 + 2 * 3 - 4 }}", 3),
        ("={{ 2 ** 10 }}", 1024),
        ("={{ -7 % 3 }}", -1),
        ("={{ Math.round(2.5) + Math.max(1, 9) }}", 12),
        ("={{ JSON.stringify($json.tags) }}", '["math","engines"]'),
        ("={{ JSON.parse('{\"a\": [4]}').a[0] }}", 4),
        ("={{ Object.keys($json.address) }}", ["city", "lines"]),
        ("={{ String($json.count) + Number('2') }}", "32"),
        ("={{ parseInt('42px') + parseFloat('0.5') }}", 42.5),
        ('={{ "it\'s \\u00e9\\n" }}', "it's \u00e9\n"),
    ],
)
def test_javascript_conveniences(source: str, expected: Any) -> None:
    assert ev(source) == expected


# --- the sandbox: every escape attempt is refused ------------------------------------------------


def test_dunder_attribute_of_json_is_refused_at_compile_time() -> None:
    with pytest.raises(ExpressionError, match="'__class__' is refused"):
        compile_expression("={{ $json.__class__ }}", parameter="text")


def test_dunder_chain_from_a_string_is_refused() -> None:
    error = refused("={{ ''.__class__.__mro__ }}")
    assert "'__class__' is refused" in error.message


@pytest.mark.parametrize("name", ["__globals__", "__builtins__", "__import__"])
def test_dunder_names_are_refused(name: str) -> None:
    error = refused(f"={{{{ {name} }}}}")
    assert f"'{name}' is refused" in error.message


def test_dunder_key_built_at_run_time_is_refused() -> None:
    error = refused("={{ $json['__cla' + 'ss__'] }}")
    assert "'__class__' is refused" in error.message
    assert error.item_index == 7


def test_import_is_refused() -> None:
    error = refused("={{ import('os') }}")
    assert "keyword 'import'" in error.message


def test_private_attributes_of_objects_are_refused() -> None:
    assert "'_x' is refused" in refused("={{ 'abc'._x }}").message
    assert "'_tzinfo' is refused" in refused("={{ $now._tzinfo }}").message


def test_python_attributes_are_not_reachable() -> None:
    assert "no property or method 'upper'" in refused("={{ 'a'.upper() }}").message
    assert "no property or method 'tzinfo'" in refused("={{ $now.tzinfo }}").message
    assert "no property or method 'append'" in refused("={{ $json.tags.append(1) }}").message
    assert "no property or method 'format'" in refused("={{ '{0}'.format(1) }}").message


def test_calling_arbitrary_functions_is_refused() -> None:
    error = refused("={{ range(10**9) }}")
    assert "Unknown name 'range'" in error.message
    assert "not a function" in refused("={{ $json.name() }}").message


def test_javascript_constructor_escape_goes_nowhere() -> None:
    assert "no property or method 'constructor'" in refused("={{ 'a'.constructor }}").message


@pytest.mark.parametrize(
    "name", ["self", "cycler", "joiner", "namespace", "lipsum", "dict", "range"]
)
def test_jinja_globals_are_unknown_names(name: str) -> None:
    error = refused(f"={{{{ {name}() }}}}")
    assert f"Unknown name '{name}'" in error.message


def test_jinja_filters_and_tests_are_not_jinja_syntax_here() -> None:
    assert "'|'" in refused("={{ $json.name | upper }}").message
    assert "keyword 'in'" in refused("={{ 'a' in 'abc' }}").message


def test_statements_are_refused() -> None:
    error = refused("={% if $json.vip %}VIP{% endif %}")
    assert "{% if %} are not supported" in error.message
    with pytest.raises(ExpressionError, match="not supported"):
        compile_expression("=Hi {% for x in y %}{% endfor %}", parameter="text")


def test_huge_string_repetition_is_refused() -> None:
    assert "The value is NaN" in refused("={{ 'a' * 10**9 }}").message  # JavaScript's NaN
    assert "more than the 1,000,000 allowed" in refused("={{ 'a'.repeat(10**9) }}").message
    assert "allowed" in refused("={{ 'a'.padStart(10**9) }}").message


def test_huge_exponentiation_is_refused() -> None:
    assert "The value is Infinity" in refused("={{ 10 ** 10 ** 10 }}").message
    assert "The value is Infinity" in refused("={{ 2 ** 1000 * 2 ** 100 }}").message
    assert "too large" in refused("={{ 1e999 }}").message


def test_source_length_is_limited() -> None:
    long_source = "=" + "x" * MAX_SOURCE_CHARS
    with pytest.raises(ExpressionError, match="characters long"):
        compile_expression(long_source, parameter="text")
    assert len(ev("=" + "x" * (MAX_SOURCE_CHARS - 1))) == MAX_SOURCE_CHARS - 1


def test_result_size_is_limited() -> None:
    half = "x" * (MAX_TEXT_CHARS // 2 + 1)
    context = ctx(json={"big": half})
    assert "allowed" in refused("={{ $json.big }}{{ $json.big }}", context).message
    assert "allowed" in refused("={{ $json.big + $json.big }}", context).message
    assert "allowed" in refused("=x{{ [$json.big, $json.big] }}", context).message
    assert ev("={{ $json.big }}", context) == half


def test_result_size_error_of_plain_fields_names_the_item_and_parameter() -> None:
    # `$json.field` templates are spliced without Jinja; their errors must be located too.
    half = "x" * (MAX_TEXT_CHARS // 2 + 1)
    error = refused("={{ $json.big }}{{ $json.big }}", ctx(json={"big": half}))
    assert (error.item_index, error.parameter) == (7, "text")
    assert "(in '={{ $json.big }}{{ $json.big }}')" in error.message


def test_deep_nesting_is_refused_cleanly() -> None:
    with pytest.raises(ExpressionError, match="nested too deeply"):
        compile_expression("={{ " + "(" * 60 + "1" + ")" * 60 + " }}", parameter="text")
    with pytest.raises(ExpressionError, match="too complex"):
        compile_expression("={{ $json" + ".a" * 400 + " }}", parameter="text")


# --- errors: in user terms, with the item and the parameter ---------------------------------------


def test_unknown_variable_suggests_the_right_one() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("={{ $jsn.name }}", parameter="to")
    error = caught.value
    assert error.message.startswith("Unknown variable $jsn; did you mean $json?")
    assert error.parameter == "to"
    assert error.item_index is None
    assert "$jsn.name" in error.message


def test_unavailable_n8n_variables_say_so() -> None:
    assert "$env is not available" in refused("={{ $env.HOME }}").message


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("={{ $json.name( }}", "Expected a value"),
        ("={{ }}", "is empty"),
        ("={{ $json.name", "no closing '}}'"),
        ("={{ x = 1 }}", "assignment is not allowed"),
        ("={{ (x) => x }}", "arrow functions"),
        ("={{ `a` }}", "template literals"),
        ("={{ 'open }}", "no closing quote"),
        ("={{ 1; 2 }}", "only one expression"),
    ],
)
def test_syntax_errors_are_raised_at_compile_time(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source, parameter="text")
    assert fragment in caught.value.message
    assert caught.value.parameter == "text"
    assert "at character" in caught.value.message


def test_evaluation_errors_carry_item_index_and_parameter() -> None:
    compiled = compile_expression("={{ $json.count.foo }}", parameter="mediaUrls")
    with pytest.raises(ExpressionError) as caught:
        compiled.evaluate(ctx(item_index=41))
    error = caught.value
    assert error.item_index == 41
    assert error.parameter == "mediaUrls"
    assert error.code == "expression_error"
    assert "A number has no property or method 'foo'" in error.message
    assert str(error).startswith("Item 41, parameter")


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("={{ 1 / 0 }}", "The value is Infinity (a division by zero"),
        ("={{ 'a' - 1 }}", "The value is NaN (a value that is not a number was used as one)"),
        ("=Total: {{ 'a' - 1 }}", "The value is NaN"),
        ("={{ $now.toISO }}", "does not call it"),
        ("={{ $input }}", "$input cannot be turned into a value"),
        ("={{ 'a'.split(1, 2, 3) }}", "Wrong number of arguments for split()"),
        ("={{ 'a'.toUpperCase(1) }}", "Wrong number of arguments for toUpperCase()"),
        ("={{ JSON.parse('{') }}", "not valid JSON"),
    ],
)
def test_evaluation_errors_are_in_user_terms(source: str, fragment: str) -> None:
    error = refused(source)
    assert fragment in error.message
    assert "Error" not in error.message  # no Python exception class names


# --- compiled once, evaluated per item ------------------------------------------------------------


def test_template_is_compiled_once_and_evaluated_per_item(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment = ENVIRONMENT
    original: Callable[..., Any] = environment.compile_expression
    compiled_sources: list[str] = []

    def counting(source: str, *args: Any, **kwargs: Any) -> Any:
        compiled_sources.append(source)
        return original(source, *args, **kwargs)

    monkeypatch.setattr(environment, "compile_expression", counting)
    source = "=Hi {{ $json.name.trim() }}, #{{ $itemIndex }}"
    results = []
    for index in range(500):
        compiled = compile_expression(source, parameter="text")
        results.append(compiled.evaluate(ctx(item_index=index)))
    assert len(compiled_sources) == 1  # both segments in one compiled expression
    assert results[0] == "Hi Ada Lovelace, #0"
    assert results[499] == "Hi Ada Lovelace, #499"


def test_compiled_expression_is_reusable_across_contexts() -> None:
    compiled = CompiledExpression("={{ $json.n * 2 }}", parameter="count")
    assert [compiled.evaluate(ctx(json={"n": n})) for n in range(3)] == [0, 2, 4]


def test_evaluation_never_mutates_the_item() -> None:
    item = {"tags": ["a"], "nested": {"k": 1}}
    snapshot = {"tags": ["a"], "nested": {"k": 1}}
    ev("={{ $json.tags.concat(['b']) }} {{ $json.nested }}", ctx(json=item))
    assert item == snapshot


# --- the fast path for plain `$json.field` templates ---------------------------------------

_FIELD_TEMPLATES = [
    "={{ $json.name }}",
    "=Hi {{ $json.name }}, {{ $json['count'] }} left",
    "={{$json.count}}",
    "={{ $json.ratio }}",
    "={{ $json.flag }}",
    "=x{{ $json.flag }}{{ $json.missing }}y",
    "={{ $json.nested }}",
    "=v: {{ $json.items }}",
    "={{ $json._id }}",
]
_FIELD_DATA = {
    "name": "Ada",
    "count": 3,
    "ratio": 2.0,
    "flag": True,
    "nested": {"a": [1, 2]},
    "items": [1, "b"],
    "_id": "x1",
}


@pytest.mark.parametrize("source", _FIELD_TEMPLATES)
def test_plain_field_fast_path_matches_the_full_evaluator(source: str) -> None:
    fast = CompiledExpression(source, parameter="p")
    assert fast._json_keys is not None  # the fast path is taken for these templates
    slow = CompiledExpression(source, parameter="p")
    slow._json_keys = None  # force the Jinja path
    context = ExpressionContext(json=_FIELD_DATA, item_index=0)
    assert fast.evaluate(context) == slow.evaluate(context)
    assert type(fast.evaluate(context)) is type(slow.evaluate(context))


@pytest.mark.parametrize(
    "source", ["={{ $json.a.b }}", "={{ $json.__class__ }}", "={{ $json.name + 1 }}", "={{ $now }}"]
)
def test_anything_but_a_plain_field_takes_the_full_evaluator(source: str) -> None:
    try:
        compiled = CompiledExpression(source, parameter="p")
    except ExpressionError:
        return  # refused at compile time: certainly not the fast path
    assert compiled._json_keys is None
