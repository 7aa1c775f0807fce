"""PlivoClient against real loopback servers: wire format, error table, failures, retries."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from plivo_node.core.api import UploadFile
from plivo_node.core.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConnectionFailedError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    PlivoNodeError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    UnknownOutcomeError,
)
from plivo_node.http.limiter import RateLimiter
from plivo_node.http.retry import RetryPolicy
from plivo_node.nodes.plivo.client import PlivoClient
from plivo_node.nodes.plivo.credentials import Credentials
from plivo_node.nodes.plivo.credentials import test_credentials as check_live

AUTH_ID = "MAXXXXXXXXXXXXXXXXX1"
TOKEN = "Zm9vYmFyYmF6cXV4c2VjcmV0dG9rZW4xMjM0NTY3"
ACCOUNT = f"/v1/Account/{AUTH_ID}/"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    raw_path: str
    headers: dict[str, str]
    body: bytes = b""
    parts: list[dict[str, Any]] = field(default_factory=list)


Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Recorder:
    """A Plivo stand-in: records every request and plays scripted answers (then 200s)."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.answers: list[tuple[int, Any, dict[str, str]]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        seen = Seen(
            request.method,
            request.path,
            dict(request.query),
            request.raw_path,
            dict(request.headers),
        )
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                assert isinstance(part, aiohttp.BodyPartReader)
                seen.parts.append(
                    {
                        "name": part.name,
                        "filename": part.filename,
                        "content_type": part.headers.get("Content-Type"),
                        "data": await part.read(),
                    }
                )
        else:
            seen.body = await request.read()
        self.seen.append(seen)
        status, body, headers = self.answers.pop(0) if self.answers else (200, {"api_id": "ok"}, {})
        if status == 204:
            return web.Response(status=204, headers=headers)
        if isinstance(body, str):
            return web.Response(status=status, text=body, headers=headers)
        return web.json_response(body, status=status, headers=headers)


@pytest.fixture
async def plivo() -> AsyncIterator[tuple[Recorder, str]]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        yield recorder, f"http://127.0.0.1:{server.port}/v1/"


def client_for(
    base_url: str,
    *,
    policy: RetryPolicy | None = None,
    limiter: RateLimiter | None = None,
    timeout: float = 5.0,
) -> PlivoClient:
    return PlivoClient(
        Credentials(AUTH_ID, TOKEN, base_url),
        rate_limiter=limiter or RateLimiter(None),
        retry_policy=policy or RetryPolicy(backoff=False),
        timeout=timeout,
    )


def raw_texts(error: PlivoNodeError) -> list[str]:
    """The error's texts before redaction: the token must not be there in the first place."""
    return [error.message, error.hint or "", repr(error.args), json.dumps(error.to_dict())]


# --- wire format ---------------------------------------------------------------------------


