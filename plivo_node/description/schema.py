"""The project's JSON Schemas (draft 2020-12), and validation that reports every problem."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from plivo_node.paths import data_path
from plivo_node.redaction import redact


def schema_file_name(name: str) -> str:
    """``"pipeline"`` → ``"pipeline.schema.json"`` (a full file name is kept as it is)."""
    return name if name.endswith(".json") else f"{name}.schema.json"


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))


@cache
def _load_schema_cached(file_name: str) -> str:
    return data_path(f"schemas/{file_name}").read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """A schema by name: ``"manifest"``, ``"credential"``, ``"pipeline"``, ``"output_item"``.

    Returns a fresh dict on every call, so callers may modify it.
    """
    schema: dict[str, Any] = json.loads(_load_schema_cached(schema_file_name(name)))
    return schema


def format_path(parts: Iterable[str | int]) -> str:
    """A JSON path as people write it: ``properties[12].displayOptions.show.operation``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _sort_key(parts: Iterable[str | int]) -> tuple[tuple[int, int, str], ...]:
    # Indices sort numerically (properties[2] before properties[10]), names alphabetically.
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in parts)


_SECRET_WORDS = ("token", "password", "secret")
_MAX_SHOWN = 60
# Bounds on what one validation reports, whatever the document: each message's length (a
# value or key can be megabytes long) and how many problems are listed.
MAX_MESSAGE = 300
MAX_PROBLEMS = 100


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else f"{text[: _MAX_SHOWN - 5]}...{text[-1]}"


def _message(error: ValidationError) -> str:
    """jsonschema's message, shortened, with secrets left out and the unreadable forms reworded."""
    if error.validator == "not" and isinstance(error.validator_value, dict):
        forbidden = error.validator_value.get("required")
        if forbidden:
            names = ", ".join(repr(name) for name in forbidden)
            return f"{names} is not allowed here"
    if error.validator == "type" and not error.absolute_path and error.validator_value == "object":
        return f"the file must be a YAML mapping (key: value lines), but it holds {_kind(error)}"
    message = error.message
    shown = repr(error.instance)
    is_secret = any(
        isinstance(part, str) and any(word in part.lower() for word in _SECRET_WORDS)
        for part in error.absolute_path
    )
    if message.startswith(shown) and (is_secret or len(shown) > _MAX_SHOWN):
        message = ("the value" if is_secret else _short(error.instance)) + message[len(shown) :]
    if error.validator in ("anyOf", "oneOf"):
        return _alternatives(error)
    return message


def _kind(error: ValidationError) -> str:
    value = error.instance
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    return f"the single value {_short(value)}"


def _alternatives(error: ValidationError) -> str:
    """Why each accepted form refused the value: "matches no accepted form: a; b"."""
    reasons: list[str] = []
    for sub in error.context or []:
        where = format_path(sub.relative_path)
        reason = sub.message
        if not where and reason.startswith(repr(sub.instance)):
            reason = "the value" + reason[len(repr(sub.instance)) :]
        reasons.append(f"{where}: {reason}" if where else reason)
    return "matches no accepted form: " + "; ".join(dict.fromkeys(reasons))


def _bounded(text: str) -> str:
    # Masked before it is cut: a cut secret would no longer be recognised, and half would show.
    text = redact(text)
    if len(text) <= MAX_MESSAGE:
        return text
    return f"{text[: MAX_MESSAGE - 40]}... ({len(text):,} characters in all)"


def bounded_problems(problems: list[str]) -> list[str]:
    """At most :data:`MAX_PROBLEMS` problems, the rest counted in a last line."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    hidden = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS], f"... and {hidden:,} more problems"]


def validate_against_schema(data: Any, schema_name: str, source: str) -> list[str]:
    """Every way ``data`` breaks the named schema, as ``"<path>: <message>"`` lines.

    Problems about the document as a whole (its top level) are located as ``source``, e.g.
    ``"pipeline.yaml: 'steps' is a required property"``. The list is sorted by location, so
    the same document always gives the same lines; it is empty when ``data`` is valid.
    """
    errors = sorted(
        _validator(schema_file_name(schema_name)).iter_errors(data),
        key=lambda error: (_sort_key(error.absolute_path), error.message),
    )
    problems: dict[str, None] = {}  # ordered, without repeats
    for error in errors:
        location = _bounded(format_path(error.absolute_path) or source)
        problems[f"{location}: {_bounded(_message(error))}"] = None
    return bounded_problems(list(problems))
