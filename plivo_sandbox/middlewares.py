"""The layers every request passes through, outermost first:

(rate-limit count on arrival, from the headers alone) → errors (Plivo's error body for anything
raised) → intake (path and HTTP Basic auth, then and only then the body, within bounds; log the
request) → rate limit (429 for the requests counted over it) → faults → latency → the route.

The last three are only installed when configured, to keep the hot path short.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging

from aiohttp import HttpVersion11, hdrs, web
from aiohttp.typedefs import Handler, Middleware

from plivo_sandbox.body import read_params
from plivo_sandbox.config import SandboxConfig
from plivo_sandbox.faults import (
    FaultInjector,
    SlidingWindowLimiter,
    drop_connection,
    retry_after_value,
)
from plivo_sandbox.state import JsonDict, SandboxState
from plivo_sandbox.wire import (
    CONFIG_KEY,
    FILES,
    PARAMS,
    REQUEST_SEQUENCE,
    RESOURCE_PATH,
    RejectedError,
    UploadedFile,
    error_response,
    not_found,
    pause,
)

logger = logging.getLogger(__name__)

ACCOUNT_PREFIX = "/v1/Account/"
# Methods whose body, if any, the sandbox ignores (as Plivo does).
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

FAULT_ERROR_TEXT = {
    429: "too many requests",
    500: "internal server error",
    503: "service unavailable",
}


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error answer gets Plivo's body ``{"api_id", "error"}``; nothing leaks a traceback."""
    try:
        return await handler(request)
    except web.HTTPRedirection:
        raise
    except Exception as exc:
        if not isinstance(exc, RejectedError | web.HTTPException):
            logger.exception("sandbox route failed on %s %s", request.method, request.path)
        response = error_response(_as_rejection(exc))
    if request.body_exists and not request.content.is_eof():
        # The body was left unread on purpose (no credentials, too large, no such route):
        # tell the client this connection ends with the answer, rather than read the rest.
        response.force_close()
    return response


def _as_rejection(exc: Exception) -> RejectedError:
    if isinstance(exc, RejectedError):
        return exc
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allow = ", ".join(sorted(exc.allowed_methods))
        return RejectedError(405, "method not allowed", headers={"Allow": allow})
    if isinstance(exc, web.HTTPException):
        text = "not found" if exc.status == 404 else (exc.reason or "error").lower()
        return RejectedError(exc.status, text)
    return RejectedError(500, "internal server error")


def intake_middleware(config: SandboxConfig, state: SandboxState) -> Middleware:
    """Check the path and the credentials before reading any byte of the body, then log it.

    Only ``/v1/Account/{auth_id}/...`` exists and it needs the configured Basic credentials.
    A request refused here (404, 401, 405, a path without its trailing slash) is logged
    without its body, which stays unread; an accepted one gets its params parsed once (query,
    JSON, form or multipart, see ``body``) for the routes.
    """
    expected_header = _basic_auth_header(config.auth_id, config.auth_token)

    @web.middleware
    async def intake(request: web.Request, handler: Handler) -> web.StreamResponse:
        query = dict(request.query)
        body: JsonDict | None = None
        uploads: list[UploadedFile] = []
        try:
            resource_path = _resource_path(request, expected_header, config)
            if request.method not in _BODYLESS_METHODS and request.body_exists:
                body, uploads = await read_params(request)
        finally:
            request[REQUEST_SEQUENCE] = state.request_log.record(
                request.method, request.path, query, body
            )
        request[RESOURCE_PATH] = resource_path
        request[PARAMS] = query if request.method in _BODYLESS_METHODS else (body or {})
        request[FILES] = uploads
        return await handler(request)

    return intake


async def continue_when_accepted(request: web.Request) -> None:
    """Answer ``Expect: 100-continue`` only if the body will be read: path and credentials right.

    Otherwise the client gets the final answer (401, 404, ...) without ever sending its body.
    Other expectations are ignored, as HTTP allows.
    """
    if request.version != HttpVersion11 or request.headers.get(hdrs.EXPECT, "").lower() != (
        "100-continue"
    ):
        return
    config = request.app[CONFIG_KEY]
    try:
        _resource_path(request, _basic_auth_header(config.auth_id, config.auth_token), config)
    except (RejectedError, web.HTTPException):
        return
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    # The interim answer is not the answer: errors may still be sent in full after it.
    request.writer.output_size = 0


