"""The sandbox in its own process (client and server must not share a GIL on 2 cores)."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from plivo_sandbox import DEFAULT_AUTH_ID, DEFAULT_AUTH_TOKEN

START_TIMEOUT = 30.0


@dataclass(frozen=True)
class RunningSandbox:
    url: str  # API base, ending in /v1/
    auth_id: str = DEFAULT_AUTH_ID
    auth_token: str = DEFAULT_AUTH_TOKEN

    @property
    def message_url(self) -> str:
        return f"{self.url}Account/{self.auth_id}/Message/"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def sandbox_process(latency_ms: int) -> Iterator[RunningSandbox]:
    """``python -m plivo_sandbox`` on a free loopback port; SIGTERM on the way out."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "plivo_sandbox",
        "--port",
        str(port),
        "--latency-ms",
        str(latency_ms),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the "listening on" line: the server is up
        if "listening" not in line:
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        yield RunningSandbox(url=f"http://127.0.0.1:{port}/v1/")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
