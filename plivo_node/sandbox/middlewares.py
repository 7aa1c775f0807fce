"""The layers every request passes through, outermost first:

(rate-limit count on arrival) → errors (Plivo's error body for anything raised) → recording
(parse params, log the request) → account (path, trailing slash, HTTP Basic auth) → rate limit
(429 for the requests counted over it) → faults → latency → the route.

The last three are only installed when configured, to keep the hot path short.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler, Middleware

from plivo_node.sandbox.config import SandboxConfig
from plivo_node.sandbox.faults import (
    FaultInjector,
    SlidingWindowLimiter,
    drop_connection,
    retry_after_value,
)
from plivo_node.sandbox.state import InjectedFault, JsonDict, RecordedRequest, SandboxState
from plivo_node.sandbox.wire import (
    FILES,
    PARAMS,
    RESOURCE_PATH,
    RejectedError,
    UploadedFile,
    error_response,
    not_found,
    pause,
)

logger = logging.getLogger(__name__)

ACCOUNT_PREFIX = "/v1/Account/"
MAX_UPLOAD_FILES = 10
MAX_UPLOAD_BYTES = 2 * 1024 * 1024

# Body fields never kept in the request log (endpoint passwords, subaccount tokens).
_SECRET_FIELDS = frozenset({"password", "auth_token"})
SECRET_MASK = "********"  # noqa: S105 - the mask itself, not a secret

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
    except RejectedError as failure:
        return error_response(failure)
    except web.HTTPMethodNotAllowed as exc:
        allow = ", ".join(sorted(exc.allowed_methods))
        return error_response(RejectedError(405, "method not allowed", headers={"Allow": allow}))
    except web.HTTPRedirection:
        raise
    except web.HTTPException as exc:
        text = "not found" if exc.status == 404 else (exc.reason or "error").lower()
        return error_response(RejectedError(exc.status, text))
    except Exception:
        logger.exception("sandbox route failed on %s %s", request.method, request.path)
        return error_response(RejectedError(500, "internal server error"))


def recording_middleware(state: SandboxState) -> Middleware:
    """Parse the request's params once (query, JSON, form or multipart) and log the request."""

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        query = dict(request.query)
        body: JsonDict | None = None
        failure: RejectedError | None = None
        uploads: list[UploadedFile] = []
        if request.method != "GET" and request.body_exists:
            try:
                body, uploads = await _read_body(request)
            except RejectedError as exc:
                failure = exc
        logged = _masked(body) if body and not _SECRET_FIELDS.isdisjoint(body) else body
        state.request_log.append(RecordedRequest(request.method, request.path, query, logged))
        if failure is not None:
            raise failure
        request[PARAMS] = query if request.method == "GET" else (body or {})
        request[FILES] = uploads
        return await handler(request)

    return record


def _masked(body: JsonDict) -> JsonDict:
    """The body as logged: secrets replaced by a mask (their presence stays visible)."""
    return {key: SECRET_MASK if key in _SECRET_FIELDS else value for key, value in body.items()}


async def _read_body(request: web.Request) -> tuple[JsonDict, list[UploadedFile]]:
    content_type = request.content_type
    try:
        if content_type == "multipart/form-data":
            return await _read_multipart(request)
        if content_type == "application/x-www-form-urlencoded":
            return await _read_form(request), []
    except (ValueError, HttpProcessingError):
        # No boundary, broken part headers, text that is not UTF-8: the client's fault, not ours.
        raise RejectedError(400, f"the request body is not valid {content_type}") from None
    raw = await request.read()
    if not raw.strip():
        return {}, []
    try:
        parsed: Any = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise RejectedError(400, "the request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise RejectedError(400, "the request body must be a JSON object")
    return parsed, []


async def _read_form(request: web.Request) -> JsonDict:
    """Form fields: a repeated key becomes a list, any other keeps its one value."""
    form = await request.post()
    values: JsonDict = {}
    for key in dict.fromkeys(form.keys()):
        entries = [str(entry) for entry in form.getall(key)]
        values[key] = entries[0] if len(entries) == 1 else entries
    return values


async def _read_multipart(request: web.Request) -> tuple[JsonDict, list[UploadedFile]]:
    fields: JsonDict = {}
    uploads: list[UploadedFile] = []
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise RejectedError(400, "nested multipart bodies are not supported")
        if part.filename is None:
            fields[part.name or ""] = await part.text()
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
        content_type = part.headers.get("Content-Type", "application/octet-stream")
        uploads.append(UploadedFile(part.filename, content_type, size))
    return fields, uploads


def account_middleware(config: SandboxConfig) -> Middleware:
    """Only ``/v1/Account/{auth_id}/...`` exists; it needs the configured Basic credentials."""
    expected_header = _basic_auth_header(config.auth_id, config.auth_token)

    @web.middleware
    async def account(request: web.Request, handler: Handler) -> web.StreamResponse:
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
        request[RESOURCE_PATH] = resource_path
        return await handler(request)

    return account


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
        state.fault_log.append(
            InjectedFault(len(state.request_log) - 1, request.method, request.path, str(kind))
        )
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
    middlewares = [errors_middleware, recording_middleware(state), account_middleware(config)]
    if config.rate_limit is not None:
        count_arrival, refuse_over_limit = rate_limit_middlewares(config)
        middlewares.insert(0, count_arrival)
        middlewares.append(refuse_over_limit)
    if config.faults.rate > 0:
        middlewares.append(faults_middleware(config, state))
    if config.latency_ms > 0:
        middlewares.append(latency_middleware(config))
    return middlewares
