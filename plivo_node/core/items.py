"""The contracts between the layers: items, the API client a handler sees, and a handler's context.

Data moves one way: parameters are resolved for an item, a handler turns them into requests
through an :class:`ApiClient`, and returns output json objects; the executor pairs those with
the input item. Handlers never see the pipeline, the credentials or other items.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

JsonObject = dict[str, Any]
HttpMethod = Literal["GET", "POST", "DELETE"]


@dataclass(frozen=True)
class BinaryData:
    """One named binary entry of an item, as n8n stores it (``data`` is base64)."""

    data: str
    mime_type: str
    file_name: str | None = None

    def content(self) -> bytes:
        return base64.b64decode(self.data, validate=False)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> BinaryData:
        return cls(
            data=str(raw.get("data", "")),
            mime_type=str(raw.get("mimeType") or "application/octet-stream"),
            file_name=raw.get("fileName"),
        )


@dataclass(frozen=True)
class Item:
    """An input item: ``json`` plus optional named binary entries. Never mutated."""

    json: JsonObject
    binary: Mapping[str, BinaryData] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiResponse:
    """A successful answer: its status and its JSON body (``None`` for 204 No Content)."""

    status: int
    body: JsonObject | None


@dataclass(frozen=True)
class UploadFile:
    """One file of a multipart Media upload (sent as a part named ``file``)."""

    file_name: str
    content_type: str
    data: bytes


class ApiClient(Protocol):
    """What a handler may do with Plivo.

    Implemented by :class:`plivo_node.http.transport.PlivoClient`.

    ``path`` is relative to the account base ``{base}/Account/{auth_id}/`` and ends in "/"
    ("Message/", "Application/123/"); the empty string is the account itself. GET sends
    ``query`` as a query string; POST and DELETE send ``body`` as JSON; ``files`` makes the
    POST a multipart upload. Error statuses raise :class:`plivo_node.core.errors.ApiError`
    subclasses, and retries follow the transport's single retry policy.
    """

    @property
    def auth_id(self) -> str: ...

    async def request(
        self,
        method: HttpMethod,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Sequence[UploadFile] | None = None,
    ) -> ApiResponse: ...


@dataclass(frozen=True)
class OperationContext:
    """Everything one operation on one item gets.

    ``params`` holds the item's resolved parameters: visible ones only, defaults applied,
    expressions evaluated, types checked; collections (``additionalFields``, ``updateFields``)
    are dicts holding only the fields the user gave.
    """

    params: Mapping[str, Any]
    item: Item
    item_index: int
    client: ApiClient


# A handler returns the json of its output items (one for most operations, one per object for
# getAll); the executor wraps each in ``{"json": ..., "pairedItem": {"item": i}}``.
Handler = Callable[[OperationContext], Awaitable[list[JsonObject]]]


# Called by the transport just before it writes a request that is not a read (after the rate
# limiter and the pacer): from that moment the item is in flight. When it returns an awaitable
# (the run journal's in-flight mark, committed to disk), the request waits for it. The executor
# sets it for the item its worker runs, so an item still waiting for its turn when the run
# stopped is never reported as possibly sent. A context variable, not a parameter, so that
# every request an item's handler makes, through any client wrapper, passes its item's hook,
# and handlers and clients need not know about it.
BeforeWrite = Callable[[], Awaitable[None] | None]
before_write: ContextVar[BeforeWrite | None] = ContextVar("before_write", default=None)
