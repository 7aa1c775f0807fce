"""Sandbox test helpers: a running sandbox, an authenticated aiohttp session, the official SDK."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import plivo
import plivo.rest.client as plivo_rest_client
import pytest

from plivo_sandbox import Sandbox, SandboxConfig

T = TypeVar("T")

# Every base URI the SDK switches between (voice requests use their own, with fallbacks).
_SDK_BASE_URI_NAMES = (
    "PLIVO_API_BASE_URI",
    "API_VOICE_BASE_URI",
    "API_VOICE_BASE_URI_FALLBACK_1",
    "API_VOICE_BASE_URI_FALLBACK_2",
)


def basic_auth(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig()) as running:
        yield running


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    """A session authenticated against ``sandbox``, with its account URL as base."""
    header = basic_auth(sandbox.config.auth_id, sandbox.config.auth_token)
    async with aiohttp.ClientSession(headers={"Authorization": header}) as session:
        yield session


@pytest.fixture
def point_sdk_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[Sandbox], None]:
    """Make the official SDK talk to a sandbox instead of api.plivo.com."""

    def point(target: Sandbox) -> None:
        base = target.url + "Account"
        for name in _SDK_BASE_URI_NAMES:
            monkeypatch.setattr(plivo_rest_client, name, base)

    return point


@pytest.fixture
def run_sdk(
    sandbox: Sandbox, point_sdk_at: Callable[[Sandbox], None]
) -> Callable[[Callable[[Any], T]], Any]:
    """``await run_sdk(lambda client: client.messages.create(...))``: the SDK, in a thread."""
    point_sdk_at(sandbox)

    async def run(call: Callable[[Any], T]) -> T:
        def in_thread() -> T:
            with plivo.RestClient(sandbox.config.auth_id, sandbox.config.auth_token) as client:
                return call(client)

        return await asyncio.to_thread(in_thread)

    return run


@dataclass
class Reply:
    status: int
    body: Any  # parsed JSON, or None for an empty body
    raw: bytes
    headers: Mapping[str, str]


@dataclass
class Api:
    """Requests to one sandbox account, paths relative to the account base."""

    session: aiohttp.ClientSession
    base: str

    async def call(self, method: str, path: str, **kwargs: Any) -> Reply:
        async with self.session.request(method, self.base + path, **kwargs) as response:
            raw = await response.read()
            body = json.loads(raw) if raw else None
            return Reply(response.status, body, raw, dict(response.headers))

    async def get(self, path: str, **params: Any) -> Reply:
        return await self.call("GET", path, params=params)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Reply:
        return await self.call("POST", path, json=body or {})

    async def delete(self, path: str) -> Reply:
        return await self.call("DELETE", path)


@pytest.fixture
def api(sandbox: Sandbox, http: aiohttp.ClientSession) -> Api:
    return Api(http, sandbox.account_url)