def _resource_path(request: web.Request, expected_header: str, config: SandboxConfig) -> str:
    """The path below the account base, once path and credentials are right; reads no body."""
    path = request.path
    if not path.startswith(ACCOUNT_PREFIX):
        raise not_found()
    auth_id, _, resource_path = path[len(ACCOUNT_PREFIX) :].partition("/")
    if not _authorized(request.headers.get("Authorization", ""), expected_header, config):
        raise RejectedError(401, "authentication failed: check the Auth ID and the Auth Token")
    if auth_id != config.auth_id:
        raise RejectedError(401, "the Auth ID in the URL is not the one authenticated")
    if not path.endswith("/"):
        # Plivo's paths all end in "/"; like Plivo's web stack, redirect a GET, refuse the rest.
        if request.method == "GET":
            query = f"?{request.query_string}" if request.query_string else ""
            raise web.HTTPMovedPermanently(f"{request.rel_url.raw_path}/{query}")
        raise not_found()
    if request.match_info.http_exception is not None:
        # No such route (404) or not with this method (405): nothing to read the body for.
        raise request.match_info.http_exception
    return resource_path


def _basic_auth_header(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


def _authorized(header: str, expected: str, config: SandboxConfig) -> bool:
    """Whether an Authorization header carries the configured Auth ID and Auth Token."""
    if hmac.compare_digest(header.encode(), expected.encode()):
        return True
    # Slow path: a differently spelled scheme or base64 that still decodes to the same pair.
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    login, _, password = decoded.partition(":")
    return hmac.compare_digest(login.encode(), config.auth_id.encode()) and (
        hmac.compare_digest(password.encode(), config.auth_token.encode())
    )


# Set by the arrival count when the account's window was full: seconds until it has room.
OVER_LIMIT = web.RequestKey("sandbox_over_limit", float)


def rate_limit_middlewares(config: SandboxConfig) -> tuple[Middleware, Middleware]:
    """Plivo's account limit (429 ``{"error": "too many requests"}``), counted on *arrival*.

    Plivo counts a request when it reaches it, so the first layer (outermost) counts each
    authenticated account request as soon as its headers are in: reading the body, logging
    and routing come later and must not move it into another window. The second layer, in
    the usual place after the request log and auth, answers 429 for the ones counted over.
    Refused requests do not count.
    """
    assert config.rate_limit is not None
    limiter = SlidingWindowLimiter(*config.rate_limit)
    expected_header = _basic_auth_header(config.auth_id, config.auth_token)

    @web.middleware
    async def count_arrival(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        auth_id = path[len(ACCOUNT_PREFIX) :].partition("/")[0]
        header = request.headers.get("Authorization", "")
        if (
            path.startswith(ACCOUNT_PREFIX)
            and auth_id == config.auth_id
            and _authorized(header, expected_header, config)
        ):
            wait = limiter.acquire()
            if wait is not None:
                request[OVER_LIMIT] = wait
        return await handler(request)

    @web.middleware
    async def refuse_over_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        wait = request.get(OVER_LIMIT)
        if wait is not None:
            headers = (
                {"Retry-After": retry_after_value(wait)} if config.retry_after_header else None
            )
            raise RejectedError(429, "too many requests", headers=headers)
        return await handler(request)

    return count_arrival, refuse_over_limit


def faults_middleware(config: SandboxConfig, state: SandboxState) -> Middleware:
    """Inject the configured faults, deterministically by seed and request order."""
    injector = FaultInjector(config.faults)

    @web.middleware
    async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        kind = injector.draw(request.method, request[RESOURCE_PATH])
        if kind is None:
            return await handler(request)
        state.record_fault(request[REQUEST_SEQUENCE], request.method, request.path, str(kind))
        if isinstance(kind, int):
            raise RejectedError(kind, FAULT_ERROR_TEXT[kind])
        if kind == "reset":
            return drop_connection(request)
        try:
            response = await handler(request)
        except RejectedError as failure:
            response = error_response(failure)
        if kind == "reset_after":
            return drop_connection(request)
        await pause(request, config.faults.hold_seconds)
        return response

    return faults


def latency_middleware(config: SandboxConfig) -> Middleware:
    seconds = config.latency_ms / 1000

    @web.middleware
    async def latency(request: web.Request, handler: Handler) -> web.StreamResponse:
        await pause(request, seconds)
        return await handler(request)

    return latency


def build_middlewares(config: SandboxConfig, state: SandboxState) -> list[Middleware]:
    middlewares = [errors_middleware, intake_middleware(config, state)]
    if config.rate_limit is not None:
        count_arrival, refuse_over_limit = rate_limit_middlewares(config)
        middlewares.insert(0, count_arrival)
        middlewares.append(refuse_over_limit)
    if config.faults.rate > 0:
        middlewares.append(faults_middleware(config, state))
    if config.latency_ms > 0:
        middlewares.append(latency_middleware(config))
    return middlewares
