"""The API client a handler sees: one request method, answers as JSON, failures as our errors.

A node type that talks to a service gives the runtime a client factory (see
:class:`plivo_node.core.node.ClientFactory`); the client it builds is what the node's handlers
get as ``context.client``. Nodes without one get :data:`NO_CLIENT`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.items import JsonObject

HttpMethod = Literal["GET", "POST", "DELETE"]


@dataclass(frozen=True)
class ApiResponse:
    """A successful answer: its status and its JSON body (``None`` for 204 No Content)."""

    status: int
    body: JsonObject | None


@dataclass(frozen=True)
class UploadFile:
    """One file of a multipart upload (sent as a part named ``file``)."""

    file_name: str
    content_type: str
    data: bytes


class ApiClient(Protocol):
    """What a handler may do with its service. Implemented by
    :class:`plivo_node.http.transport.HttpClient`.

    ``path`` is relative to the client's base URL (the node's factory decides it, e.g. an
    account's base) and ends in "/"; the empty string is the base itself. GET sends ``query``
    as a query string; POST and DELETE send ``body`` as JSON; ``files`` makes the POST a
    multipart upload. Error statuses raise :class:`plivo_node.core.errors.ApiError`
    subclasses, and retries follow the client's single retry policy.
    """

    async def request(
        self,
        method: HttpMethod,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Sequence[UploadFile] | None = None,
    ) -> ApiResponse: ...


class _NoClient:
    """The client of a node type without a client factory: any request is a bug of the node."""

    async def request(
        self,
        method: HttpMethod,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,  # noqa: ARG002 - the ApiClient signature
        body: Mapping[str, Any] | None = None,  # noqa: ARG002
        files: Sequence[UploadFile] | None = None,  # noqa: ARG002
    ) -> ApiResponse:
        raise ConfigurationError(
            f"this node has no API client, so it cannot send {method} {path or '(base)'}",
            hint="a node type that calls a service declares a client factory",
        )


NO_CLIENT: ApiClient = _NoClient()


# Called by the transport just before it writes a request that is not a read (after the rate
# limiter and the pacer): from that moment the item is in flight. When it returns an awaitable
# (the run journal's in-flight mark, committed to disk), the request waits for it. The executor
# sets it for the item its worker runs, so an item still waiting for its turn when the run
# stopped is never reported as possibly sent. A context variable, not a parameter, so that
# every request an item's handler makes, through any client wrapper, passes its item's hook,
# and handlers and clients need not know about it.
BeforeWrite = Callable[[], Awaitable[None] | None]
before_write: ContextVar[BeforeWrite | None] = ContextVar("before_write", default=None)
