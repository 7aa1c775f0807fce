"""Shared test setup: every test starts with no registered secrets."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from plivo_node.core.redaction import forget_secrets


@pytest.fixture(autouse=True, scope="session")
def _description_cache_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The description cache in a directory of this session's, not the user's (commands run in
    subprocesses inherit it)."""
    previous = os.environ.get("PLIVO_NODE_CACHE_DIR")
    os.environ["PLIVO_NODE_CACHE_DIR"] = str(tmp_path_factory.mktemp("plivo-node-cache"))
    yield
    if previous is None:
        os.environ.pop("PLIVO_NODE_CACHE_DIR", None)
    else:
        os.environ["PLIVO_NODE_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def _state_dir_of_the_test(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test its own state directory (suppression list, queues), never the user's; commands
    run in subprocesses inherit it."""
    monkeypatch.setenv("PLIVO_NODE_STATE_DIR", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(autouse=True)
def _no_secrets_between_tests() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


async def _run_plivo_node(
    sandbox: Any, *args: str, kill_after_requests: int | None = None
) -> tuple[int, str]:
    """``plivo-node ARGS`` in a subprocess, with the sandbox's credentials in the environment.

    With ``kill_after_requests`` the process is SIGKILLed once the sandbox has accepted that
    many messages. Returns the exit code and stderr.
    """
    env = {
        **os.environ,
        "PLIVO_AUTH_ID": sandbox.config.auth_id,
        "PLIVO_AUTH_TOKEN": sandbox.config.auth_token,
        "PLIVO_API_URL": sandbox.url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "plivo_node.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    if kill_after_requests is not None:
        async with asyncio.timeout(60):
            while len(sandbox.state.messages) < kill_after_requests:  # noqa: ASYNC110 - polls another process's effect
                await asyncio.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    async with asyncio.timeout(120):
        _out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, err.decode()


@pytest.fixture
def plivo_node() -> Callable[..., Awaitable[tuple[int, str]]]:
    """Runs the plivo-node command against a test-owned sandbox (see _run_plivo_node)."""
    return _run_plivo_node
