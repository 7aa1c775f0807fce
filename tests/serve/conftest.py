"""Helpers for `plivo-node serve` tests: a serve subprocess against a test-owned sandbox, and
Plivo-style signed callbacks."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from plivo_node.nodes.plivo.signatures import v2_signature, v3_signature
from plivo_sandbox import Sandbox, SandboxConfig

AUTH_ID = "MATESTACCOUNT0000001"
AUTH_TOKEN = "serve-test-token-never-printed-0001"
OUR_NUMBER = "14155550100"  # one of the sandbox's seeded numbers

AUTO_REPLY = """
version: 1
settings: {{rateLimit: false, concurrency: 20, timeoutSeconds: 5}}
steps:
  - name: Inbound
    node: plivoTrigger
    parameters:
      events: {events}
      path: {path}
  - name: Reply
    node: plivo
    onError: continueRegularOutput
    parameters:
      resource: sms
      operation: send
      from: "={{{{ $json.To }}}}"
      to: "={{{{ $json.From }}}}"
      message: "=re {{{{ $json.MessageUUID }}}}"
"""


def auto_reply(tmp_path: Path, *, events: str = "[inboundMessage]", path: str = "sms") -> Path:
    pipeline = tmp_path / f"{path}.yaml"
    pipeline.write_text(AUTO_REPLY.format(events=events, path=path), encoding="utf-8")
    return pipeline


def nonce() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(20))


def inbound(uuid: str, sender: str = "14155559000", text: str = "hello") -> dict[str, str]:
    return {"From": sender, "To": OUR_NUMBER, "Text": text, "MessageUUID": uuid, "Type": "sms"}


def v2_headers(url: str, token: str = AUTH_TOKEN, the_nonce: str | None = None) -> dict[str, str]:
    used = the_nonce or nonce()
    return {
        "X-Plivo-Signature-V2": v2_signature(token, url, used),
        "X-Plivo-Signature-V2-Nonce": used,
    }


def v3_headers(url: str, params: Mapping[str, str], token: str = AUTH_TOKEN) -> dict[str, str]:
    used = nonce()
    listed = {key: [value] for key, value in params.items()}
    return {
        "X-Plivo-Signature-V3": v3_signature(token, "POST", url, listed, used),
        "X-Plivo-Signature-V3-Nonce": used,
    }


@dataclass
class Serve:
    process: asyncio.subprocess.Process
    urls: dict[str, str]  # webhook path -> URL
    state_dir: Path
    local: str  # http://127.0.0.1:PORT
    stderr: bytes = b""

    def output(self, path: str = "sms") -> list[dict[str, Any]]:
        file = self.state_dir / "serve" / "output" / f"{path}.jsonl"
        if not file.exists():
            return []
        return [json.loads(line) for line in file.read_text("utf-8").splitlines()]

    async def wait_output(self, count: int, path: str = "sms") -> None:
        async with asyncio.timeout(60):
            while len(self.output(path)) < count:  # noqa: ASYNC110 - another process writes it
                await asyncio.sleep(0.02)

    async def stop(self, sig: int = signal.SIGINT) -> int:
        if self.process.returncode is None:
            self.process.send_signal(sig)
        async with asyncio.timeout(30):
            _out, err = await self.process.communicate()
        self.stderr += err
        assert self.process.returncode is not None
        return self.process.returncode


def serve_env(sandbox: Sandbox, state_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PLIVO_AUTH_ID": sandbox.config.auth_id,
        "PLIVO_AUTH_TOKEN": sandbox.config.auth_token,
        "PLIVO_API_URL": sandbox.url,
        "PLIVO_NODE_STATE_DIR": str(state_dir),
    }


async def start_serve(
    sandbox: Sandbox, state_dir: Path, *pipelines: Path, args: tuple[str, ...] = ()
) -> Serve:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "plivo_node.cli",
        "serve",
        *map(str, pipelines),
        "--port",
        "0",
        *args,
        env=serve_env(sandbox, state_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    urls: dict[str, str] = {}
    local = ""
    async with asyncio.timeout(30):
        while True:
            line = (await process.stdout.readline()).decode()
            if not line:
                _out, err = await process.communicate()
                raise AssertionError(f"serve ended early: {err.decode()}")
            found = re.search(r"(https?://\S+/webhook/(\S+))", line)
            if found:
                urls[found.group(2)] = found.group(1)
            listening = re.search(r"listening on (\S+)", line)
            if listening:
                local = listening.group(1)
                break
    return Serve(process, urls, state_dir, local)


async def post(
    session: aiohttp.ClientSession, url: str, params: Mapping[str, str], headers: Mapping[str, str]
) -> tuple[int, str]:
    async with session.post(url, data=dict(params), headers=dict(headers)) as response:
        return response.status, await response.text()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client
