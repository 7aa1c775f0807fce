"""Reading a request body into params within fixed bounds: size, fields, nesting, encoding.

Only requests that passed the credential check get here (see ``middlewares.intake``). Every
bound is checked before or while reading, so no client can make the sandbox hold more than
``MAX_BODY_BYTES`` of a JSON or form body (``MAX_MULTIPART_BYTES`` of an upload), nor parse
anything deeper than ``MAX_DEPTH`` or wider than ``MAX_FIELDS``. Each violation is a
``RejectedError`` with the status Plivo would use (400, 413 or 415).
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, hdrs, web
from aiohttp.client_exceptions import ClientPayloadError
from aiohttp.http_exceptions import HttpProcessingError

from plivo_sandbox.state import JsonDict
from plivo_sandbox.wire import RejectedError, UploadedFile

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
ACCEPTED_TYPES = (JSON, FORM, MULTIPART)

# Plivo's largest request (1,000 bulk destinations and a 1,600-character text) is ~20 kB.
MAX_BODY_BYTES = 1024 * 1024
MAX_UPLOAD_FILES = 10
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_MULTIPART_BYTES = MAX_UPLOAD_FILES * MAX_UPLOAD_BYTES + MAX_BODY_BYTES
# No Plivo resource takes more than a few dozen parameters.
MAX_FIELDS = 256
MAX_DEPTH = 32
_READ_CHUNK = 64 * 1024


async def read_params(request: web.Request) -> tuple[JsonDict, list[UploadedFile]]:
    """The body's params and uploaded files, or a ``RejectedError``; never past the bounds."""
    content_type = _checked_content_type(request)
    limit = MAX_MULTIPART_BYTES if content_type == MULTIPART else MAX_BODY_BYTES
    declared = request.content_length
    if declared is not None and declared > limit:
        raise _too_large(limit)
    try:
        if content_type == MULTIPART:
            return await _read_multipart(request)
        raw = await _read_at_most(request, limit)
    except (HttpProcessingError, ClientPayloadError, ValueError):
        # Multipart without a boundary or with broken part headers, a broken chunked encoding.
        raise RejectedError(400, f"the request body is not valid {content_type}") from None
    if content_type == FORM:
        return _parse_form(raw), []
    return _parse_json(raw), []


def _checked_content_type(request: web.Request) -> str:
    """JSON, form or multipart; a body without a Content-Type is read as JSON."""
    if request.headers.get(hdrs.CONTENT_ENCODING, "identity").lower() != "identity":
        raise RejectedError(415, "compressed request bodies are not accepted: send them as is")
    if hdrs.CONTENT_TYPE not in request.headers:
        return JSON
    content_type = request.content_type
    if content_type not in ACCEPTED_TYPES and not content_type.endswith("+json"):
        raise RejectedError(
            415, f"content type {content_type!r} is not accepted; send {', '.join(ACCEPTED_TYPES)}"
        )
    return JSON if content_type.endswith("+json") else content_type


def _too_large(limit: int) -> RejectedError:
    return RejectedError(413, f"the request body is larger than {limit} bytes")


async def _read_at_most(request: web.Request, limit: int) -> bytes:
    """The whole body, refused as soon as it exceeds ``limit`` (whatever Content-Length said)."""
    body = bytearray()
    while chunk := await request.content.read(_READ_CHUNK):
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _parse_json(raw: bytes) -> JsonDict:
    if not raw.strip():
        return {}
    try:
        parsed: Any = json.loads(
            raw.decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float
        )
    except UnicodeDecodeError:
        raise _not_utf8(JSON) from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        raise RejectedError(400, "the request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise RejectedError(400, "the request body must be a JSON object")
    if len(parsed) > MAX_FIELDS:
        raise _too_many_fields()
    if _deeper_than(parsed, MAX_DEPTH):
        raise _too_deep()
    return parsed


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _deeper_than(value: object, limit: int) -> bool:
    """Whether ``value`` nests lists/objects more than ``limit`` levels (no recursion)."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, dict):
            current = list(current.values())
        if not isinstance(current, list):
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in current)
    return False


def _not_utf8(content_type: str) -> RejectedError:
    return RejectedError(400, f"the request body is not valid {content_type}: it is not UTF-8")


def _too_deep() -> RejectedError:
    return RejectedError(400, f"the request body nests deeper than {MAX_DEPTH} levels")


def _too_many_fields() -> RejectedError:
    return RejectedError(400, f"the request body has more than {MAX_FIELDS} fields")


def _parse_form(raw: bytes) -> JsonDict:
    """Form fields: a repeated key becomes a list, any other keeps its one value."""
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict"
        )
    except UnicodeDecodeError:
        raise _not_utf8(FORM) from None
    except ValueError:
        raise _too_many_fields() from None
    values: JsonDict = {}
    for key, value in pairs:
        present = values.get(key)
        if present is None:
            values[key] = value
        elif isinstance(present, list):
            present.append(value)
        else:
            values[key] = [present, value]
    return values


async def _read_multipart(request: web.Request) -> tuple[JsonDict, list[UploadedFile]]:
    fields: JsonDict = {}
    uploads: list[UploadedFile] = []
    field_bytes = 0
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if request.content.total_bytes > MAX_MULTIPART_BYTES:
            raise _too_large(MAX_MULTIPART_BYTES)
        if not isinstance(part, BodyPartReader):
            raise RejectedError(400, "nested multipart bodies are not supported")
        if part.filename is None:
            if len(fields) == MAX_FIELDS:
                raise _too_many_fields()
            raw = await _read_part(part, MAX_BODY_BYTES - field_bytes)
            field_bytes += len(raw)
            try:
                fields[part.name or ""] = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise RejectedError(400, f"field {part.name!r} is not valid UTF-8") from None
            continue
        if part.name != "file":
            raise RejectedError(400, f"upload part {part.name!r} must be named 'file'")
        if len(uploads) == MAX_UPLOAD_FILES:
            raise RejectedError(400, f"at most {MAX_UPLOAD_FILES} files can be uploaded at once")
        size = 0
        while chunk := await part.read_chunk():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise RejectedError(400, f"file {part.filename!r} is larger than 2 MB")
        content_type = part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
        uploads.append(UploadedFile(part.filename, content_type, size))
    return fields, uploads


async def _read_part(part: BodyPartReader, room: int) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk():
        data += chunk
        if len(data) > room:
            raise _too_large(MAX_BODY_BYTES)
    return bytes(data)
