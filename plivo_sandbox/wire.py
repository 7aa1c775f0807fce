"""What every route shares: Plivo's response and error shapes, request params, paging.

Routes raise :class:`RejectedError` for any error answer; the error middleware turns it into
Plivo's body ``{"api_id": ..., "error": ...}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlencode

from aiohttp import web

from plivo_sandbox.callbacks import CallbackSender
from plivo_sandbox.config import SandboxConfig
from plivo_sandbox.faults import SlidingWindowLimiter
from plivo_sandbox.state import JsonDict, SandboxState

STATE_KEY = web.AppKey("sandbox_state", SandboxState)
CONFIG_KEY = web.AppKey("sandbox_config", SandboxConfig)
CALLBACKS_KEY = web.AppKey("sandbox_callbacks", CallbackSender)
# Counts GET Message/ requests against Plivo's list limit (absent when it is off).
MESSAGE_LIST_LIMITER_KEY = web.AppKey("sandbox_message_list_limiter", SlidingWindowLimiter)
# Set when the server stops, so every deliberate wait (latency, slow, held answers) ends at once.
STOPPING_KEY = web.AppKey("sandbox_stopping", asyncio.Event)

_T = TypeVar("_T")

MAX_PAGE_LIMIT = 20
# A host's first character, then anything but whitespace. Its two parts cannot both match one
# character, so a fullmatch is linear: no backtracking blow-up on a long hostile URL.
_HTTP_URL = re.compile(r"https?://[^\s/]\S*")
# Error texts echo client values; past this length the middle of the text is elided.
MAX_ERROR_CHARS = 300


class RejectedError(Exception):
    """An error answer: ``status`` with Plivo's body ``{"api_id", "error": error}``."""

    def __init__(self, status: int, error: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.headers = headers or {}


def not_found() -> RejectedError:
    return RejectedError(404, "not found")


def stored(collection: Mapping[str, _T], key: str) -> _T:
    """``collection[key]``, or Plivo's 404 answer when there is no such object."""
    found = collection.get(key)
    if found is None:
        raise not_found()
    return found


def new_api_id() -> str:
    return str(uuid.uuid4())


def respond(
    body: JsonDict, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer with a fresh ``api_id`` first, as every Plivo answer has."""
    payload = {"api_id": new_api_id(), **body}
    return web.Response(
        body=json.dumps(payload).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def error_response(failure: RejectedError) -> web.Response:
    return respond({"error": bounded_text(failure.error)}, failure.status, failure.headers or None)


def bounded_text(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text``, or its head and tail around a note of what was left out when it is too long."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}…[{len(text) - 2 * half} characters left out]…{text[-half:]}"


def changed() -> web.Response:
    """Plivo's answer to an update."""
    return respond({"message": "changed"}, 202)


def deleted() -> web.Response:
    """Plivo's answer to a delete: 204 with an empty body."""
    return web.Response(status=204)


@dataclass(frozen=True)
class UploadedFile:
    """One ``file`` part of a multipart upload."""

    file_name: str
    content_type: str
    size: int


# Request-scoped values the middlewares hand to the routes.
PARAMS: web.RequestKey[JsonDict] = web.RequestKey("sandbox_params")
FILES: web.RequestKey[list[UploadedFile]] = web.RequestKey("sandbox_files")
RESOURCE_PATH = web.RequestKey("sandbox_resource_path", str)
# The request's sequence number in the request log (``SandboxState.request_log``).
REQUEST_SEQUENCE = web.RequestKey("sandbox_request_sequence", int)


def params(request: web.Request) -> JsonDict:
    """The request's parameters: the query for GET, the parsed body otherwise."""
    return request[PARAMS]


def files(request: web.Request) -> list[UploadedFile]:
    return request[FILES]


def state_of(request: web.Request) -> SandboxState:
    return request.app[STATE_KEY]


def config_of(request: web.Request) -> SandboxConfig:
    return request.app[CONFIG_KEY]


async def pause(request: web.Request, seconds: float) -> None:
    """Wait ``seconds``, or less if the server is stopping."""
    if seconds <= 0:
        return
    stopping = request.app[STOPPING_KEY]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)


def format_time(epoch: float, *, micro: bool = False) -> str:
    """Plivo's timestamp shape in the account's timezone (UTC): ``2024-08-21 18:28:49+00:00``."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(sep=" ", timespec="microseconds" if micro else "seconds")


# --- typed parameter access -------------------------------------------------------------------


def text_param(values: JsonDict, name: str) -> str | None:
    """An optional string parameter (a JSON number or boolean is taken as its text)."""
    value = values.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise RejectedError(400, f"{name} must be a string, not a {type(value).__name__}")
    return value


def required_text_param(values: JsonDict, name: str) -> str:
    """A string parameter that must be given and not empty."""
    value = text_param(values, name)
    if value is None:
        raise RejectedError(400, f"{name} is a required parameter and was not given")
    return value


def is_http_url(value: str) -> bool:
    return _HTTP_URL.fullmatch(value) is not None


def url_param(values: JsonDict, name: str) -> str | None:
    """An optional http(s) URL parameter."""
    url = text_param(values, name)
    if url is not None and not is_http_url(url):
        raise RejectedError(400, f"{name} {url!r} is not an http(s) URL")
    return url


def method_param(values: JsonDict, name: str) -> str | None:
    """An optional HTTP method parameter for a callback: ``GET`` or ``POST``, any case."""
    method = text_param(values, name)
    if method is None:
        return None
    if method.upper() not in {"GET", "POST"}:
        raise RejectedError(400, f"{name} must be GET or POST, not {method!r}")
    return method.upper()


def reference_param(values: JsonDict, name: str, existing: Mapping[str, object]) -> str | None:
    """An optional id parameter that must name an object of ``existing`` (a 400 otherwise)."""
    identifier = text_param(values, name)
    if identifier is not None and identifier not in existing:
        raise RejectedError(400, f"{name} {identifier!r} does not exist")
    return identifier


def bool_param(values: JsonDict, name: str) -> bool | None:
    """A boolean parameter, from JSON (``true``) or a form (``"true"``)."""
    value = values.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise RejectedError(400, f"{name} must be true or false, not {value!r}")


def int_param(values: JsonDict, name: str) -> int | None:
    value = values.get(name)
    if value is None or value == "":
        return None
    # JSON true/false and 5.5 are not integers, though Python would turn them into 1 and 5.
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise RejectedError(400, f"{name} must be an integer, not {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RejectedError(400, f"{name} must be an integer, not {value!r}") from None


def list_param(values: JsonDict, name: str) -> list[str]:
    """A list parameter: a JSON list, repeated form fields or one comma-separated string."""
    value = values.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(entry, str) for entry in value):
        return list(value)
    raise RejectedError(400, f"{name} must be a list of strings")


# --- paging -----------------------------------------------------------------------------------


def paged(
    request: web.Request,
    items: Sequence[JsonDict],
    resource: str,
    *,
    render: Callable[[JsonDict], JsonDict] | None = None,
    extra: JsonDict | None = None,
) -> web.Response:
    """Plivo's paged envelope for ``items`` (all matches), sliced by the request's limit/offset.

    ``resource`` is the list's path below the account base, e.g. ``"Number/"``; ``next`` and
    ``previous`` are relative URIs that keep the request's other query params. ``render``
    turns a stored item into its answer shape (only the page's items are rendered); ``extra``
    adds top-level fields.
    """
    query = request.query
    limit = _paging_number(query.get("limit"), "limit", default=MAX_PAGE_LIMIT)
    offset = _paging_number(query.get("offset"), "offset", default=0)
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise RejectedError(400, f"limit must be between 1 and {MAX_PAGE_LIMIT}, not {limit}")
    if offset < 0:
        raise RejectedError(400, f"offset must be 0 or more, not {offset}")
    total = len(items)
    filters = [(key, value) for key, value in query.items() if key not in {"limit", "offset"}]
    base = f"{state_of(request).base_path}{resource}"

    def page_uri(page_offset: int) -> str:
        return f"{base}?{urlencode([('limit', limit), ('offset', page_offset), *filters])}"

    meta = {
        "limit": limit,
        "offset": offset,
        "total_count": total,
        "next": page_uri(offset + limit) if offset + limit < total else None,
        "previous": page_uri(max(0, offset - limit)) if offset > 0 else None,
    }
    page = items[offset : offset + limit]
    objects = [render(item) for item in page] if render else list(page)
    return respond({**(extra or {}), "meta": meta, "objects": objects})


def _paging_number(raw: str | None, name: str, *, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise RejectedError(400, f"{name} must be an integer, not {raw!r}") from None
