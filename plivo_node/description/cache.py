"""A cache of validation results, so a command does not parse and check the same files every time.

Loading a node description means parsing its YAML, validating it against its JSON Schema and
running the semantic checks: most of a short command's time. What comes out depends only on
the file, its schema, the code that checks and models it, and this package's version, so the
result is kept (as JSON of the built model) under the SHA-256 of all of them. A changed
byte anywhere is a new key: the file is loaded and checked again, and its entry rewritten.

The cache lives in the user's cache directory: ``$PLIVO_NODE_CACHE_DIR``, else
``$XDG_CACHE_HOME/plivo-node``, else ``~/.cache/plivo-node``. It is never a reason for a
command to fail: an entry that is missing, unreadable, corrupt, or written by another version
is a miss, and a directory that cannot be written (a read-only home) just means no cache.
Entries are written to a temporary file and renamed into place, so a reader sees a whole entry
or none, and two processes writing the same entry at once both succeed (the last rename wins,
and both wrote the same bytes).

An entry is one line holding its key, then the model's JSON. It is built into the model on the
way back in, which checks every key and type against the model's annotations (no pickle:
nothing in the file is executed), and written only if it reads back equal to what was loaded,
so a hit gives exactly what a full load would.

The same store remembers that a document passed a schema (a pipeline, whose schema check
needs jsonschema): an entry with an empty body, keyed by the document's exact value (its
``repr``, which tells ``1`` from ``"1"`` and ``True``), the schema and the checking code. Only
success is remembered: a document with problems is checked, and its problems reported, every
time. A YAML file's parsed data is kept too (:func:`read_parsed`), as JSON under the key of its
exact text and the parser's code, so a pipeline read again needs no YAML parser: only data
that JSON gives back exactly is kept (YAML's integer keys, for one, would come back as text),
and only when the caller found no secret in it (see :mod:`.yaml_cache`).

Checks of many small documents under one name (a node's constant parameter values, one
set per step) keep the keys of the last :data:`RECENT_VERDICTS` that passed in one entry per
name (:func:`passed_recently`), so the cache stays bounded however often parameters change.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from plivo_node import __version__

if TYPE_CHECKING:
    from plivo_node.description.models import CredentialType, NodeDescription

CACHE_DIR_VARIABLE = "PLIVO_NODE_CACHE_DIR"
# Bumped when the entry layout changes; part of every key.
ENTRY_FORMAT = "1"
# How many passing documents one name remembers (see passed_recently).
RECENT_VERDICTS = 64
_RECENT_LIST = "recent"  # the key line of such an entry; its body lists the keys

ModelT = TypeVar("ModelT", "NodeDescription", "CredentialType")

# The code whose behaviour an entry depends on: this package's loader, schema checks, semantic
# checks and models. Hashing their source keeps an edited checkout from reusing stale entries.
_CODE_DIR = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    """Where entries are kept, or None when the user has no home to keep them in."""
    explicit = os.environ.get(CACHE_DIR_VARIABLE)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():  # the XDG spec: a relative value is ignored
        return Path(xdg) / "plivo-node"
    try:
        return Path.home() / ".cache" / "plivo-node"
    except RuntimeError:  # no HOME and no passwd entry
        return None


def content_key(kind: str, files: Iterable[Path]) -> str | None:
    """The SHA-256 of everything a validated ``kind`` entry depends on, or None if unreadable."""
    digest = hashlib.sha256(f"{ENTRY_FORMAT}\0{__version__}\0{kind}\0".encode())
    try:
        for path in [*files, *sorted(_CODE_DIR.glob("*.py"))]:
            data = path.read_bytes()
            digest.update(f"{len(data)}\0".encode())
            digest.update(data)
    except OSError:
        return None
    return digest.hexdigest()


def document_key(schema_name: str, schema_file: Path, document: object) -> str | None:
    """The key under which ``document`` is remembered as passing ``schema_file``, or None."""
    try:
        value = repr(document)
    except RecursionError:  # deeper than repr goes: not worth remembering
        return None
    return content_key(f"{schema_name}\0{value}", [schema_file])


def _entry_path(directory: Path, folder: str, source: str) -> Path:
    # One entry per source (named by it): a changed file replaces its entry instead of adding
    # one, so the cache never grows past the files in use.
    name = hashlib.sha256(source.encode()).hexdigest()[:32]
    return directory / folder / f"{name}.json"


def _read_body(folder: str, source: str, key: str) -> str | None:
    """The body of the entry for ``source`` if it has ``key``; None for a miss of any kind."""
    directory = cache_dir()
    if directory is None:
        return None
    try:
        text = _entry_path(directory, folder, source).read_text(encoding="utf-8")
    except (OSError, ValueError):  # missing, unreadable or not UTF-8
        return None
    stored_key, newline, body = text.partition("\n")
    return body if newline and stored_key == key else None


def _write_body(folder: str, source: str, key: str, body: str) -> None:
    """Write the entry for ``source``; silently nothing if it cannot be written."""
    directory = cache_dir()
    if directory is None:
        return
    path = _entry_path(directory, folder, source)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".entry-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(f"{key}\n{body}")
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def read_entry(model: type[ModelT], source: Path, key: str) -> ModelT | None:
    """The cached model for ``source`` under ``key``, or None (a miss) for any problem."""
    body = _read_body("descriptions", str(source), key)
    if body is None:
        return None
    try:
        return model.from_data(json.loads(body))
    except (ValueError, RecursionError):
        # Not JSON, or not the model (ModelDataError is a ValueError): the file is loaded
        # instead, and the entry written again.
        return None


def write_entry(source: Path, key: str, loaded: NodeDescription | CredentialType) -> None:
    """Keep ``loaded`` for ``source`` under ``key``."""
    body = json.dumps(loaded.to_data(), separators=(",", ":"))
    if type(loaded).from_data(json.loads(body)) != loaded:
        return  # JSON would not give back the same model: a full load is the only exact one
    _write_body("descriptions", str(source), key, body)


def passed_before(source: str, key: str) -> bool:
    """Whether the document of ``source`` under ``key`` (see :func:`document_key`) passed."""
    return _read_body("verdicts", source, key) == ""


def remember_passed(source: str, key: str) -> None:
    _write_body("verdicts", source, key, "")


def _recent_keys(source: str) -> list[str]:
    body = _read_body("verdicts", source, _RECENT_LIST)
    return [] if body is None else [key for key in body.split("\n") if key]


def passed_recently(source: str, key: str) -> bool:
    """Whether a document under the name ``source`` passed with ``key`` lately (see the
    module's docstring): for many small documents that share one name."""
    return key in _recent_keys(source)


def remember_passed_recently(source: str, key: str) -> None:
    """Add ``key`` to the name's list, newest first, dropping the oldest past the bound. Two
    processes writing at once may lose one key: a recheck, never a wrong verdict."""
    keys = [key, *(known for known in _recent_keys(source) if known != key)]
    _write_body("verdicts", source, _RECENT_LIST, "\n".join(keys[:RECENT_VERDICTS]))


def read_parsed(source: str, key: str) -> tuple[bool, object]:
    """``(True, data)`` when the parsed data of ``source`` is kept under ``key``, else
    ``(False, None)`` (the data itself may be ``None``)."""
    body = _read_body("documents", source, key)
    if body is None:
        return False, None
    try:
        return True, json.loads(body)
    except (ValueError, RecursionError):
        return False, None


def keep_parsed(source: str, key: str, data: object) -> None:
    """Keep ``data`` for ``source`` under ``key`` if JSON gives it back exactly."""
    try:
        body = json.dumps(data, separators=(",", ":"), allow_nan=False)
        exact = repr(json.loads(body)) == repr(data)
    except (TypeError, ValueError, RecursionError):
        return  # not JSON (a key that is not text, a value JSON has no form for), or too deep
    if exact:
        _write_body("documents", source, key, body)
