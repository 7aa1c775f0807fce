"""The baselines: (b) raw aiohttp at the same concurrency, (c) one request at a time.

Both post the same JSON bodies with the same Basic auth as plivo-node, and do nothing else:
no parameter resolution, no validation, no journal, no output file. (b) is the ceiling of
what a Python asyncio client can push through this server; (c) is the n8n Plivo node's
approach (a loop that awaits each item's request before starting the next).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator

import aiohttp
from sandbox_process import RunningSandbox
from workload import wire_bodies


def _headers(sandbox: RunningSandbox) -> dict[str, str]:
    token = base64.b64encode(f"{sandbox.auth_id}:{sandbox.auth_token}".encode()).decode()
    return {
        "Authorization": f"Basic {token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> None:
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        if response.status != 202:
            raise RuntimeError(f"sandbox answered {response.status}")


async def _concurrent(sandbox: RunningSandbox, count: int, concurrency: int) -> float:
    headers = _headers(sandbox)
    bodies: Iterator[bytes] = wire_bodies(count)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            # Workers share one iterator: the bodies are built as they are sent, like (a).
            for body in bodies:
                await _post(session, sandbox.message_url, body, headers)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


async def _sequential(sandbox: RunningSandbox, count: int) -> float:
    headers = _headers(sandbox)
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        for body in wire_bodies(count):
            await _post(session, sandbox.message_url, body, headers)
        return time.perf_counter() - started


def run_raw_concurrent(sandbox: RunningSandbox, count: int, concurrency: int) -> float:
    """Seconds (b) takes to send ``count`` messages."""
    return asyncio.run(_concurrent(sandbox, count, concurrency))


def run_sequential(sandbox: RunningSandbox, count: int) -> float:
    """Seconds (c) takes to send ``count`` messages."""
    return asyncio.run(_sequential(sandbox, count))
