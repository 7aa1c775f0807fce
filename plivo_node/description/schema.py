"""The project's JSON Schemas (draft 2020-12), and validation that reports every problem."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from plivo_node.core.paths import data_path
from plivo_node.core.redaction import redact

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError


def schema_file_name(name: str) -> str:
    """``"pipeline"`` → ``"pipeline.schema.json"`` (a full file name is kept as it is)."""
    return name if name.endswith(".json") else f"{name}.schema.json"


@cache
def _validator(name: str) -> Draft202012Validator:
    # Imported on first use: a command that validates nothing (or hits the description
    # cache) does not pay for jsonschema.
    from jsonschema import Draft202012Validator  # noqa: PLC0415

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
# Everything under these top-level keys may be a secret, whatever its shape: an
# "authId:authToken" string pasted as the whole credentials block, say.
_SECRET_SECTIONS = ("credentials",)
_MAX_SHOWN = 60
# Bounds on what one validation reports, whatever the document: each message's length (a
# value or key can be megabytes long) and how many problems are listed.
MAX_MESSAGE = 300
MAX_PROBLEMS = 100
# An Auth ID and a colon: the start of an "AuthID:AuthToken" pair, pasted wherever.
_CREDENTIAL_PAIR = re.compile(r"(?:MA|SA)[A-Z0-9]{18}:")


def _short(value: Any) -> str:
    text = redact(repr(value))  # masked before it is cut: no partial secret survives
    return text if len(text) <= _MAX_SHOWN else f"{text[: _MAX_SHOWN - 5]}...{text[-1]}"


def _is_secret_name(part: object) -> bool:
    return isinstance(part, str) and any(word in part.lower() for word in _SECRET_WORDS)


def _holds_secret(value: Any, depth: int = 0) -> bool:
    """Whether a value is an ``AuthID:token`` pair, or a mapping or list with a secret-named key
    (or such a pair) somewhere inside (bounded depth)."""
    if depth > 20:
        return True  # too deep to tell: treat as secret, it is not worth showing anyway
    if isinstance(value, str):
        return bool(_CREDENTIAL_PAIR.search(value))
    if isinstance(value, dict):
        return any(
            _is_secret_name(key) or _holds_secret(inner, depth + 1) for key, inner in value.items()
        )
    if isinstance(value, list):
        return any(_holds_secret(inner, depth + 1) for inner in value)
    return False


def _in_secret_place(error: ValidationError) -> bool:
    """Whether the value at fault sits where a secret may be: nothing of it is ever echoed."""
    path = list(error.absolute_path)
    return (bool(path) and path[0] in _SECRET_SECTIONS) or any(map(_is_secret_name, path))


def _message(error: ValidationError) -> str:
    """jsonschema's message, shortened, with secrets left out and the unreadable forms reworded."""
    if error.validator == "not" and isinstance(error.validator_value, dict):
        forbidden = error.validator_value.get("required")
        if forbidden:
            names = ", ".join(repr(name) for name in forbidden)
            return f"{names} is not allowed here"
    if error.validator == "type" and not error.absolute_path and error.validator_value == "object":
        return f"the file must be a YAML mapping (key: value lines), but it holds {_kind(error)}"
    is_secret = _in_secret_place(error)
    if error.validator in ("anyOf", "oneOf"):
        return _alternatives(error, is_secret=is_secret)
    if is_secret:
        return _secret_message(error)
    message = error.message
    shown = repr(error.instance)
    if message.startswith(shown) and _holds_secret(error.instance):
        return "the value" + message[len(shown) :]
    if message.startswith(shown) and len(shown) > _MAX_SHOWN:
        message = _short(error.instance) + message[len(shown) :]
    return message


def _kind(error: ValidationError) -> str:
    value = error.instance
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    return f"the single value {_short(value)}"


def _secret_message(error: ValidationError) -> str:
    """The problem without the value: no part of a secret-holding value is ever quoted."""
    shown = repr(error.instance)
    if error.message.startswith(shown):
        return "the value" + error.message[len(shown) :]
    if error.validator == "additionalProperties":
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = sorted(schema.get("properties") or {})
        return "unknown field" + (f" (the fields are {', '.join(allowed)})" if allowed else "")
    if error.validator == "required":
        return error.message  # names from the schema, not from the value
    return f"the value does not satisfy '{error.validator}' here"


def _alternatives(error: ValidationError, *, is_secret: bool) -> str:
    """Why each accepted form refused the value: "matches no accepted form: a; b"."""
    reasons: list[str] = []
    for sub in error.context or []:
        where = format_path(sub.relative_path)
        if is_secret or _holds_secret(sub.instance):
            reason = _secret_message(sub)
        else:
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


def validate_once(data: Any, schema_name: str, source: str) -> list[str]:
    """:func:`validate_against_schema`, skipped when this very document passed it before.

    The description cache remembers a document that had no problems (see
    :mod:`plivo_node.description.cache`): running or validating the same pipeline again then
    needs neither jsonschema nor the check. A document with problems is checked every time.
    """
    # Imported here: a bare schema check does not use the cache.
    from plivo_node.description import cache  # noqa: PLC0415

    key = cache.document_key(
        schema_name, data_path(f"schemas/{schema_file_name(schema_name)}"), data
    )
    if key is not None and cache.passed_before(source, key):
        return []
    problems = validate_against_schema(data, schema_name, source)
    if key is not None and not problems:
        cache.remember_passed(source, key)
    return problems
