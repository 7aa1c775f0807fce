"""Input items in, output items out, one at a time.

A batch may hold 100,000 contacts, so nothing here holds a whole file: readers are generators
that parse as they go (a ``.json`` array included, decoded element by element), and the writer
buffers a few hundred lines at most. Every problem with an input file is a
:class:`~plivo_node.core.errors.ConfigurationError` that names the file and the line or element.

Input formats, chosen by an explicit ``format`` or by the file's extension:

- ``csv``: a header row names the fields; each later row is one item whose values stay strings.
- ``jsonl`` (also ``.ndjson``): one JSON object per line; blank lines are skipped.
- ``json``: one JSON array of objects.

In the JSON formats an element is either a plain object (it becomes the item's ``json``) or an
n8n item ``{"json": {...}, "binary": {...}}``, which is what this tool writes; so one run's
output file can be the next run's input. As in n8n, one file may not mix the two shapes.
``-`` as the path reads stdin (JSONL unless a format is given).

Input is UTF-8 text (a byte-order mark is allowed); a CSV row has exactly as many fields as
the header; each line or element is at most :data:`MAX_ITEM_CHARS` long; JSON values are
checked by :mod:`plivo_node.run.json_input` (no NaN, no 100-level nesting, no lone surrogates).
:func:`open_input` checks what it can before the first item is used, so a run refuses a bad
file with nothing sent.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import stat
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TextIO

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.items import BinaryData, Item
from plivo_node.core.redaction import finds_secret, redact_json_text
from plivo_node.core.words import kind_of
from plivo_node.run import json_input

InputFormat = Literal["csv", "jsonl", "json"]

STDIO_PATH = "-"

# Names a user may give as ``format`` (or as an extension) and the reader each selects.
_FORMAT_NAMES: dict[str, InputFormat] = {
    "csv": "csv",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "json": "json",
}
_FORMAT_LIST = ", ".join(f".{name}" for name in _FORMAT_NAMES)

# utf-8-sig: spreadsheet programs often start CSV exports with a byte-order mark, which would
# otherwise become part of the first column's name.
_ENCODING = "utf-8-sig"

# Bytes of text the JSON array reader asks for at a time; the buffer grows past this only for
# an element that is bigger.
_JSON_CHUNK = 64 * 1024

# The longest CSV or JSONL line, or JSON array element, read (in characters): far above any
# contact row or n8n item with inline media, far below what would exhaust memory.
MAX_ITEM_CHARS = 32 * 1024 * 1024

# Byte-order marks of UTF-16 and UTF-32 (little- and big-endian), which spreadsheet programs
# write for "Unicode text".
_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")


def is_stdio(path: Path | str) -> bool:
    """Whether ``path`` is ``-``, i.e. stdin for input and stdout for output."""
    return str(path) == STDIO_PATH


def resolve_format(path: Path | str, format: str | None = None) -> InputFormat:
    """The reader for ``path``: the explicit ``format`` if given, else the file's extension."""
    if format is not None:
        name = format.lower().lstrip(".")
        if name not in _FORMAT_NAMES:
            raise ConfigurationError(
                f"unknown input format {format!r}",
                hint=f"use one of {', '.join(_FORMAT_NAMES)}",
            )
        return _FORMAT_NAMES[name]
    if is_stdio(path):
        return "jsonl"
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in _FORMAT_NAMES:
        shown = f"extension '.{suffix}'" if suffix else "no extension"
        raise ConfigurationError(
            f"cannot tell the format of input file {path}: it has {shown}",
            hint=f"use a file ending in {_FORMAT_LIST}, or name the format explicitly",
        )
    return _FORMAT_NAMES[suffix]


def open_input(path: Path | str, format: str | None = None) -> tuple[Iterator[Item], int | None]:
    """The items of an input, and how many there are if that can be known, after every check
    that can be made before the first item is used (so a run can stop with nothing sent):

    - the path exists, is not a directory, and can be read;
    - a regular file is read through once: it must be UTF-8 text (not UTF-16), with no NUL
      byte and no CSV or JSONL line over :data:`MAX_ITEM_CHARS`; CSV records and JSONL lines
      are counted on the way, for the progress total;
    - the first item is parsed: the CSV header, a JSON file's opening ``[``, the first row.

    A malformed row further on is reported when the reader reaches it. Stdin and named pipes
    can be read only once, so they get only the first-item check and no count.
    """
    kind = resolve_format(path, format)
    regular = _check_path(path)
    total = _scan(Path(path), kind) if regular else None
    items = _iterate_file(path, kind)
    first = next(items, None)
    if first is None:
        return iter(()), total
    return itertools.chain((first,), items), total


