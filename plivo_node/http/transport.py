"""``HttpClient``: the one way a node's requests reach its service (or a sandbox).

A node's client factory builds it from a :class:`ServiceProfile`: the base URL every path is
relative to, the ``Authorization`` header, and the service's own conventions (which requests
are sends, which answer field carries its request id, how to pace sends that share a sender).

This module is the single boundary where aiohttp and asyncio exceptions become ours
(:class:`ConnectionFailedError`, :class:`RequestTimeoutError`) and where error statuses become
:class:`ApiError` subclasses through :func:`plivo_node.core.errors.api_error_for_status`. Every
request waits for the rate limiter, and every failure goes to the retry policy, which alone
decides whether to try again.

The hot path does little per request: the auth header, the headers and the base URL are
built once, the body is serialised once per request (not per attempt), and one session with
a connection pool of ``concurrency`` connections serves every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from plivo_node import __version__
from plivo_node.core.api import ApiResponse, HttpMethod, UploadFile, before_write
from plivo_node.core.errors import (
    ApiError,
    ConnectionFailedError,
    PlivoNodeError,
    RateLimitedError,
    RequestTimeoutError,
    TransportError,
    api_error_for_status,
)
from plivo_node.core.items import JsonObject
from plivo_node.core.redaction import shorten
from plivo_node.http.aiohttp_import import import_aiohttp, verified_tls_context
from plivo_node.http.limiter import RateLimiter, RequestLimiter, SendPacer
from plivo_node.http.retry import RetryPolicy

if TYPE_CHECKING:
    import aiohttp
else:
    # Without building the TLS contexts aiohttp makes at import and we never use: see
    # plivo_node/http/aiohttp_import.py. Connections to https URLs get verified_tls_context().
    aiohttp = import_aiohttp()

USER_AGENT = f"plivo-node/{__version__} (Python {platform.python_version()})"
_ERROR_TEXT_LIMIT = 300  # a proxy's HTML error page is not worth printing whole

# Built once: json.dumps with options builds a new encoder on every call (hot path).
_BODY_ENCODER = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True)
class ServiceProfile:
    """What the client needs to know about the service it talks to (its node decides it)."""

    base_url: str  # every request path is relative to it; ends in "/"
    authorization: str  # the Authorization header's value
    service: str = "the service"  # how messages name it ("Plivo said: ...")
    # Where the base URL comes from, for hints ("check <it> and your network connection").
    base_url_source: str = "the base URL"
    # The answer field holding the service's id of a request, kept on its errors.
    request_id_field: str | None = None
    # The key of a send the pacer spaces (its sender), from the request body; None: not paced.
    pacing_key: Callable[[Mapping[str, Any]], str | None] | None = None
    # Endpoints with a lower limit of their own than the account's, by (method, path): e.g. a
    # list that allows 20 requests a minute. Requests to them wait for both limits.
    endpoint_rate_limits: Mapping[tuple[str, str], tuple[int, float]] = field(default_factory=dict)


class HttpClient:
    """An :class:`plivo_node.core.api.ApiClient` over aiohttp; use it as ``async with``.

    ``rate_limiter=None`` means no client-side request rate (a ``RateLimiter(None)``: 429s
    still pause every request). ``retry_policy`` defaults to :class:`RetryPolicy`'s defaults
    (its ``sends`` say which requests are sends). An injected ``session`` is used as is and not
    closed. ``pacer`` optionally spaces sends that share a pacing key (a sender).
    """

    def __init__(
        self,
        profile: ServiceProfile,
        *,
        concurrency: int = 50,
        timeout: float = 30.0,
        rate_limiter: RequestLimiter | None = None,
        retry_policy: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
        pacer: SendPacer | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._profile = profile
        self._base_url = profile.base_url
        parts = urlsplit(profile.base_url)
        self._server = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        self._network_hint = f"check {profile.base_url_source} and your network connection"
        self._headers = {
            "Authorization": profile.authorization,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        # ``connect`` covers waiting for a pooled connection and opening it: a timeout there
        # means nothing was written. ``sock_read`` bounds the wait for the answer.
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
        self._concurrency = concurrency
        self._limiter: RequestLimiter = (
            rate_limiter if rate_limiter is not None else RateLimiter(None)
        )
        # One limiter per endpoint with its own limit; a 429 from one slows only that endpoint.
        self.endpoint_limiters: dict[tuple[str, str], RateLimiter] = {
            endpoint: RateLimiter(rate) for endpoint, rate in profile.endpoint_rate_limits.items()
        }
        self._policy = retry_policy if retry_policy is not None else RetryPolicy()
        self._pacer = pacer
        self._session = session
        self._owns_session = session is None
        # Requests other than GET handed on to be written: anything that may have changed
        # something. While it is 0 the run can still say "nothing was sent" (exit code 2).
        self.writes_started = 0

    async def __aenter__(self) -> Self:
        if self._session is None:
            # Our own verified context for https (never aiohttp's default); plain HTTP (the
            # sandbox) needs none, and building one would load the CA bundle for nothing.
            tls = verified_tls_context() if urlsplit(self._base_url).scheme == "https" else True
            connector = aiohttp.TCPConnector(limit=self._concurrency, ssl=tls)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this client opened it."""
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def request(
        self,
        method: HttpMethod,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Sequence[UploadFile] | None = None,
    ) -> ApiResponse:
        """Send one request, retrying as the policy allows; see :class:`ApiClient`."""
        session = self._session
        if session is None:
            raise RuntimeError("the client is not open: use it as `async with` first")
        url = self._base_url + path
        params = _query_string(query) if query else None
        payload: bytes | None = None
        if not files and (body is not None or method == "POST"):
            payload = _BODY_ENCODER.encode(body or {}).encode()
        headers = self._headers if files or payload is None else self._json_headers
        send = self._policy.sends(method, path) is not None
        pacing_key = self._profile.pacing_key
        if self._pacer is not None and body is not None and send and pacing_key is not None:
            key = pacing_key(body)
            if key:
                await self._pacer.wait(key)

        endpoint_limiter = self.endpoint_limiters.get((method, path))
        limiter = endpoint_limiter or self._limiter
        maybe_sent = False  # an earlier attempt of this send may have reached the service
        attempt = 0
        while True:
            attempt += 1
            try:
                # The slot is held until the answer (or failure) is in: the server counted the
                # request at some moment in between (see plivo_node.http.limiter). An endpoint
                # with its own limit holds a slot of it as well as one of the account's.
                with contextlib.ExitStack() as slots:
                    if endpoint_limiter is not None:
                        slots.enter_context(await endpoint_limiter.acquire())
                    slots.enter_context(await self._limiter.acquire())
                    if method != "GET":
                        self.writes_started += 1
                    # multipart bodies are consumed by sending, so each attempt builds its own
                    data = _multipart(files, body) if files else payload
                    return await self._attempt(
                        session,
                        method=method,
                        url=url,
                        path=path,
                        params=params,
                        data=data,
                        headers=headers,
                    )
            except (ApiError, TransportError) as error:
                if isinstance(error, RateLimitedError):
                    limiter.slow_down(error.retry_after)
                decision = self._policy.decide(method, path, error, attempt)
                if decision.outcome_unknown or (maybe_sent and not decision.retry):
                    raise self._policy.unknown_outcome(method, path, error) from error
                if not decision.retry:
                    raise
                maybe_sent = maybe_sent or (send and _may_have_acted(error))
                await asyncio.sleep(decision.delay)

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        *,
        method: str,
        url: str,
        path: str,
        params: dict[str, str] | None,
        data: bytes | aiohttp.FormData | None,
        headers: Mapping[str, str],
    ) -> ApiResponse:
        # Past every wait: the item is in flight from here (see plivo_node.core.api).
        hook = before_write.get() if method != "GET" else None
        if hook is not None and (marking := hook()) is not None:
            await marking
        try:
            async with session.request(
                method, url, params=params, data=data, headers=headers, timeout=self._timeout
            ) as response:
                raw = await response.read()
                status = response.status
                content_type = response.content_type
                # Only error answers need the header: skip the lookup on the hot path.
                retry_after = response.headers.get("Retry-After") if status >= 400 else None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._transport_error(exc, method, path) from exc
        if status >= 400:
            raise _api_error(
                status,
                method=method,
                path=path,
                raw=raw,
                content_type=content_type,
                retry_after=retry_after,
                request_id_field=self._profile.request_id_field,
                service=self._profile.service,
            )
        if status == 204 or not raw:
            return ApiResponse(status, None)
        return ApiResponse(status, self._json_object(raw, status, method, path, content_type))

    def _json_object(
        self, raw: bytes, status: int, method: str, path: str, content_type: str
    ) -> JsonObject:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if isinstance(body, dict):
            return body
        shown = "a JSON " + type(body).__name__ if body is not None else f"'{content_type}' content"
        error = ApiError(status=status, method=method, path=path)
        error.message = (
            f"Expected a JSON object from {method} {path or '(base)'} but the server answered "
            f"HTTP {status} with {shown}"
        )
        error.hint = f"check that {self._profile.base_url_source} points at the service's API"
        raise error

    def _transport_error(self, exc: BaseException, method: str, path: str) -> TransportError:
        """The one place foreign exceptions become ours; ``request_sent`` errs on "maybe"."""
        request = f"{method} {path or '(base)'}"
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return RequestTimeoutError(
                f"Timed out connecting to {self._server} for {request}; nothing was sent",
                request_sent=False,
                hint=self._network_hint,
            )
        if isinstance(exc, TimeoutError):
            return RequestTimeoutError(
                f"No answer from {self._server} in time for {request}; the request was sent",
                request_sent=True,
                hint="the server may be slow or overloaded; raise the timeout or try later",
            )
        if isinstance(exc, aiohttp.ClientConnectorError):
            reason = exc.os_error.strerror or type(exc.os_error).__name__
            return ConnectionFailedError(
                f"Could not connect to {self._server} for {request}: {reason}; nothing was sent",
                request_sent=False,
                hint=self._network_hint,
            )
        if isinstance(exc, aiohttp.InvalidURL):
            return ConnectionFailedError(
                f"Invalid request URL for {request}; nothing was sent",
                request_sent=False,
                hint=f"check {self._profile.base_url_source} and the path",
            )
        if isinstance(exc, aiohttp.ServerDisconnectedError):
            what = "closed the connection before answering"
        elif isinstance(exc, aiohttp.ClientPayloadError):
            what = "sent an incomplete answer"
        elif isinstance(exc, aiohttp.ClientResponseError):
            what = "sent an answer that is not valid HTTP"
        elif isinstance(exc, OSError):
            what = f"connection failed mid-request ({exc.strerror or type(exc).__name__})"
        else:
            what = f"connection failed mid-request ({type(exc).__name__})"
        return ConnectionFailedError(
            f"{self._server} {what} for {request}; the request may have been received",
            request_sent=True,
            hint=self._network_hint,
        )


