"""Input readers (CSV, JSONL, JSON array, stdin) and the JSONL output writer."""

from __future__ import annotations

import io
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.items import BinaryData, Item
from plivo_node.run import item_io
from plivo_node.run.item_io import (
    OutputWriter,
    encode_line,
    items_from_stream,
    read_items,
    resolve_format,
)


def total_of(path: Path | str) -> int | None:
    """The item count open_input gives for the progress total."""
    return item_io.open_input(path)[1]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


class CountingStream(io.StringIO):
    """A text stream that counts the characters handed out by read()."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.chars_read = 0

    def read(self, size: int | None = -1) -> str:
        chunk = super().read(size)
        self.chars_read += len(chunk)
        return chunk


# --- format selection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.csv", "csv"),
        ("a.CSV", "csv"),
        ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("a.json", "json"),
        ("-", "jsonl"),
    ],
)
def test_format_follows_the_extension(name: str, expected: str) -> None:
    assert resolve_format(name) == expected


def test_explicit_format_wins_over_the_extension() -> None:
    assert resolve_format("contacts.txt", "csv") == "csv"
    assert resolve_format("-", "json") == "json"


def test_unknown_extension_lists_the_formats(tmp_path: Path) -> None:
    path = write(tmp_path, "contacts.xlsx", "")
    with pytest.raises(ConfigurationError) as caught:
        read_items(path)
    message = str(caught.value)
    assert "'.xlsx'" in message
    for known in (".csv", ".jsonl", ".ndjson", ".json"):
        assert known in message


def test_unknown_explicit_format_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="unknown input format 'xml'"):
        resolve_format("a.csv", "xml")


def test_missing_file_fails_at_the_call_not_at_first_item(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        read_items(tmp_path / "nope.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ConfigurationError, match="is a directory"):
        read_items(tmp_path / "dir.csv")


# --- CSV -------------------------------------------------------------------------------------


def test_csv_rows_become_items_with_string_values(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", 'to,text,count\n+14155550100,"Hi, there",3\n+14155550101,Yo,\n')
    items = list(read_items(path))
    assert items == [
        Item(json={"to": "+14155550100", "text": "Hi, there", "count": "3"}),
        Item(json={"to": "+14155550101", "text": "Yo", "count": ""}),
    ]


def test_csv_quoted_field_may_span_lines_and_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes('\ufeffto,text\n1,"line one\nline two"\n\n2,b\n'.encode())
    items = list(read_items(path))
    assert [item.json for item in items] == [
        {"to": "1", "text": "line one\nline two"},
        {"to": "2", "text": "b"},
    ]
    assert total_of(path) == 2


def test_csv_short_row_is_an_error_naming_its_line(tmp_path: Path) -> None:
    # Filling the missing columns with "" would send a message with a blank field.
    path = write(tmp_path, "c.csv", "a,b,c\n1,2,3\n1\n")
    items = read_items(path)
    assert next(items).json == {"a": "1", "b": "2", "c": "3"}
    with pytest.raises(
        ConfigurationError, match="line 3: the row has 1 field but the header has 3"
    ):
        next(items)
    empty_values = write(tmp_path, "e.csv", "a,b,c\n1,,\n")
    assert next(read_items(empty_values)).json == {"a": "1", "b": "", "c": ""}


def test_empty_csv_has_no_items(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "")
    assert list(read_items(path)) == []
    assert total_of(path) == 0
    header_only = write(tmp_path, "h.csv", "to,text\n")
    assert list(read_items(header_only)) == []
    assert total_of(header_only) == 0


def test_csv_row_with_too_many_fields_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "to,text\n1,a\n2,b,extra\n")
    items = read_items(path)
    assert next(items).json == {"to": "1", "text": "a"}
    with pytest.raises(ConfigurationError) as caught:
        next(items)
    message = str(caught.value)
    assert "c.csv line 3" in message
    assert "3 fields but the header has 2" in message


@pytest.mark.parametrize(
    ("header", "fragment"),
    [("to,to\n", "names column 'to' twice"), ("to,text,\n", "column 3 has no name")],
)
def test_bad_csv_header_is_explained(tmp_path: Path, header: str, fragment: str) -> None:
    path = write(tmp_path, "c.csv", header + "1,2,3\n")
    with pytest.raises(ConfigurationError, match=fragment):
        list(read_items(path))


def test_non_utf8_input_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"to,text\n1,caf\xe9\n")
    with pytest.raises(ConfigurationError, match="not UTF-8"):
        list(read_items(path))


# --- JSONL -----------------------------------------------------------------------------------


def test_jsonl_lines_become_items_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "c.jsonl", '{"to": "1", "n": 2}\n\n   \n{"to": "2"}\n')
    assert [item.json for item in read_items(path)] == [{"to": "1", "n": 2}, {"to": "2"}]
    assert total_of(path) == 2


def test_ndjson_is_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path, "c.ndjson", '{"a": 1}\n')
    assert [item.json for item in read_items(path)] == [{"a": 1}]


def test_bad_jsonl_line_names_line_and_json_error(tmp_path: Path) -> None:
    path = write(tmp_path, "c.jsonl", '{"a": 1}\n\n{"a": }\n')
    with pytest.raises(ConfigurationError) as caught:
        list(read_items(path))
    message = str(caught.value)
    assert "c.jsonl line 3" in message
    assert "Expecting value" in message


def test_jsonl_non_object_line_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "c.jsonl", '{"a": 1}\n[1, 2]\n')
    with pytest.raises(ConfigurationError, match=r"line 2: expected a JSON object, found an array"):
        list(read_items(path))


def test_jsonl_accepts_n8n_items_so_outputs_chain(tmp_path: Path) -> None:
    line = {
        "json": {"to": "1"},
        "pairedItem": {"item": 0},
        "binary": {"photo": {"data": "aGk=", "mimeType": "image/png", "fileName": "p.png"}},
    }
    path = write(tmp_path, "c.jsonl", json.dumps(line) + "\n")
    [item] = list(read_items(path))
    assert item.json == {"to": "1"}
    assert item.binary == {"photo": BinaryData("aGk=", "image/png", "p.png")}
    assert item.binary["photo"].content() == b"hi"


def test_binary_entry_without_mime_type_or_file_name_gets_defaults(tmp_path: Path) -> None:
    line = {"json": {}, "binary": {"f": {"data": "aGk=", "mimeType": None, "fileName": None}}}
    [item] = list(read_items(write(tmp_path, "c.jsonl", json.dumps(line) + "\n")))
    assert item.binary == {"f": BinaryData("aGk=", "application/octet-stream", None)}


@pytest.mark.parametrize(
    ("field", "value", "kind"), [("fileName", 7, "a number"), ("mimeType", ["x"], "an array")]
)
def test_binary_entry_with_non_text_names_is_refused(
    tmp_path: Path, field: str, value: object, kind: str
) -> None:
    # A number as fileName used to get through and crash the MMS upload later.
    entry = {"data": "aGk=", "mimeType": "image/png", field: value}
    line = {"json": {}, "binary": {"photo": entry}}
    path = write(tmp_path, "c.jsonl", json.dumps(line) + "\n")
    with pytest.raises(
        ConfigurationError, match=f"line 1: binary entry 'photo' has a {field}"
    ) as caught:
        list(read_items(path))
    assert kind in str(caught.value)


def test_mixing_plain_objects_and_n8n_items_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "c.jsonl", '{"json": {"a": 1}}\n{"a": 2}\n')
    with pytest.raises(ConfigurationError, match="inconsistent item format") as caught:
        list(read_items(path))
    assert "line 2" in str(caught.value)
    assert "line 1" in str(caught.value)


def test_stdin_is_read_as_jsonl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"to": "1"}\n{"to": "2"}\n'))
    assert [item.json for item in read_items("-")] == [{"to": "1"}, {"to": "2"}]
    assert total_of("-") is None


# --- JSON array ------------------------------------------------------------------------------


def test_json_array_of_plain_objects(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", ' [ {"to": "1"} ,\n {"to": "2", "x": [1, {"y": null}]} ]\n')
    assert [item.json for item in read_items(path)] == [
        {"to": "1"},
        {"to": "2", "x": [1, {"y": None}]},
    ]
    assert total_of(path) is None


def test_json_array_of_n8n_items(tmp_path: Path) -> None:
    data = [{"json": {"a": 1}}, {"json": {"a": 2}, "binary": {}}]
    path = write(tmp_path, "c.json", json.dumps(data))
    assert list(read_items(path)) == [Item(json={"a": 1}), Item(json={"a": 2})]


@pytest.mark.parametrize("text", ["", "  \n", "[]", " [ \n ] "])
def test_empty_json_input_has_no_items(tmp_path: Path, text: str) -> None:
    assert list(read_items(write(tmp_path, "c.json", text))) == []


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[{"a": 1}, 7]', "element 1: expected a JSON object, found a number"),
        ('[{"a": 1}, "x"]', "element 1: expected a JSON object, found a string"),
        ('{"a": 1}', "must hold one JSON array"),
        ('[{"a": 1},\n{"a": }]', "line 2: element 1 is not valid JSON"),
        ('[{"a": 1},]', "element 1 is missing"),
        ('[{"a": 1}', "ends after element 0 without closing the array"),
        ('[{"a": 1},', "element 1 is missing"),
        ('[{"a": 1}, {"a"', "element 1 is not valid JSON"),
        ('[{"a": 1} {"a": 2}]', "expected ',' or ']' after element 0"),
        ('[{"a": 1}] x', "unexpected 'x' after the end of the array"),
        ('[{"json": 3}]', "the item's 'json' must be an object"),
    ],
)
def test_bad_json_array_is_explained(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        list(read_items(write(tmp_path, "c.json", text)))
    assert fragment in str(caught.value)
    assert "c.json" in str(caught.value)


def test_json_errors_count_lines_across_chunks(tmp_path: Path) -> None:
    # 3,000 lines of elements (far more than one read chunk), then a broken one.
    good = ",\n".join(json.dumps({"n": n, "pad": "x" * 40}) for n in range(3000))
    path = write(tmp_path, "c.json", "[\n" + good + ",\n{oops}\n]")
    with pytest.raises(ConfigurationError, match=r"line 3002: element 3000 is not valid JSON"):
        list(read_items(path))


def test_elements_split_across_chunks_decode_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiny chunks cut numbers, strings and objects in the middle.
    monkeypatch.setattr(item_io, "_JSON_CHUNK", 3)
    values: list[dict[str, Any]] = [
        {"n": 1234567890, "s": "abc\u00e9" * 5, "f": -1.5e10},
        {"t": True, "z": None, "list": [12345, "x"]},
    ]
    text = json.dumps(values)
    items = list(items_from_stream(io.StringIO(text), "json", "s.json"))
    assert [item.json for item in items] == values


def test_big_json_array_is_read_lazily() -> None:
    element = json.dumps({"to": "+14155550100", "text": "hello " * 20})
    text = "[" + ",".join([element] * 50_000) + "]"  # about 7 MB
    stream = CountingStream(text)
    items = items_from_stream(stream, "json", "big.json")
    assert next(items).json["to"] == "+14155550100"
    assert stream.chars_read <= 2 * item_io._JSON_CHUNK
    assert stream.chars_read < len(text) // 20
    assert sum(1 for _ in items) == 50_000 - 1
    assert stream.chars_read == len(text)


def test_json_scanner_holds_about_one_chunk_at_a_time() -> None:
    element = json.dumps({"n": 1, "text": "z" * 300})
    text = "[" + ",".join([element] * 20_000) + "]"
    scanner = item_io._JsonArrayScanner(CountingStream(text), "big.json")
    largest = 0
    count = 0
    for _position, _value in scanner:
        largest = max(largest, len(scanner._buffer))
        count += 1
    assert count == 20_000
    assert largest <= item_io._JSON_CHUNK + len(element) + 1


def test_read_items_opens_files_lazily_and_reads_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    element = json.dumps({"to": "1", "pad": "y" * 100})
    path = write(tmp_path, "big.json", "[" + ",".join([element] * 20_000) + "]")
    streams: list[CountingStream] = []

    def counting_open(file_path: Path) -> CountingStream:
        stream = CountingStream(file_path.read_text(encoding="utf-8"))
        streams.append(stream)
        return stream

    monkeypatch.setattr(item_io, "_open_text", counting_open)
    items = read_items(path)
    assert streams == []  # nothing is opened until the first item is asked for
    assert next(items).json["to"] == "1"
    assert streams[0].chars_read < path.stat().st_size // 10
    items.close()


def test_jsonl_is_read_line_by_line() -> None:
    class CountingLines(io.StringIO):
        def __init__(self, count: int) -> None:
            super().__init__("".join(json.dumps({"n": n}) + "\n" for n in range(count)))
            self.lines_taken = 0

        def readline(self, size: int | None = -1) -> str:
            self.lines_taken += 1
            return super().readline(size)

    source = CountingLines(100_000)
    items = items_from_stream(source, "jsonl", "big.jsonl")
    assert next(items).json == {"n": 0}
    assert source.lines_taken == 1


# --- writer ----------------------------------------------------------------------------------


def test_writer_writes_one_compact_line_per_item(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "out.jsonl"
    items = [
        {"json": {"to": "+1", "text": "héllo ✓"}, "pairedItem": {"item": 0}},
        {"json": {}, "pairedItem": {"item": 1}, "error": {"message": "x", "code": "timeout"}},
    ]
    with OutputWriter(path) as writer:
        for item in items:
            writer.write_line(encode_line(item))
    text = path.read_text(encoding="utf-8")
    assert text.splitlines() == [
        '{"json":{"to":"+1","text":"héllo ✓"},"pairedItem":{"item":0}}',
        '{"json":{},"pairedItem":{"item":1},"error":{"message":"x","code":"timeout"}}',
    ]
    assert [json.loads(line) for line in text.splitlines()] == items


def test_writer_flushes_in_batches_and_on_close(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    writer = OutputWriter(path, flush_lines=3, flush_seconds=3600)
    writer.write_line(encode_line({"n": 1}))
    writer.write_line(encode_line({"n": 2}))
    assert path.read_text() == ""  # still buffered
    writer.write_line(encode_line({"n": 3}))
    assert len(path.read_text().splitlines()) == 3  # the batch is written
    writer.write_line(encode_line({"n": 4}))
    writer.close()
    assert len(path.read_text().splitlines()) == 4
    writer.close()  # harmless
    with pytest.raises(ValueError, match="closed"):
        writer.write_line(encode_line({"n": 5}))


def test_writer_flushes_after_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    with OutputWriter(path, flush_lines=1000, flush_seconds=0) as writer:
        writer.write_line(encode_line({"n": 1}))
        assert path.read_text() == '{"n":1}\n'


def test_writer_replaces_an_existing_file(tmp_path: Path) -> None:
    path = write(tmp_path, "out.jsonl", '{"n":0}\n')
    with OutputWriter(path) as writer:
        writer.write_line('{"n":2}')
    assert path.read_text().splitlines() == ['{"n":2}']


def test_writer_dash_is_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    with OutputWriter("-") as writer:
        writer.write_line('{"a":"é"}')
    assert capsys.readouterr().out == '{"a":"é"}\n'
    assert not sys.stdout.closed


def test_stdout_that_cannot_encode_the_output_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ascii_stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", ascii_stdout)
    writer = OutputWriter("-")
    writer.write_line('{"a":"é"}')
    with pytest.raises(ConfigurationError, match="encoding \\(ascii\\)") as caught:
        writer.close()
    assert "PYTHONIOENCODING=utf-8" in (caught.value.hint or "")


def test_writer_reports_unwritable_path(tmp_path: Path) -> None:
    blocker = write(tmp_path, "file", "")
    with pytest.raises(ConfigurationError, match="cannot write output file"):
        OutputWriter(blocker / "out.jsonl")


# --- values refused in JSON input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value_text", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested more than 100 levels deep"),
        ("[" * 101 + "]" * 101, "nested more than 100 levels deep"),
        ("9" * 5000, "more than 4300 digits"),
        ("NaN", "NaN is not a JSON value"),
        ("-Infinity", "-Infinity is not a JSON value"),
        ("1e999", "the number 1e999 is too large"),
        ('"\\udc00 alone"', "\\udc00, half of a surrogate pair"),
    ],
)
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_json_values_the_runtime_cannot_carry_are_refused_with_their_location(
    tmp_path: Path, fmt: str, value_text: str, reason: str
) -> None:
    element = '{"to": "+14155550100", "v": ' + value_text + "}"
    text = f'{{"to": "ok"}}\n{element}\n' if fmt == "jsonl" else f'[{{"to": "ok"}},\n{element}]'
    items = read_items(write(tmp_path, f"c.{fmt}", text))
    assert next(items).json == {"to": "ok"}
    with pytest.raises(ConfigurationError) as caught:
        next(items)
    where = "line 2" if fmt == "jsonl" else "line 2: element 1"
    assert f"c.{fmt} {where}" in str(caught.value)
    assert reason in str(caught.value)


def test_json_values_at_the_bounds_are_accepted(tmp_path: Path) -> None:
    deep: Any = "leaf"
    for _ in range(99):
        deep = [deep]
    line = json.dumps(
        {"to": "1", "deep": deep, "n": int("9" * 4300), "f": 1e308, "s": "\ud83d\ude00"}
    )
    [item] = list(read_items(write(tmp_path, "c.jsonl", line + "\n")))
    assert item.json["n"] == int("9" * 4300)
    assert item.json["s"] == "😀"  # a surrogate *pair* is one character


def test_encode_line_writes_non_finite_numbers_as_null_like_json_stringify() -> None:
    line = encode_line({"json": {"a": float("nan"), "b": [float("inf"), 1.5]}})
    assert json.loads(line) == {"json": {"a": None, "b": [None, 1.5]}}


# --- text that is not what its name says -----------------------------------------------------


def test_a_nul_byte_is_refused_as_a_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"to,text\n1,a\x00b\n")
    with pytest.raises(ConfigurationError, match=r"c\.csv line 2 holds a NUL byte"):
        list(read_items(path))


def test_a_line_over_the_bound_is_refused_before_it_is_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(item_io, "MAX_ITEM_CHARS", 100)
    ok = json.dumps({"to": "1"})
    for name, text in [
        ("c.jsonl", ok + "\n" + json.dumps({"to": "x" * 200}) + "\n"),
        ("c.csv", "to\n1\n" + "x" * 200 + "\n"),
    ]:
        items = read_items(write(tmp_path, name, text))
        next(items)
        line = 2 if name == "c.jsonl" else 3
        with pytest.raises(ConfigurationError, match=f"line {line} is longer than 100 characters"):
            next(items)
    element = json.dumps({"to": "x" * 200})
    with pytest.raises(ConfigurationError, match="element 1 is longer than 100 characters"):
        list(items_from_stream(io.StringIO(f"[{ok},{element}]"), "json", "c.json"))


def test_a_csv_header_that_is_json_names_the_mismatch(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", '{"to": "1"}\n')
    with pytest.raises(ConfigurationError, match="looks like JSON, not CSV"):
        list(read_items(path))


# --- open_input: everything knowable before the first send -----------------------------------


def test_open_input_counts_and_parses_the_first_item_up_front(tmp_path: Path) -> None:
    items, total = item_io.open_input(write(tmp_path, "c.csv", "to\r\n1\r\n2\r\n"))
    assert total == 2
    assert [item.json for item in items] == [{"to": "1"}, {"to": "2"}]
    empty, none = item_io.open_input(write(tmp_path, "e.csv", ""))
    assert (list(empty), none) == ([], 0)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("dup.csv", b"to,to\n1,2\n", "c.csv line 1: the header names column 'to' twice"),
        ("arr.json", b'{"to": "1"}', "must hold one JSON array"),
        ("bad.jsonl", b"{oops\n", "line 1: not valid JSON"),
        # The bad byte is on the last line: found by the up-front read, before any item.
        ("enc.csv", b"to\n1\n2\nJos\xe9\n", "line 4 is not UTF-8 text"),
        ("u16.csv", "to\n1\n".encode("utf-16"), "is UTF-16 text, not UTF-8"),
    ],
)
def test_open_input_finds_file_level_problems_before_returning(
    tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ConfigurationError, match=message.replace("c.csv", name)):
        item_io.open_input(path)


def test_open_input_reports_unusable_paths(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        item_io.open_input(tmp_path / "missing.csv")
    with pytest.raises(ConfigurationError, match="is a directory"):
        item_io.open_input(tmp_path, "csv")
    with pytest.raises(ConfigurationError, match="contains a NUL character"):
        item_io.open_input("a\0b.csv")
    with pytest.raises(ConfigurationError, match="cannot read input file"):
        item_io.open_input("x" * 5000 + ".csv")  # longer than a file name may be


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_is_read_once_not_consumed_by_counting(tmp_path: Path) -> None:
    fifo = tmp_path / "c.csv"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w", encoding="utf-8") as pipe:
            pipe.write("to\n1\n2\n")

    writer = threading.Thread(target=feed)
    writer.start()
    items, total = item_io.open_input(fifo)
    assert total is None
    assert [item.json for item in items] == [{"to": "1"}, {"to": "2"}]
    writer.join(timeout=5)


def test_stdin_bytes_are_decoded_strictly_as_utf8(monkeypatch: pytest.MonkeyPatch) -> None:
    # A C locale's stdin would turn the bad byte into a surrogate that fails much later.
    raw = io.TextIOWrapper(
        io.BytesIO(b'{"to": "Jos\xe9"}\n'), encoding="ascii", errors="surrogateescape"
    )
    monkeypatch.setattr(sys, "stdin", raw)
    with pytest.raises(ConfigurationError, match="stdin is not UTF-8 text"):
        item_io.open_input("-")
    good = io.TextIOWrapper(io.BytesIO('{"to": "José"}\n'.encode()), encoding="ascii")
    monkeypatch.setattr(sys, "stdin", good)
    items, total = item_io.open_input("-")
    assert (total, [item.json for item in items]) == (None, [{"to": "José"}])
