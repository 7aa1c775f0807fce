"""``plivo-node suppression list | add | remove | import``: the list of numbers not to message.

The list itself (and the rules that fill it from STOP messages and opt-out statuses) belongs to
the node that sends messages; this command only manages it by hand. Numbers are checked and
normalised to E.164 the way sends check them, so ``+1 (415) 555-0101`` and ``14155550101`` are
one entry.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plivo_node.core.errors import ConfigurationError, ParameterError, ProblemListError
from plivo_node.core.text_files import read_text_file

if TYPE_CHECKING:
    from plivo_node.nodes.plivo.suppression import Entry, SuppressionList

EXIT_OK = 0
NUMBER_COLUMN = "number"
REASON_COLUMN = "reason"
# How many invalid rows an import lists one by one before it only counts them.
SHOWN_INVALID = 20


class SuppressionFileError(ProblemListError):
    """A file given to ``suppression import`` cannot be read as numbers."""

    code = "invalid_suppression_file"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "suppression", help="list or change the numbers that are never messaged (opted out)"
    )
    commands = parser.add_subparsers(dest="suppression_command", required=True)
    listing = commands.add_parser("list", help="print every suppressed number")
    listing.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    add = commands.add_parser("add", help="suppress a number")
    add.add_argument("number", help="the number, with country code, like +14155550101")
    add.add_argument("--reason", default="added by hand", help="why (shown by list)")
    remove = commands.add_parser("remove", help="lift a number's suppression (it opted back in)")
    remove.add_argument("number")
    load = commands.add_parser(
        "import", help="suppress every number of a file: CSV with a 'number' column, or one a line"
    )
    load.add_argument("file", type=Path)
    load.add_argument("--reason", default="imported", help="why, where the file has no reason")


def run(args: argparse.Namespace) -> int:
    # The list's module brings phonenumbers: imported when the command runs, not for --help.
    from plivo_node.nodes.plivo.suppression import opened  # noqa: PLC0415

    with opened() as suppression:
        if args.suppression_command == "list":
            _print_entries(suppression.entries(), as_csv=args.csv)
        elif args.suppression_command == "add":
            _add(suppression, _argument_number(args.number), args.reason)
        elif args.suppression_command == "remove":
            number = _argument_number(args.number)
            if suppression.remove(number):
                print(f"+{number} removed: it will be messaged again")
            else:
                print(f"+{number} was not on the suppression list")
        else:
            report = import_file(suppression, args.file, default_reason=args.reason)
            for line in report.lines():
                print(line)
    return EXIT_OK


def _number(raw: str) -> str:
    from plivo_node.nodes.plivo.validation.phone import normalize_number  # noqa: PLC0415

    return normalize_number(raw, parameter="number")


def _argument_number(raw: str) -> str:
    """A number given on the command line; a bad one is a usage error (exit 2)."""
    try:
        return _number(raw)
    except ParameterError as error:
        raise ConfigurationError(error.message, hint=error.hint) from None


def _add(suppression: SuppressionList, number: str, reason: str) -> None:
    from plivo_node.nodes.plivo.suppression import Source  # noqa: PLC0415

    if suppression.add(number, reason=reason, source=Source.MANUAL) is None:
        existing = suppression.get(number)
        print(f"already on the list: {existing.describe() if existing else '+' + number}")
    else:
        print(f"+{number} added: sends to it are skipped")


def _print_entries(entries: list[Entry], *, as_csv: bool) -> None:
    rows = [("+" + e.number, e.reason, e.source, e.since, e.via or "") for e in entries]
    header = ("number", "reason", "source", "since", "via")
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return
    if not rows:
        print("the suppression list is empty")
        return
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        cells = (str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    print(f"{len(rows)} numbers")


@dataclass
class ImportReport:
    added: int = 0
    already: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (row, why)

    def lines(self) -> list[str]:
        lines = [
            f"added {self.added}, already suppressed {self.already}, invalid {len(self.invalid)}"
        ]
        lines.extend(f"  row {row}: {why}" for row, why in self.invalid[:SHOWN_INVALID])
        if len(self.invalid) > SHOWN_INVALID:
            lines.append(f"  ... and {len(self.invalid) - SHOWN_INVALID} more invalid rows")
        return lines


def import_file(suppression: SuppressionList, path: Path, *, default_reason: str) -> ImportReport:
    """Suppress every number of ``path``; rows are numbered as lines of the file (from 1)."""
    from plivo_node.nodes.plivo.suppression import Source  # noqa: PLC0415

    report = ImportReport()
    text = read_text_file(path, SuppressionFileError, encoding="utf-8-sig")
    with suppression.connection:  # one transaction: a large file imports at once
        suppression.connection.execute("BEGIN")
        for row, raw, reason in _rows(text, str(path)):
            try:
                number = _number(raw)
            except ParameterError as error:
                report.invalid.append((row, error.message))
                continue
            added = suppression.add(number, reason=reason or default_reason, source=Source.IMPORT)
            if added is None:
                report.already += 1
            else:
                report.added += 1
    return report


def _rows(text: str, source: str) -> Iterator[tuple[int, str, str]]:
    """(row, number, reason) of a CSV with a ``number`` column, or of one number a line."""
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    header = [cell.strip().lower() for cell in next(csv.reader([first]), [])]
    if NUMBER_COLUMN in header:
        yield from _csv_rows(text, header, source)
        return
    if len(header) > 1:
        raise SuppressionFileError(
            source,
            [
                (
                    f"the first row has {len(header)} columns but none is named "
                    f"'{NUMBER_COLUMN}'; name the column of phone numbers 'number', or give "
                    "one number a line"
                )
            ],
        )
    for row, line in enumerate(lines, start=1):
        if line.strip():
            yield row, line.strip(), ""


def _csv_rows(text: str, header: list[str], source: str) -> Iterator[tuple[int, str, str]]:
    number_at = header.index(NUMBER_COLUMN)
    reason_at = header.index(REASON_COLUMN) if REASON_COLUMN in header else None
    reader = csv.reader(io.StringIO(text))
    seen_header = False
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if not seen_header:
                seen_header = True
                continue
            row = reader.line_num
            if len(cells) <= number_at:
                yield row, "", ""
                continue
            reason = (
                cells[reason_at].strip() if reason_at is not None and reason_at < len(cells) else ""
            )
            yield row, cells[number_at], reason
    except csv.Error as error:
        raise SuppressionFileError(source, [f"line {reader.line_num}: {error}"]) from None
