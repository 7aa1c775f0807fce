"""A real redis-server per test (loopback, free port, own data directory, appendonly yes),
and queue workers as subprocesses against a test-owned sandbox."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def restartable_port() -> int:
    """A free port below the ephemeral range, for a server a test stops and starts again on
    the same port. A port from bind(0) is an ephemeral one: while its server is down, any
    process's outgoing connection may be given it as its local port (busy machines open
    thousands), and the restart then fails to bind it. Only explicit binds use this range."""
    low = _ephemeral_low()
    for _ in range(200):
        port = random.randrange(10000, low)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between 10000 and {low}")


@dataclass
class RedisServer:
    directory: Path
    port: int = field(default_factory=restartable_port)
    extra: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            "redis-server",
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--maxmemory-policy", "noeviction",
            "--save", "",
            *self.extra,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:  # e.g. the port was taken meanwhile
                raise RuntimeError(
                    f"redis-server exited ({self.process.returncode}) on port {self.port}"
                )
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)  # writes its append-only file and exits
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    server.start()
    yield server
    server.stop()


def sandbox_env(sandbox: Any, state_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PLIVO_AUTH_ID": sandbox.config.auth_id,
        "PLIVO_AUTH_TOKEN": sandbox.config.auth_token,
        "PLIVO_API_URL": sandbox.url,
        "PLIVO_NODE_STATE_DIR": str(state_dir),
    }


class Workers:
    """Queue workers (``plivo-node worker``) started as subprocesses."""

    def __init__(self, env: dict[str, str], queue: str, logs: Path) -> None:
        self._env = env
        self._queue = queue
        self._logs = logs
        self.processes: list[asyncio.subprocess.Process] = []

    async def start(self, count: int, *args: str) -> None:
        for _ in range(count):
            log = (self._logs / f"worker{len(self.processes)}.log").open("wb")
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "plivo_node.cli",
                "worker",
                "--queue",
                self._queue,
                *args,
                env=self._env,
                stdout=log,
                stderr=log,
            )
            log.close()
            self.processes.append(process)

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self._logs.glob("worker*.log")))

    async def stop(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                async with asyncio.timeout(30):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


@pytest.fixture
async def sandbox() -> AsyncIterator[Any]:
    from plivo_sandbox import Sandbox, SandboxConfig  # noqa: PLC0415

    async with Sandbox(SandboxConfig(latency_ms=20)) as running:
        yield running


async def run_queued(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "plivo_node.cli",
        "run",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(180):
        _out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, err.decode()
