"""A stand-in for PlivoClient whose requests wait where the test says (engine and run tests)."""

from __future__ import annotations

import asyncio
from typing import Any

from plivo_node.core.api import ApiResponse, before_write
from plivo_node.core.errors import ServerError
from plivo_node.core.node import OperationContext


class GatedClient:
    """Stands in for PlivoClient: a request may wait at ``limiter`` (like the rate limiter),
    then calls the before-write hook as the transport does, is recorded as written, and may
    wait at ``server`` for its answer."""

    auth_id = "MASANDBOX00000000000"

    def __init__(self) -> None:
        self.limiter = asyncio.Event()
        self.server = asyncio.Event()
        self.written: list[int] = []
        self.waiting: list[int] = []

    async def request(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        body = kwargs.get("body") or kwargs.get("query") or {}
        if body.get("limited"):
            self.waiting.append(body["n"])
            await self.limiter.wait()
        if method != "GET":
            hook = before_write.get()
            marking = hook() if hook is not None else None
            if marking is not None:
                await marking
            self.written.append(body["n"])
        if body.get("slow"):
            await self.server.wait()
        if body.get("fail"):
            raise ServerError(status=500, method=method, path=path, error_text="boom")
        return ApiResponse(202, {"n": body["n"]})


async def sending(ctx: OperationContext) -> list[dict[str, Any]]:
    if ctx.params.get("read_first"):
        await ctx.client.request("GET", "Account/", query=dict(ctx.params))
    response = await ctx.client.request("POST", "Message/", body=dict(ctx.params))
    if ctx.params.get("twice"):
        await ctx.client.request("POST", "Message/", body=dict(ctx.params))
    return [response.body or {}]


async def settle(condition: Any) -> None:
    """Let the loop run until ``condition()`` holds (bounded: no timing involved)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the engine never reached the expected state")


async def bounded(task: asyncio.Task[None]) -> None:
    """Await ``task``, failing rather than hanging if the engine never lets it end."""
    async with asyncio.timeout(10):
        await task