def read_items(path: Path | str, format: str | None = None) -> Iterator[Item]:
    """The items of an input file, parsed lazily as they are consumed.

    The format and the path are checked now, so a wrong path fails before the run starts;
    the file itself is opened on the first ``next()`` and closed when the iterator is
    exhausted or closed. :func:`open_input` checks more up front.
    """
    kind = resolve_format(path, format)
    _check_path(path)
    return _iterate_file(path, kind)


def items_from_stream(stream: TextIO, format: str, source: str = "input") -> Iterator[Item]:
    """The items of an already open text stream; ``source`` names it in error messages."""
    kind = resolve_format(source, format)
    if kind == "csv":
        return _read_csv(stream, source)
    if kind == "jsonl":
        return _read_jsonl(stream, source)
    return _read_json_array(stream, source)


# --- up-front checks -------------------------------------------------------------------------


def _check_path(path: Path | str) -> bool:
    """Whether ``path`` is a regular file; an error if it is missing, a directory or unusable."""
    if is_stdio(path):
        return False
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise ConfigurationError(
            f"input file {path} does not exist", hint="check --input or the pipeline's input"
        ) from None
    except ValueError:  # an embedded NUL character
        raise ConfigurationError(
            f"input path {str(path)!r} contains a NUL character",
            hint="check --input or the pipeline's input",
        ) from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read input file {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise ConfigurationError(
            f"input path {path} is a directory, not a file", hint="name a file in it"
        )
    return stat.S_ISREG(mode)  # a named pipe or /dev/stdin is fine, but can be read only once


def _scan(path: Path, kind: InputFormat) -> int | None:
    """Read a regular file through once: its encoding and lines checked, its items counted."""
    try:
        with path.open("rb") as raw:
            head = raw.read(4)
        if head.startswith(_UTF16_MARKS):
            raise ConfigurationError(
                f"{path} is UTF-16 text, not UTF-8",
                hint="save the file as UTF-8; in a spreadsheet program, choose 'CSV UTF-8'",
            )
        with _open_text(path) as stream:
            if kind == "json":
                while stream.read(_JSON_CHUNK):
                    pass  # decoding is the check; elements are counted only when read
                return None
            lines = _lines(stream, str(path))
            if kind == "csv":
                records = sum(1 for row in csv.reader(lines) if row)
                return max(records - 1, 0)  # the header row is not an item
            return sum(1 for line in lines if line.strip())
    except UnicodeDecodeError as exc:
        raise _not_utf8(str(path), exc, _first_undecodable_line(path)) from None
    except csv.Error:
        return None  # the reader reports it, with its line, when it gets there
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _not_utf8(source: str, exc: UnicodeDecodeError, line: int | None) -> ConfigurationError:
    where = f"{source} line {line}" if line is not None else source
    return ConfigurationError(
        f"{where} is not UTF-8 text ({exc.reason})",
        hint="save the file as UTF-8; in a spreadsheet program, choose 'CSV UTF-8'",
    )


def _first_undecodable_line(path: Path) -> int | None:
    with path.open("rb") as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def _lines(stream: TextIO, source: str) -> Iterator[str]:
    """The lines of a CSV or JSONL stream, each bounded in length and free of NUL bytes."""
    readline = stream.readline
    number = 0
    while line := readline(MAX_ITEM_CHARS + 1):
        number += 1
        if len(line) > MAX_ITEM_CHARS:
            raise ConfigurationError(
                f"{source} line {number} is longer than {MAX_ITEM_CHARS:,} characters",
                hint="one item per line; is this file in the format its name says?",
            )
        if "\0" in line:
            raise ConfigurationError(
                f"{source} line {number} holds a NUL byte: this looks like a binary file, not text",
                hint="give a CSV, JSON Lines or JSON file saved as UTF-8 text",
            )
        yield line


# --- readers ---------------------------------------------------------------------------------


def _open_text(path: Path) -> TextIO:
    # newline="" lets the csv module see the line endings inside quoted fields.
    return path.open(encoding=_ENCODING, newline="")


def _stdin_items(kind: InputFormat) -> Iterator[Item]:
    # sys.stdin decodes with the locale's encoding and, under a C locale, smuggles invalid
    # bytes through as surrogates; input is UTF-8, checked strictly, like a file.
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # already text (a test's StringIO)
        yield from items_from_stream(sys.stdin, kind, "stdin")
        return
    stream = io.TextIOWrapper(buffer, encoding=_ENCODING, newline="")
    try:
        yield from items_from_stream(stream, kind, "stdin")
    finally:
        stream.detach()  # leave sys.stdin's buffer open for whoever owns it


def _iterate_file(path: Path | str, kind: InputFormat) -> Iterator[Item]:
    source = "stdin" if is_stdio(path) else str(path)
    try:
        if is_stdio(path):
            yield from _stdin_items(kind)
            return
        with _open_text(Path(path)) as stream:
            yield from items_from_stream(stream, kind, source)
    except UnicodeDecodeError as exc:
        raise _not_utf8(source, exc, None) from exc
    except OSError as exc:
        raise ConfigurationError(f"cannot read {source}: {exc.strerror or exc}") from exc


def _read_csv(stream: TextIO, source: str) -> Iterator[Item]:
    # csv.reader rather than DictReader: a row with too few or too many fields must be an
    # error naming its line, not a dict with a missing or odd extra key.
    reader = csv.reader(_lines(stream, source))
    try:
        header = next(reader, None)
        if not header:
            return
        _check_csv_header(header, source)
        width = len(header)
        for row in reader:
            if not row:
                continue  # a blank line, as DictReader skips them
            if len(row) != width:
                raise ConfigurationError(
                    f"{source} line {reader.line_num}: the row has {_fields(len(row))} but "
                    f"the header has {_fields(width)}",
                    hint="give every row one value per column, an empty value being nothing "
                    "between two commas, and quote values that contain commas",
                )
            yield Item(json=dict(zip(header, row, strict=True)))
    except csv.Error as exc:
        raise ConfigurationError(f"{source} line {reader.line_num}: {exc}") from exc


def _fields(count: int) -> str:
    return f"{count} field" if count == 1 else f"{count} fields"


def _check_csv_header(header: list[str], source: str) -> None:
    if header[0].lstrip().startswith(("{", "[")):
        raise ConfigurationError(
            f"{source} line 1: the CSV header starts with {header[0].lstrip()[0]!r}: this "
            "looks like JSON, not CSV",
            hint="name the file .jsonl or .json, or pass the matching --input-format",
        )
    seen: set[str] = set()
    for column, name in enumerate(header, start=1):
        if not name.strip():
            raise ConfigurationError(
                f"{source} line 1: header column {column} has no name",
                hint="name every column, or remove the trailing comma from the header row",
            )
        if name in seen:
            raise ConfigurationError(
                f"{source} line 1: the header names column {name!r} twice",
                hint="give every column a different name",
            )
        seen.add(name)


def _read_jsonl(stream: TextIO, source: str) -> Iterator[Item]:
    shape = _ItemShape(source)
    for line_number, line in enumerate(_lines(stream, source), start=1):
        if not line.strip():
            continue
        where = f"line {line_number}"
        try:
            value = json_input.decode(line)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(
                f"{source} {where}: not valid JSON: {exc.msg} (column {exc.colno})",
                hint="each line must hold one complete JSON object",
            ) from exc
        except json_input.JsonValueError as exc:
            raise ConfigurationError(f"{source} {where}: {exc}") from exc
        yield shape.item(value, where)


def _read_json_array(stream: TextIO, source: str) -> Iterator[Item]:
    shape = _ItemShape(source)
    for position, value in _JsonArrayScanner(stream, source):
        yield shape.item(value, f"element {position}")


class _ItemShape:
    """Turns decoded JSON values into items, holding a file to one shape (plain or n8n)."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._first: tuple[bool, str] | None = None  # (is an n8n item, where it was)

    def item(self, value: Any, where: str) -> Item:
        if not isinstance(value, dict):
            raise ConfigurationError(
                f"{self._source} {where}: expected a JSON object, found {kind_of(value)}",
                hint='every item must be an object such as {"to": "+14155550100"}',
            )
        is_n8n = "json" in value
        if self._first is None:
            self._first = (is_n8n, where)
        elif self._first[0] != is_n8n:
            first_kind = "an n8n item" if self._first[0] else "a plain object"
            this_kind = "an n8n item" if is_n8n else "a plain object"
            raise ConfigurationError(
                f"{self._source} {where}: inconsistent item format: this is {this_kind} but "
                f"{self._first[1]} is {first_kind}",
                hint='use plain objects throughout, or {"json": {...}} items throughout',
            )
        if not is_n8n:
            return Item(json=value)
        return self._n8n_item(value, where)

    def _n8n_item(self, value: dict[str, Any], where: str) -> Item:
        data = value["json"]
        if not isinstance(data, dict):
            raise ConfigurationError(
                f"{self._source} {where}: the item's 'json' must be an object, "
                f"found {kind_of(data)}"
            )
        raw_binary = value.get("binary") or {}
        if not isinstance(raw_binary, dict):
            raise ConfigurationError(
                f"{self._source} {where}: the item's 'binary' must be an object of named "
                f"entries, found {kind_of(raw_binary)}"
            )
        binary: dict[str, BinaryData] = {}
        for name, entry in raw_binary.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("data"), str):
                raise ConfigurationError(
                    f"{self._source} {where}: binary entry {name!r} must be an object with "
                    "base64 'data' and a 'mimeType'"
                )
            # Later steps use these as text (an upload's file name, its content type).
            for field in ("mimeType", "fileName"):
                text = entry.get(field)
                if text is not None and not isinstance(text, str):
                    raise ConfigurationError(
                        f"{self._source} {where}: binary entry {name!r} has a {field} that is "
                        f"{kind_of(text)}; it must be a string or left out"
                    )
            binary[name] = BinaryData.from_json(entry)
        return Item(json=data, binary=binary)


class _JsonArrayScanner:
    """Yields ``(position, value)`` for each element of a JSON array, reading chunk by chunk.

    ``json_input.raw_decode`` decodes (and checks) one element from a text buffer; when the buffer
    ends inside an element it is refilled (at least doubling what is held, so a huge element
    is re-scanned a bounded number of times) and the element is decoded again. Consumed text
    is dropped from the buffer so memory stays at about one chunk plus the largest element.
    """

    _WHITESPACE = " \t\r\n"

    def __init__(self, stream: TextIO, source: str) -> None:
        self._stream = stream
        self._source = source
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._lines_dropped = 0  # newlines in the text already dropped from the buffer

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        first = self._peek()
        if first == "":
            return  # an empty file holds no items
        if first != "[":
            raise ConfigurationError(
                f"{self._source} line {self._line()}: a .json input must hold one JSON array "
                f"of objects, but it starts with {first!r}",
                hint="wrap the objects in [ ... ], or write one object per line in a .jsonl file",
            )
        self._pos += 1
        if self._peek() == "]":
            self._pos += 1
        else:
            yield from self._elements()
        trailing = self._peek()
        if trailing != "":
            raise ConfigurationError(
                f"{self._source} line {self._line()}: unexpected {trailing!r} after the end "
                "of the array"
            )

    def _elements(self) -> Iterator[tuple[int, Any]]:
        position = 0
        while True:
            if self._peek() in ("]", ""):
                raise ConfigurationError(
                    f"{self._source} line {self._line()}: element {position} is missing "
                    "(a trailing comma, or the file ends inside the array)"
                )
            yield position, self._decode(position)
            position += 1
            separator = self._peek()
            self._pos += 1
            if separator == "]":
                return
            if separator == "":
                raise ConfigurationError(
                    f"{self._source} line {self._line(self._pos - 1)}: the file ends after "
                    f"element {position - 1} without closing the array (missing ']')"
                )
            if separator != ",":
                raise ConfigurationError(
                    f"{self._source} line {self._line(self._pos - 1)}: expected ',' or ']' "
                    f"after element {position - 1}, found {separator!r}"
                )

    def _decode(self, position: int) -> Any:
        while True:
            try:
                value, end = json_input.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                if self._fill(position):
                    continue
                raise ConfigurationError(
                    f"{self._source} line {self._line(exc.pos)}: element {position} is not "
                    f"valid JSON: {exc.msg}"
                ) from exc
            except json_input.JsonValueError as exc:
                raise ConfigurationError(
                    f"{self._source} line {self._line()}: element {position}: {exc}"
                ) from exc
            # A number or literal that touches the end of the buffer may go on in the next
            # chunk ("12" of "1234"); objects, arrays and strings end with a closing mark.
            touches_end = end == len(self._buffer)
            if touches_end and not isinstance(value, dict | list | str) and self._fill(position):
                continue
            if end - self._pos > MAX_ITEM_CHARS:
                raise self._too_long(position)
            self._pos = end
            return value

    def _too_long(self, position: int) -> ConfigurationError:
        return ConfigurationError(
            f"{self._source} line {self._line()}: element {position} is longer than "
            f"{MAX_ITEM_CHARS:,} characters"
        )

    def _peek(self) -> str:
        """The next non-whitespace character (consuming the whitespace), or "" at the end."""
        while True:
            buffer = self._buffer
            length = len(buffer)
            pos = self._pos
            while pos < length and buffer[pos] in self._WHITESPACE:
                pos += 1
            self._pos = pos
            if pos < length:
                return buffer[pos]
            if not self._fill():
                return ""

    def _fill(self, position: int | None = None) -> bool:
        """Drop consumed text and read more; False at the end of the stream.

        ``position`` is the element being decoded, which may not grow past the bound.
        """
        if self._eof:
            return False
        if position is not None and len(self._buffer) - self._pos > MAX_ITEM_CHARS:
            raise self._too_long(position)
        # Read before dropping: at the end nothing moves, so offsets of the text held (as in
        # a decode error being reported) stay valid.
        chunk = self._stream.read(max(_JSON_CHUNK, len(self._buffer) - self._pos))
        if not chunk:
            self._eof = True
            return False
        if self._pos:
            self._lines_dropped += self._buffer.count("\n", 0, self._pos)
            self._buffer = self._buffer[self._pos :]
            self._pos = 0
        self._buffer += chunk
        return True

    def _line(self, offset: int | None = None) -> int:
        at = self._pos if offset is None else offset
        return self._lines_dropped + self._buffer.count("\n", 0, at) + 1


# --- writer ----------------------------------------------------------------------------------

# Built once: json.dumps builds a new encoder on every call that passes options.
# allow_nan=False: Python would write NaN and Infinity, which are not JSON.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_line(item: Mapping[str, Any]) -> str:
    """An item as one compact line of JSON, as the output file and the journal store it.

    Input files cannot hold NaN or Infinity (the readers refuse them), but an API answer or
    a computed value can: those become ``null``, as JavaScript's ``JSON.stringify`` (and so
    n8n) writes them, so that every line stays valid JSON.
    """
    try:
        return _ENCODER.encode(item)
    except ValueError:
        return _ENCODER.encode(_finite(item))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {key: _finite(child) for key, child in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(child) for child in value]
    return value


class OutputWriter:
    """Writes output items to a new JSONL file (or stdout for ``-``), one compact line each.

    Lines are buffered and written every ``flush_lines`` lines or ``flush_seconds`` seconds,
    whichever comes first, and on :meth:`flush` and :meth:`close`, so a long run's file
    grows steadily and a reader tailing it sees progress.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        flush_lines: int = 256,
        flush_seconds: float = 0.5,
        append: bool = False,
    ) -> None:
        """``append``: add to the file instead of replacing it (``serve``'s output grows with
        every event, across restarts)."""
        self.path = path
        self._flush_lines = flush_lines
        self._flush_seconds = flush_seconds
        self._pending: list[str] = []
        self._last_flush = time.monotonic()
        self._closed = False
        self._owns_stream = not is_stdio(path)
        self._stream: TextIO
        if not self._owns_stream:
            self._stream = sys.stdout
            return
        file_path = Path(path)
        try:
            file_path.parent.mkdir(parents=True, exist_ok=True)
            if append:
                self._stream = file_path.open("a", encoding="utf-8", newline="\n")
            else:
                self._stream = file_path.open("w", encoding="utf-8", newline="\n")
        except OSError as exc:
            raise ConfigurationError(
                f"cannot write output file {path}: {exc.strerror or exc}",
                hint="check the --output path and its directory's permissions",
            ) from exc

    def write_line(self, line: str) -> None:
        """Add one output item already encoded as one line of JSON (see :func:`encode_line`)."""
        if self._closed:
            raise ValueError("OutputWriter is closed")
        self._pending.append(line)
        if (
            len(self._pending) >= self._flush_lines
            or time.monotonic() - self._last_flush >= self._flush_seconds
        ):
            self.flush()

    def flush(self) -> None:
        """Write the buffered lines to the file now."""
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        text = "\n".join(self._pending) + "\n"
        if finds_secret(text):
            # The last guard: items are built without secrets; any that slipped in is masked.
            text = "\n".join(redact_json_text(line) for line in self._pending) + "\n"
        self._pending.clear()
        try:
            self._stream.write(text)
            self._stream.flush()
        except OSError as exc:
            raise ConfigurationError(
                f"cannot write output file {self.path}: {exc.strerror or exc}"
            ) from exc
        except UnicodeEncodeError as exc:
            # Only stdout can have an encoding other than UTF-8 (a Windows console, a
            # PYTHONIOENCODING setting); output files are always opened as UTF-8.
            raise ConfigurationError(
                f"cannot write the output to stdout: its encoding ({exc.encoding}) cannot "
                f"represent {exc.object[exc.start : exc.end]!r}",
                hint="set PYTHONIOENCODING=utf-8, or write to a file with --output",
            ) from exc

    def close(self) -> None:
        """Flush, then close the file (stdout stays open). Closing twice is harmless."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            if self._owns_stream:
                self._stream.close()

    def __enter__(self) -> OutputWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


__all__ = [
    "MAX_ITEM_CHARS",
    "InputFormat",
    "OutputWriter",
    "is_stdio",
    "items_from_stream",
    "open_input",
    "read_items",
    "resolve_format",
]
