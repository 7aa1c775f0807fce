"""A run's delivery report: which message each output item sent, and where each one stands.

A run's output file (JSON Lines, one n8n item a line) holds each send's output item: its
``message_uuid`` list, ``to`` and ``pairedItem`` (the index of the input item that asked).
It does not hold the input row itself, so the report joins the row from the run's input file
when given one. A bulk send (``to`` joined with ``<``) carried several UUIDs: Plivo lists them
in the order of the unique valid destinations, so they are paired with those when the counts
match. Items that failed before sending (``error`` and no UUID) are listed as not sent.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plivo_node.core.errors import ConfigurationError
from plivo_node.nodes.plivo.delivery.store import FINAL_STATES, MessageStatus
from plivo_node.nodes.plivo.error_codes import DELIVERED, error_meaning
from plivo_node.run import json_input

NOT_SENT = "not sent"
UNKNOWN = "unknown"  # no callback recorded and no API answer (yet)


@dataclass(frozen=True)
class SentMessage:
    """One destination of one output item."""

    item: int | None  # the input item's index (pairedItem), when the output says
    destination: str
    message_uuid: str | None  # None: the item failed before anything was sent
    send_error: str | None = None


@dataclass
class ReportRow:
    sent: SentMessage
    input_row: Mapping[str, Any] = field(default_factory=dict)
    status: MessageStatus | None = None

    @property
    def state(self) -> str:
        if self.sent.message_uuid is None:
            return NOT_SENT
        return self.status.status if self.status is not None else UNKNOWN

    @property
    def error_code(self) -> str | None:
        code = self.status.error_code if self.status is not None else None
        return None if code == DELIVERED else code

    @property
    def error(self) -> str:
        """Why the message was not delivered: the error code and its meaning, or the send's."""
        if self.sent.send_error:
            return self.sent.send_error
        if self.error_code is None:
            return ""
        return f"{self.error_code}: {error_meaning(self.error_code)}"

    @property
    def final(self) -> bool:
        return self.state == NOT_SENT or self.state in FINAL_STATES


def _paired_index(line: Mapping[str, Any]) -> int | None:
    paired = line.get("pairedItem")
    if isinstance(paired, list) and paired:
        paired = paired[0]
    if isinstance(paired, Mapping) and isinstance(paired.get("item"), int):
        return int(paired["item"])
    return None


def _messages_of(data: Mapping[str, Any], item: int | None) -> list[SentMessage]:
    uuids = data.get("message_uuid")
    uuid_list = [str(u) for u in uuids] if isinstance(uuids, list) else []
    if isinstance(uuids, str) and uuids:
        uuid_list = [uuids]
    to = str(data.get("to") or "")
    if not uuid_list:
        error = data.get("error")
        if error is None:
            return []  # not a send's output (another step's item): nothing to report
        text = error.get("message") if isinstance(error, Mapping) else error
        return [SentMessage(item, to, None, str(text))]
    invalid = {str(n) for n in data.get("invalid_number") or []}
    destinations = [d for d in dict.fromkeys(to.split("<")) if d and d not in invalid]
    if len(destinations) != len(uuid_list):
        destinations = [to] * len(uuid_list)
    return [
        SentMessage(item, dest, uuid) for dest, uuid in zip(destinations, uuid_list, strict=True)
    ]


def read_sent_messages(path: Path) -> list[SentMessage]:
    """Every message a run's output file records, in file order."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigurationError(
            f"cannot read the run output {path}: {reason}",
            hint="pass the JSON Lines file a `plivo-node run --output` wrote",
        ) from exc
    sent: list[SentMessage] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json_input.decode(line)
        except ValueError as exc:
            raise ConfigurationError(
                f"{path} line {number} is not JSON ({exc})",
                hint="pass the JSON Lines file a `plivo-node run --output` wrote",
            ) from exc
        if not isinstance(value, Mapping):
            raise ConfigurationError(
                f"{path} line {number} is not a JSON object",
                hint="pass the JSON Lines file a `plivo-node run --output` wrote",
            )
        inner = value.get("json")
        data: Mapping[str, Any] = inner if isinstance(inner, Mapping) else value
        sent.extend(_messages_of(data, _paired_index(value)))
    return sent


def build_rows(
    sent: Sequence[SentMessage],
    statuses: Mapping[str, MessageStatus],
    input_rows: Sequence[Mapping[str, Any]] | None,
) -> list[ReportRow]:
    rows = []
    for message in sent:
        row = ReportRow(message, status=statuses.get(message.message_uuid or ""))
        if input_rows is not None and message.item is not None and message.item < len(input_rows):
            row.input_row = input_rows[message.item]
        rows.append(row)
    return rows


def state_counts(rows: Iterable[ReportRow]) -> Counter[str]:
    return Counter(row.state for row in rows)


def error_counts(rows: Iterable[ReportRow]) -> Counter[str]:
    return Counter(row.error_code for row in rows if row.error_code is not None)


def _input_columns(rows: Sequence[ReportRow]) -> list[str]:
    return list(dict.fromkeys(key for row in rows for key in row.input_row))


TABLE_COLUMNS = ("item", "destination", "message_uuid", "state", "error")


def table(rows: Sequence[ReportRow]) -> tuple[list[str], list[list[str]]]:
    """The per-item table: the input row's fields, then the delivery columns."""
    inputs = _input_columns(rows)
    header = [*inputs, *TABLE_COLUMNS]
    body = []
    for row in rows:
        delivery = [
            "" if row.sent.item is None else str(row.sent.item),
            row.sent.destination,
            row.sent.message_uuid or "",
            row.state,
            row.error,
        ]
        body.append([_cell(row.input_row.get(key)) for key in inputs] + delivery)
    return header, body


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def format_report(rows: Sequence[ReportRow]) -> str:
    """The report as text: counts by state, by error code (with meanings), then the table."""
    lines = [f"{len(rows)} message(s)"]
    lines.append("By state:")
    for state, count in sorted(state_counts(rows).items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {state:<12} {count}")
    errors = error_counts(rows)
    if errors:
        lines.append("By error code:")
        for code, count in sorted(errors.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {code:<5} {count}  {error_meaning(code)}")
    header, body = table(rows)
    widths = [max(len(cell) for cell in column) for column in zip(header, *body, strict=True)]
    lines.append("")
    lines.extend(
        "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
        for cells in (header, *body)
    )
    return "\n".join(lines)


def write_csv(rows: Sequence[ReportRow], path: Path) -> None:
    header, body = table(rows)
    try:
        with path.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(header)
            writer.writerows(body)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write the CSV report {path}: {exc.strerror or exc}",
            hint="pass --csv a path in a writable directory",
        ) from exc
