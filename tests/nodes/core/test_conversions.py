"""The conversions the core nodes share: n8n's field types, lodash paths, dates, lenient JSON.

Sources: packages/workflow/src/type-validation.ts (validateFieldType, tryToParse*), lodash 4
(get/set/unset, stringToPath), Luxon's fromISO/fromHTTP/fromRFC2822/fromSQL, and
packages/workflow/src/utils.ts (jsonParse with acceptJSObject/repairJSON).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from plivo_node.nodes.core.date_text import parse_date_time, to_millis
from plivo_node.nodes.core.field_paths import (
    MISSING,
    UnsafePathError,
    get_path,
    literal_key,
    set_path,
    string_to_path,
    unset_path,
)
from plivo_node.nodes.core.field_types import ConversionError, convert, value_description
from plivo_node.nodes.core.lenient_json import parse_js_object, repair_json

# --- n8n's field types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "field_type", "expected"),
    [
        ("12", "number", 12),
        (" 1.5 ", "number", 1.5),
        ("", "number", 0),  # Number("") is 0
        ("0x1f", "number", 31),
        ("1e3", "number", 1000),
        (True, "number", 1),
        ([7], "number", 7),
        ([], "number", 0),
        ("true", "boolean", True),
        ("FALSE", "boolean", False),
        ("1", "boolean", True),
        ("0", "boolean", False),
        (0, "boolean", False),
        ([], "boolean", False),  # Number([]) is 0
        ("[1, 2]", "array", [1, 2]),
        ("['a', 'b']", "array", ["a", "b"]),  # single quotes are read as double
        ([1], "array", [1]),
        ('{"a": 1}', "object", {"a": 1}),
        ("{a: 1, 'b': 'x', c: [1,], d: word}", "object", {"a": 1, "b": "x", "c": [1], "d": "word"}),
        ("null", "object", None),  # JSON.parse("null") is an "object" n8n lets through
        (5, "string", 5),  # without parse_strings, text is not touched
        (None, "number", None),
        (MISSING, "boolean", MISSING),
    ],
)
def test_n8n_conversions(value: Any, field_type: Any, expected: Any) -> None:
    assert convert(value, field_type) == expected


@pytest.mark.parametrize(
    ("value", "field_type"),
    [
        ("abc", "number"),
        ({}, "number"),
        ([1, 2], "number"),
        ("yes", "boolean"),
        ("", "boolean"),
        (" true", "boolean"),  # not a word n8n knows, and Number(" true") is NaN
        (2, "boolean"),
        ("a,b", "array"),
        ("5", "array"),
        ({"a": 1}, "array"),
        ("[1]", "object"),
        ("abc", "object"),
        ("{a: 1", "object"),
        ("2023-13-45", "dateTime"),
    ],
)
def test_values_that_do_not_convert(value: Any, field_type: Any) -> None:
    with pytest.raises(ConversionError):
        convert(value, field_type)


@pytest.mark.parametrize(
    ("value", "text"),
    [(12, "12"), (0.1, "0.1"), (1e21, "1e+21"), (False, "false"), ([1, [2]], "[1,[2]]")],
)
def test_text_as_javascript_writes_it(value: Any, text: str) -> None:
    assert convert(value, "string", parse_strings=True) == text


@pytest.mark.parametrize(
    ("value", "field_type"),
    [(5, "string"), ("5", "number"), (1, "boolean"), ("[1]", "array"), ("{}", "object")],
)
def test_strict_conversion_takes_only_the_type(value: Any, field_type: Any) -> None:
    with pytest.raises(ConversionError):
        convert(value, field_type, strict=True, parse_strings=True)


@pytest.mark.parametrize(
    ("value", "shown"),
    [("abc", "'abc'"), (5, "'5'"), (None, "'null'"), ([1], "array"), ({}, "object")],
)
def test_value_descriptions(value: Any, shown: str) -> None:
    assert value_description(value) == shown


# --- lodash paths -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("a.b.c", ["a", "b", "c"]),
        ("a[0].b", ["a", "0", "b"]),
        ("a['x.y'].z", ["a", "x.y", "z"]),
        ('a["q\\"r"]', ["a", 'q"r']),
        (".a", ["", "a"]),
        ("a..b", ["a", "", "b"]),
    ],
)
def test_paths_split_as_lodash_splits_them(path: str, parts: list[str]) -> None:
    assert string_to_path(path) == parts


def test_get_reads_nested_fields_and_literal_keys() -> None:
    data = {"a": {"b": [10, {"c": 3}]}, "x.y": 1}
    assert get_path(data, "a.b[1].c") == 3
    assert get_path(data, "a.b.0") == 10
    assert get_path(data, "x.y") == 1  # the object has that exact key
    assert get_path(data, "a.missing.c") is MISSING
    assert get_path(data, "a.b.length") == 2


def test_set_creates_objects_and_arrays_on_the_way() -> None:
    data: dict[str, Any] = {"keep": 1, "a": "text"}
    set_path(data, "a.b", 2)  # a value in the way is replaced
    set_path(data, "list[2].name", "n")
    assert data == {"keep": 1, "a": {"b": 2}, "list": [None, None, {"name": "n"}]}


def test_set_writes_a_literal_key_the_object_already_has() -> None:
    data: dict[str, Any] = {"a.b": 1}
    set_path(data, "a.b", 2)
    assert data == {"a.b": 2}


def test_unset_removes_keys_and_leaves_holes_in_arrays() -> None:
    data: dict[str, Any] = {"a": {"b": 1, "c": 2}, "l": [1, 2, 3]}
    unset_path(data, "a.b")
    unset_path(data, "l[1]")
    unset_path(data, "nothing.here")
    assert data == {"a": {"c": 2}, "l": [1, None, 3]}


@pytest.mark.parametrize("path", ["__proto__.polluted", "a.constructor.prototype"])
def test_paths_into_javascript_prototypes_are_refused(path: str) -> None:
    with pytest.raises(UnsafePathError):
        set_path({}, path, 1)


def test_literal_keys_drop_brackets_only_when_that_key_exists() -> None:
    assert literal_key({"a.b": 1}, "['a.b']") == "a.b"
    assert literal_key({}, "['a.b']") == "['a.b']"


# --- dates ------------------------------------------------------------------------------------


def at(*parts: int, offset_minutes: int = 0, ms: int = 0) -> datetime:
    zone = timezone(timedelta(minutes=offset_minutes))
    return datetime(*parts, microsecond=ms * 1000, tzinfo=zone)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-10-21", at(2023, 10, 21)),
        ("2023-10", at(2023, 10, 1)),
        ("2023", at(2023, 1, 1)),
        ("20231021", at(2023, 10, 21)),
        ("2023-10-21T16:45:52.367Z", at(2023, 10, 21, 16, 45, 52, ms=367)),
        ("2023-10-21T16:45:52.3679Z", at(2023, 10, 21, 16, 45, 52, ms=367)),  # ms, floored
        ("2023-10-21T16:45+02:00", at(2023, 10, 21, 16, 45, offset_minutes=120)),
        ("2023-10-21T1645-0530", at(2023, 10, 21, 16, 45, offset_minutes=-330)),
        ("2023-W42-6", at(2023, 10, 21)),
        ("2023-294", at(2023, 10, 21)),
        ("Sat, 21 Oct 2023 16:45:52 GMT", at(2023, 10, 21, 16, 45, 52)),
        ("Sat, 21 Oct 2023 16:45:52 +0200", at(2023, 10, 21, 16, 45, 52, offset_minutes=120)),
        ("21 Oct 23 16:45 EST", at(2023, 10, 21, 16, 45, offset_minutes=-300)),
        ("Saturday, 21-Oct-23 16:45:52 GMT", at(2023, 10, 21, 16, 45, 52)),
        ("Sat Oct 21 16:45:52 2023", at(2023, 10, 21, 16, 45, 52)),
        ("2023-10-21 16:45:52.5", at(2023, 10, 21, 16, 45, 52, ms=500)),
        ("2023-10-21 16:45:52 +01:00", at(2023, 10, 21, 16, 45, 52, offset_minutes=60)),
        ("2023/10/21", at(2023, 10, 21)),
        ("10/21/2023 16:45", at(2023, 10, 21, 16, 45)),
        ("October 21, 2023", at(2023, 10, 21)),
        ("21 October 2023", at(2023, 10, 21)),
        (
            "Sat Oct 21 2023 16:45:52 GMT+0200 (Central European Summer Time)",
            at(2023, 10, 21, 16, 45, 52, offset_minutes=120),
        ),
    ],
)
def test_dates_n8n_reads(text: str, expected: datetime) -> None:
    assert parse_date_time(text) == expected


def test_a_zone_name_in_sql_dates_is_used() -> None:
    moment = parse_date_time("2023-10-21 12:00:00 Europe/Paris")
    assert to_millis(moment) == to_millis(at(2023, 10, 21, 10))


def test_a_time_alone_is_today() -> None:
    moment = parse_date_time("09:30")
    assert (moment.hour, moment.minute, moment.date()) == (9, 30, datetime.now(UTC).date())


@pytest.mark.parametrize(
    "text",
    [
        "soon",
        "2023-02-30",
        "2023-13-01",
        "2023-10-21T25:00",
        "Fri, 21 Oct 2023 16:45:52 GMT",  # 21 Oct 2023 is a Saturday
        "12345",
        "",
    ],
)
def test_texts_that_are_no_date(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date"):
        parse_date_time(text)


def test_milliseconds_since_the_epoch() -> None:
    assert to_millis(at(1970, 1, 1, ms=5)) == 5
    assert to_millis(at(2023, 10, 21, 2, offset_minutes=120)) == 1697846400000


# --- lenient JSON -----------------------------------------------------------------------------


def test_javascript_object_literals() -> None:
    text = """{
        // a comment
        name: 'Ann', "age": 30, 1: "one", nested: {list: [1, 'two', null, true,],},
        bad: -1, word: undefined, /* block */ hex: 0x10,
    }"""
    assert parse_js_object(text) == {
        "name": "Ann",
        "age": 30,
        "1": "one",
        "nested": {"list": [1, "two", None, True]},
        "word": "undefined",  # a bare word is its name; -1 is an expression: left out
        "hex": 16,
    }


@pytest.mark.parametrize("text", ["[1, 2]", "'text'", "{a: 1", "{a: 1} extra", "{'a: 1}"])
def test_text_that_is_not_one_object_literal(text: str) -> None:
    with pytest.raises(ValueError, match=r"at character \d+|not an object literal"):
        parse_js_object(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ("{a: -1, b: True, c: None, 'd': 'x\\'y',}", {"a": -1, "b": True, "c": None, "d": "x'y"}),
        ("[1, 2,]", [1, 2]),
        ('"\\u00e9\\n"', "é\n"),
        ("{a: 1.50}", {"a": 1.5}),
    ],
)
def test_repaired_json(text: str, expected: Any) -> None:
    assert repair_json(text) == expected


@pytest.mark.parametrize("text", ["{a: }", '{"a": "unclosed}', "{a: 1}}", "", "{a: 1e999}"])
def test_json_beyond_repair(text: str) -> None:
    with pytest.raises(ValueError, match=r"at character \d+|too large"):
        repair_json(text)