def _may_have_acted(error: PlivoNodeError) -> bool:
    if isinstance(error, TransportError):
        return error.request_sent
    return not isinstance(error, RateLimitedError)


def _query_string(query: Mapping[str, Any]) -> dict[str, str]:
    """The query encoding (see :func:`_form_text`), ``None`` values left out."""
    return {name: _form_text(value) for name, value in query.items() if value is not None}


def _multipart(files: Sequence[UploadFile], body: Mapping[str, Any] | None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in (body or {}).items():
        if value is not None:
            form.add_field(name, _form_text(value))
    for upload in files:
        form.add_field(
            "file", upload.data, filename=upload.file_name, content_type=upload.content_type
        )
    return form


def _form_text(value: Any) -> str:
    """A query or form value as REST APIs read it: booleans as true/false, lists comma-joined."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(part) for part in value)
    return str(value)


def _api_error(
    status: int,
    *,
    method: str,
    path: str,
    raw: bytes,
    content_type: str,
    retry_after: str | None,
    request_id_field: str | None,
    service: str,
) -> ApiError:
    api_id: str | None = None
    error_text: str | None = None
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        api_id = _text(body.get(request_id_field)) if request_id_field else None
        error_text = _text(body.get("error")) or _text(body.get("message"))
    elif content_type == "text/plain":
        error_text = raw.decode("utf-8", "replace").strip() or None
    if error_text:
        # Masked before it is cut: a server echoing the token or the Authorization header
        # must not leave part of it behind a truncation.
        error_text = shorten(error_text, _ERROR_TEXT_LIMIT)
    return api_error_for_status(status)(
        status=status,
        method=method,
        path=path,
        api_id=api_id,
        error_text=error_text,
        retry_after=_retry_after_seconds(retry_after),
        service=service,
    )


def _text(value: Any) -> str | None:
    """A body field as text: strings as they are, per-field error objects as JSON."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(", ", ": "), sort_keys=True)


def _retry_after_seconds(header: str | None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date turned into seconds from now."""
    if not header:
        return None
    header = header.strip()
    try:
        seconds = float(header)
    except ValueError:
        pass
    else:
        # "nan" parses as a float and would make the retry sleep forever.
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