async def test_get_sends_query_auth_and_headers(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    recorder.answers.append((200, {"api_id": "a1", "objects": []}, {}))
    async with client_for(base) as client:
        response = await client.request(
            "GET",
            "Message/",
            query={"limit": 20, "offset": 0, "subaccount": True, "x": None, "ids": ["a", "b"]},
        )
    assert response.status == 200
    assert response.body == {"api_id": "a1", "objects": []}
    [seen] = recorder.seen
    assert (seen.method, seen.path) == ("GET", f"{ACCOUNT}Message/")
    assert seen.query == {"limit": "20", "offset": "0", "subaccount": "true", "ids": "a,b"}
    scheme, _, encoded = seen.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"{AUTH_ID}:{TOKEN}"
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["User-Agent"].startswith("plivo-node/")
    assert "(Python 3." in seen.headers["User-Agent"]
    assert seen.body == b""


async def test_account_path_is_the_account_itself(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    async with client_for(base) as client:
        await client.request("GET", "")
    assert recorder.seen[0].path == ACCOUNT


async def test_post_sends_json(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    recorder.answers.append((202, {"api_id": "a2", "message_uuid": ["u1"]}, {}))
    body = {"src": "+14155550100", "dst": "+14155550101", "text": "hé", "media_urls": ["x"]}
    async with client_for(base) as client:
        response = await client.request("POST", "Message/", body=body)
    assert response.status == 202
    assert response.body == {"api_id": "a2", "message_uuid": ["u1"]}
    [seen] = recorder.seen
    assert (seen.method, seen.path) == ("POST", f"{ACCOUNT}Message/")
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == body


async def test_post_without_body_sends_an_empty_object(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    async with client_for(base) as client:
        await client.request("POST", "Call/abc/Record/")
    assert json.loads(recorder.seen[0].body) == {}


async def test_delete_with_and_without_body(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    recorder.answers += [(204, None, {}), (204, None, {})]
    async with client_for(base) as client:
        with_body = await client.request("DELETE", "Application/42/", body={"app_id": "42"})
        without = await client.request("DELETE", "Endpoint/7/")
    assert with_body.status == 204
    assert with_body.body is None
    assert without.body is None
    first, second = recorder.seen
    assert (first.method, first.path) == ("DELETE", f"{ACCOUNT}Application/42/")
    assert json.loads(first.body) == {"app_id": "42"}
    assert first.headers["Content-Type"] == "application/json"
    assert second.body == b""
    assert "Content-Type" not in second.headers


async def test_multipart_upload_has_one_file_part_per_file(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    files = [
        UploadFile("a.png", "image/png", b"\x89PNG-a"),
        UploadFile("b.gif", "image/gif", b"GIF89a-b"),
    ]
    async with client_for(base) as client:
        await client.request("POST", "Media/", files=files, body={"note": "x"})
    [seen] = recorder.seen
    assert seen.path == f"{ACCOUNT}Media/"
    assert seen.headers["Content-Type"].startswith("multipart/form-data")
    assert [(p["name"], p["filename"]) for p in seen.parts] == [
        ("note", None),
        ("file", "a.png"),
        ("file", "b.gif"),
    ]
    assert seen.parts[1]["content_type"] == "image/png"
    assert seen.parts[1]["data"] == b"\x89PNG-a"
    assert seen.parts[2]["data"] == b"GIF89a-b"


async def test_multipart_is_rebuilt_for_a_retry(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    recorder.answers.append((429, {"api_id": "r", "error": "slow down"}, {}))
    files = [UploadFile("a.png", "image/png", b"PNGDATA")]
    async with client_for(base) as client:
        response = await client.request("POST", "Media/", files=files)
    assert response.status == 200
    assert [s.parts[0]["data"] for s in recorder.seen] == [b"PNGDATA", b"PNGDATA"]


async def test_spaces_in_paths_are_escaped(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    async with client_for(base) as client:
        await client.request("GET", "Conference/my room/")
    assert recorder.seen[0].raw_path == f"{ACCOUNT}Conference/my%20room/"


# --- error statuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls", "code"),
    [
        (400, BadRequestError, "bad_request"),
        (401, AuthenticationError, "authentication_failed"),
        (403, ForbiddenError, "forbidden"),
        (404, NotFoundError, "not_found"),
        (405, InvalidRequestError, "invalid_request"),
        (409, InvalidRequestError, "invalid_request"),
        (422, InvalidRequestError, "invalid_request"),
        (429, RateLimitedError, "rate_limited"),
        (500, ServerError, "server_error"),
        (502, ServerError, "server_error"),
        (503, ServerError, "server_error"),
    ],
)
async def test_status_table(
    plivo: tuple[Recorder, str], status: int, cls: type[ApiError], code: str
) -> None:
    recorder, base = plivo
    recorder.answers.append((status, {"api_id": "id-9", "error": f"text {status}"}, {}))
    async with client_for(base, policy=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(ApiError) as caught:
            await client.request("GET", "Application/1/")
    error = caught.value
    assert type(error) is cls
    assert error.code == code
    assert error.status == status
    assert error.api_id == "id-9"
    assert error.error_text == f"text {status}"
    assert (error.method, error.path) == ("GET", "Application/1/")
    assert error.to_dict()["httpCode"] == status
    for text in raw_texts(error):
        assert TOKEN not in text


async def test_error_message_field_and_structured_errors(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    recorder.answers += [
        (404, {"api_id": "l1", "error_code": 404, "message": "no such number"}, {}),
        (400, {"api_id": "v1", "error": {"dst": ["is required"]}}, {}),
        (502, "<html>bad gateway</html>", {}),
    ]
    policy = RetryPolicy(max_attempts=1)
    async with client_for(base, policy=policy) as client:
        with pytest.raises(NotFoundError) as missing:
            await client.request("GET", "Number/1/")
        with pytest.raises(BadRequestError) as invalid:
            await client.request("POST", "Message/", body={})
        with pytest.raises(ServerError) as gateway:
            await client.request("GET", "")
    assert missing.value.error_text == "no such number"
    assert invalid.value.error_text == '{"dst": ["is required"]}'
    assert gateway.value.api_id is None


async def test_204_is_none_and_empty_200_is_none(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    recorder.answers += [(204, None, {}), (200, "", {})]
    async with client_for(base) as client:
        assert (await client.request("DELETE", "Application/1/")).body is None
        assert (await client.request("GET", "")).body is None


async def test_non_json_success_is_a_clear_error(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    recorder.answers += [(200, "<html>hello</html>", {}), (202, "[1, 2]", {})]
    async with client_for(base) as client:
        with pytest.raises(ApiError, match="Expected a JSON object") as caught:
            await client.request("GET", "")
        with pytest.raises(UnknownOutcomeError, match="may or may not have been sent"):
            await client.request("POST", "Message/", body={"text": "hi"})
    assert "text/" in caught.value.message
    assert "PLIVO_API_URL" in (caught.value.hint or "")
    assert len(recorder.seen) == 2  # neither was retried


# --- connection failures and timeouts ------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RawServer:
    """A TCP server that reads one request, then hangs up or stays silent."""

    def __init__(self, *, hang_up: bool) -> None:
        self.hang_up = hang_up
        self.requests = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1/"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await reader.readexactly(length)
        self.requests += 1
        if self.hang_up:
            writer.close()


async def test_connection_refused_is_not_sent() -> None:
    base = f"http://127.0.0.1:{closed_port()}/v1/"
    async with client_for(base, policy=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(ConnectionFailedError) as caught:
            await client.request("POST", "Message/", body={"text": "hi"})
    error = caught.value
    assert error.request_sent is False
    assert error.code == "connection_error"
    assert "Could not connect to 127.0.0.1" in error.message
    assert "PLIVO_API_URL" in (error.hint or "")
    assert isinstance(error.__cause__, aiohttp.ClientConnectorError)
    for text in raw_texts(error):
        assert TOKEN not in text


async def test_refused_send_is_retried_then_reported_as_not_sent() -> None:
    base = f"http://127.0.0.1:{closed_port()}/v1/"
    limiter = RateLimiter(None)  # asked once per attempt: counts them
    policy = RetryPolicy(max_attempts=3, backoff=False)
    async with client_for(base, policy=policy, limiter=limiter) as client:
        with pytest.raises(ConnectionFailedError):  # not UnknownOutcomeError: nothing was sent
            await client.request("POST", "Message/", body={"text": "hi"})
    assert limiter.acquired == 3


async def test_hang_up_after_reading_the_request_may_have_been_sent() -> None:
    async with (
        RawServer(hang_up=True) as base,
        client_for(base, policy=RetryPolicy(max_attempts=1)) as client,
    ):
        with pytest.raises(ConnectionFailedError) as caught:
            await client.request("GET", "Message/")
    assert caught.value.request_sent is True
    assert caught.value.code == "connection_error"
    assert "may have been received" in caught.value.message


async def test_send_dropped_after_writing_is_an_unknown_outcome_and_not_resent() -> None:
    server = RawServer(hang_up=True)
    async with (
        server as base,
        client_for(base, policy=RetryPolicy(max_attempts=5)) as client,
    ):
        with pytest.raises(UnknownOutcomeError) as caught:
            await client.request("POST", "Message/", body={"text": "hi"})
    assert server.requests == 1
    assert caught.value.code == "unknown_outcome"
    assert "may or may not have been sent" in caught.value.message
    assert isinstance(caught.value.__cause__, ConnectionFailedError)


async def test_read_timeout_may_have_been_sent() -> None:
    async with (
        RawServer(hang_up=False) as base,
        client_for(base, policy=RetryPolicy(max_attempts=1), timeout=0.2) as client,
    ):
        with pytest.raises(RequestTimeoutError) as caught:
            await client.request("GET", "Message/")
    assert caught.value.request_sent is True
    assert caught.value.code == "timeout"


async def test_send_that_timed_out_is_an_unknown_outcome() -> None:
    server = RawServer(hang_up=False)
    async with (
        server as base,
        client_for(base, policy=RetryPolicy(max_attempts=5), timeout=0.2) as client,
    ):
        with pytest.raises(UnknownOutcomeError) as caught:
            await client.request("POST", "Call/", body={"to": "+14155550101"})
    assert server.requests == 1
    assert "call may or may not have been sent" in caught.value.message.lower()
    assert isinstance(caught.value.__cause__, RequestTimeoutError)


@pytest.mark.parametrize(
    ("exc", "cls", "sent"),
    [
        (aiohttp.ConnectionTimeoutError("connect"), RequestTimeoutError, False),
        (aiohttp.SocketTimeoutError("read"), RequestTimeoutError, True),
        (TimeoutError(), RequestTimeoutError, True),
        (aiohttp.ServerDisconnectedError(), ConnectionFailedError, True),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), ConnectionFailedError, True),
        (aiohttp.ClientPayloadError("truncated"), ConnectionFailedError, True),
        (aiohttp.InvalidURL("http://bad"), ConnectionFailedError, False),
    ],
)
def test_foreign_exception_mapping(exc: Exception, cls: type[Exception], sent: bool) -> None:
    client = client_for("http://127.0.0.1:9/v1/")
    error = client._transport_error(exc, "GET", "Message/")
    assert type(error) is cls
    assert error.request_sent is sent
    assert error.hint


# --- retries through the transport ---------------------------------------------------------


class RecordingLimiter(RateLimiter):
    def __init__(self) -> None:
        super().__init__(None)
        self.slow_downs: list[float | None] = []

    def slow_down(self, retry_after: float | None = None) -> float:
        self.slow_downs.append(retry_after)
        return 0.0


async def test_429_is_retried_and_retry_after_reaches_the_limiter(
    plivo: tuple[Recorder, str],
) -> None:
    recorder, base = plivo
    recorder.answers += [
        (429, {"api_id": "r1", "error": "too many"}, {"Retry-After": "7"}),
        (202, {"api_id": "ok", "message_uuid": ["u"]}, {}),
    ]
    limiter = RecordingLimiter()
    async with client_for(base, limiter=limiter) as client:
        response = await client.request("POST", "Message/", body={"text": "hi"})
    assert response.status == 202
    assert len(recorder.seen) == 2
    assert limiter.slow_downs == [7.0]


async def test_retry_after_http_date_is_understood(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    recorder.answers.append(
        (429, {"api_id": "r"}, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    )
    async with client_for(base, policy=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(RateLimitedError) as caught:
            await client.request("GET", "")
    assert caught.value.retry_after == 0.0  # a date in the past: no wait


@pytest.mark.parametrize("header", ["nan", "inf", "soon"])
async def test_unusable_retry_after_is_ignored(plivo: tuple[Recorder, str], header: str) -> None:
    # "nan" used to pass through as a float and make the retry sleep forever.
    recorder, base = plivo
    recorder.answers.append((429, {"api_id": "r"}, {"Retry-After": header}))
    async with client_for(base, policy=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(RateLimitedError) as caught:
            await client.request("GET", "")
    assert caught.value.retry_after is None


async def test_read_is_retried_on_5xx(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    recorder.answers += [(503, {"api_id": "x"}, {}), (500, {"api_id": "y"}, {})]
    async with client_for(base) as client:
        response = await client.request("GET", "Call/abc/")
    assert response.status == 200
    assert len(recorder.seen) == 3


async def test_send_is_not_resent_after_5xx(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    recorder.answers.append((500, {"api_id": "x", "error": "oops"}, {}))
    async with client_for(base) as client:
        with pytest.raises(UnknownOutcomeError) as caught:
            await client.request("POST", "Message/", body={"text": "hi"})
    assert len(recorder.seen) == 1
    assert isinstance(caught.value.__cause__, ServerError)


async def test_other_write_reports_5xx_as_it_is(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    recorder.answers.append((500, {"api_id": "x"}, {}))
    async with client_for(base) as client:
        with pytest.raises(ServerError):
            await client.request("POST", "Application/", body={"app_name": "a"})
    assert len(recorder.seen) == 1


async def test_retry_unknown_sends_opt_in(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    recorder.answers += [(500, {"api_id": "x"}, {}), (500, {"api_id": "x"}, {})]
    policy = RetryPolicy(max_attempts=2, backoff=False, retry_unknown_sends=True)
    async with client_for(base, policy=policy) as client:
        with pytest.raises(UnknownOutcomeError):
            await client.request("POST", "Message/", body={"text": "hi"})
        response = await client.request("POST", "Message/", body={"text": "again"})
    assert response.status == 200
    assert len(recorder.seen) == 3


async def test_opted_in_retry_that_then_fails_still_reports_an_unknown_outcome(
    plivo: tuple[Recorder, str],
) -> None:
    recorder, base = plivo
    recorder.answers += [(503, {"api_id": "x"}, {}), (400, {"api_id": "y", "error": "bad"}, {})]
    policy = RetryPolicy(max_attempts=3, backoff=False, retry_unknown_sends=True)
    async with client_for(base, policy=policy) as client:
        with pytest.raises(UnknownOutcomeError) as caught:
            await client.request("POST", "Message/", body={"text": "hi"})
    assert len(recorder.seen) == 2  # the first attempt may have sent it: not a plain 400
    assert isinstance(caught.value.__cause__, BadRequestError)


async def test_limiter_is_asked_before_every_request(plivo: tuple[Recorder, str]) -> None:
    _, base = plivo
    limiter = RateLimiter(None)
    async with client_for(base, limiter=limiter) as client:
        for _ in range(3):
            await client.request("GET", "")
    assert limiter.acquired == 3


async def test_the_rate_slot_is_held_while_the_server_handles_the_request() -> None:
    limiter = RateLimiter((10, 60.0))
    seen_in_flight: list[int] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        seen_in_flight.append(limiter.in_flight)
        if request.method == "GET":
            return web.json_response({"api_id": "x", "error": "boom"}, status=500)
        return web.json_response({"api_id": "ok", "message_uuid": ["u"]}, status=202)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with TestServer(app, host="127.0.0.1") as server:
        base = f"http://127.0.0.1:{server.port}/v1/"
        policy = RetryPolicy(backoff=False, max_attempts=2)
        async with client_for(base, limiter=limiter, policy=policy) as client:
            await client.request("POST", "Message/", body={"text": "hi"})
            with pytest.raises(ServerError):
                await client.request("GET", "")
    # Counted while the server worked on it, released once the answer (or the error) was in.
    assert seen_in_flight == [1, 1, 1]
    assert limiter.in_flight == 0
    assert limiter.held == 3  # each attempt stays in the window for 60 s after its answer


async def test_a_failed_connection_releases_its_rate_slot() -> None:
    limiter = RateLimiter((10, 60.0))
    policy = RetryPolicy(backoff=False, max_attempts=3)
    async with client_for(
        f"http://127.0.0.1:{closed_port()}/v1/", limiter=limiter, policy=policy
    ) as client:
        with pytest.raises(ConnectionFailedError):
            await client.request("GET", "")
    assert limiter.in_flight == 0
    assert limiter.held == 3


async def test_a_stray_429_under_a_known_rate_retries_that_request_without_pausing_others(
    plivo: tuple[Recorder, str],
) -> None:
    recorder, base = plivo
    recorder.answers.append((429, {"api_id": "r", "error": "too many requests"}, {}))
    limiter = RateLimiter((100, 5.0))
    async with client_for(base, limiter=limiter) as client:
        await asyncio.gather(*(client.request("GET", "") for _ in range(5)))
    assert len(recorder.seen) == 6
    assert limiter.paused_until == 0.0  # nobody else waited for the rejected one


# --- lifecycle and the live credentials test ----------------------------------------------


async def test_no_limiter_means_no_client_side_rate_but_429s_still_pause(
    plivo: tuple[Recorder, str],
) -> None:
    recorder, base = plivo
    recorder.answers.append((429, {"api_id": "r"}, {"Retry-After": "0"}))
    credentials = Credentials(AUTH_ID, TOKEN, base)
    async with PlivoClient(credentials, retry_policy=RetryPolicy(backoff=False)) as client:
        for _ in range(3):
            await client.request("GET", "")
        assert client._limiter.rate is None
        assert client._limiter.paused_until > 0
    assert len(recorder.seen) == 4


async def test_request_outside_async_with_is_refused() -> None:
    client = client_for("http://127.0.0.1:9/v1/")
    with pytest.raises(RuntimeError, match="async with"):
        await client.request("GET", "")


async def test_injected_session_is_used_and_left_open(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    async with aiohttp.ClientSession() as session:
        client = PlivoClient(
            Credentials(AUTH_ID, TOKEN, base), rate_limiter=RateLimiter(None), session=session
        )
        async with client:
            await client.request("GET", "")
        assert not session.closed
    assert len(recorder.seen) == 1


async def test_live_credentials_test_against_a_server(plivo: tuple[Recorder, str]) -> None:
    recorder, base = plivo
    recorder.answers += [
        (200, {"api_id": "a", "name": "Acme", "auth_id": AUTH_ID}, {}),
        (401, {"api_id": "b", "error": "authentication failed"}, {}),
    ]
    async with client_for(base) as client:
        assert await check_live(client, AUTH_ID) == (True, f"OK: account Acme ({AUTH_ID})")
        ok, reason = await check_live(client, AUTH_ID)
    assert not ok
    assert "Authentication failed" in reason
    assert TOKEN not in reason
