"""A recording fake Plivo on 127.0.0.1, and the real PlivoClient pointed at it.

The fake answers every request under ``/v1/Account/{auth_id}/`` with the canned answer a test
set for that method and path (404 otherwise), and records what arrived: method, path
(relative to the account base, URL-decoded), query, JSON body and multipart parts.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from plivo_node.core.items import BinaryData, Item, JsonObject
from plivo_node.core.node import Handler, OperationContext
from plivo_node.nodes.plivo.client import PlivoClient
from plivo_node.nodes.plivo.credentials import Credentials

AUTH_ID = "MAXXXXXXXXXXXXXXXXXX"
AUTH_TOKEN = "fake-auth-token-for-tests"
API_ID = "97ceeb52-58b6-11e1-86da-77300b68f8bb"


@dataclass(frozen=True)
class RecordedPart:
    name: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    raw_path: str
    query: dict[str, str]
    json: Any
    parts: list[RecordedPart] = field(default_factory=list)


@dataclass(frozen=True)
class CannedReply:
    status: int
    body: Any


class FakePlivo:
    """Canned answers per (method, path), and every request that arrived, in order."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._replies: dict[tuple[str, str], deque[CannedReply]] = {}
        self._responders: dict[tuple[str, str], Callable[[RecordedRequest], CannedReply]] = {}
        self.base_url = ""

    def reply(self, method: str, path: str, body: Any = None, *, status: int = 200) -> None:
        """Answer ``method path`` with ``body``; several calls queue answers, the last repeats."""
        self._replies.setdefault((method, path), deque()).append(CannedReply(status, body))

    def respond(
        self, method: str, path: str, responder: Callable[[RecordedRequest], CannedReply]
    ) -> None:
        """Answer ``method path`` by calling ``responder`` with the recorded request."""
        self._responders[(method, path)] = responder

    def paged(self, path: str, objects: Sequence[JsonObject]) -> None:
        """Serve ``objects`` at ``GET path`` through Plivo's limit/offset envelope."""

        def page(request: RecordedRequest) -> CannedReply:
            limit = int(request.query.get("limit", "20"))
            offset = int(request.query.get("offset", "0"))
            chunk = list(objects[offset : offset + limit])
            meta = {"limit": limit, "offset": offset, "total_count": len(objects)}
            return CannedReply(200, {"api_id": API_ID, "meta": meta, "objects": chunk})

        self.respond("GET", path, page)

    async def handle(self, request: web.Request) -> web.Response:
        tail = request.match_info["tail"]
        prefix = f"/v1/Account/{request.match_info['auth_id']}/"
        body: Any = None
        parts: list[RecordedPart] = []
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                assert isinstance(part, aiohttp.BodyPartReader)
                parts.append(
                    RecordedPart(
                        name=part.name or "",
                        filename=part.filename,
                        content_type=part.headers.get("Content-Type", ""),
                        data=bytes(await part.read()),
                    )
                )
        elif request.can_read_body:
            body = json.loads(await request.text())
        recorded = RecordedRequest(
            method=request.method,
            path=tail,
            raw_path=request.raw_path.removeprefix(prefix).split("?", 1)[0],
            query=dict(request.query),
            json=body,
            parts=parts,
        )
        self.requests.append(recorded)
        key = (request.method, tail)
        if key in self._responders:
            reply = self._responders[key](recorded)
        elif key in self._replies:
            queue = self._replies[key]
            reply = queue.popleft() if len(queue) > 1 else queue[0]
        else:
            reply = CannedReply(404, {"api_id": API_ID, "error": "not found"})
        if reply.status == 204:
            return web.Response(status=204)
        return web.json_response(reply.body, status=reply.status)


@pytest.fixture
async def plivo() -> AsyncIterator[FakePlivo]:
    fake = FakePlivo()
    app = web.Application()
    app.router.add_route("*", "/v1/Account/{auth_id}/{tail:.*}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    fake.base_url = f"http://{host}:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def client(plivo: FakePlivo) -> AsyncIterator[PlivoClient]:
    """The real transport, pointed at the fake (no client-side rate limit, default retries)."""
    credentials = Credentials(AUTH_ID, AUTH_TOKEN, f"{plivo.base_url}/v1/")
    async with PlivoClient(credentials, concurrency=4, timeout=10.0) as api:
        yield api


Runner = Callable[..., Awaitable[list[JsonObject]]]


@pytest.fixture
def run(client: PlivoClient) -> Runner:
    """``await run(handler, params, binary=...)``: one handler call on one item."""

    async def run_handler(
        handler: Handler,
        params: Mapping[str, Any],
        *,
        binary: Mapping[str, BinaryData] | None = None,
    ) -> list[JsonObject]:
        item = Item(json={}, binary=dict(binary or {}))
        ctx = OperationContext(params=dict(params), item=item, item_index=0, client=client)
        return await handler(ctx)

    return run_handler
