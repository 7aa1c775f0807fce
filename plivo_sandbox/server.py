"""Starting and stopping a sandbox: as an async context manager, or forever for the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from plivo_node.core.errors import ConfigurationError
from plivo_sandbox.app import build_app, new_state
from plivo_sandbox.config import SandboxConfig
from plivo_sandbox.protocol import connection_factory
from plivo_sandbox.state import SandboxState

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Handlers still running at stop (held answers are released first) get this long to finish.
SHUTDOWN_SECONDS = 2.0


class Sandbox:
    """A Plivo-compatible server on the loopback interface.

    ``async with Sandbox(config) as sandbox:`` serves on a free port; ``sandbox.url`` is the
    API base (``http://127.0.0.1:43121/v1/``) and ``sandbox.state`` what it has seen. The
    state lives as long as the object, across restarts.
    """

    def __init__(
        self, config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ConfigurationError(
                f"The sandbox only listens on the loopback interface, not {host!r}",
                hint="use 127.0.0.1",
            )
        self.config = config if config is not None else SandboxConfig()
        self.host = host
        self.port = port
        self.state: SandboxState = new_state(self.config)
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """The API base URL, ending in ``/v1/``; available once started."""
        if self._runner is None:
            raise RuntimeError("the sandbox is not running: start it first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1/"

    @property
    def account_url(self) -> str:
        """The account's base URL, ``{url}Account/{auth_id}/``."""
        return f"{self.url}Account/{self.config.auth_id}/"

    async def start(self) -> None:
        if self._runner is not None:
            return
        app = build_app(self.config, self.state)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
        await runner.setup()
        server = runner.server
        assert server is not None  # set by setup()
        try:
            # Our own listener rather than a web.TCPSite: its connections use the handler that
            # answers malformed HTTP in Plivo's shape (see ``protocol``).
            listener = await asyncio.get_running_loop().create_server(
                lambda: connection_factory(server), self.host, self.port
            )
        except OSError as exc:
            await runner.cleanup()
            raise ConfigurationError(
                f"The sandbox cannot listen on {self.host}:{self.port}: {exc.strerror or exc}",
                hint="choose another port, or 0 for any free one",
            ) from exc
        self.port = int(listener.sockets[0].getsockname()[1])
        self._runner, self._listener = runner, listener

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()  # no new connections; open ones are shut down by the runner
        if runner is not None:
            await runner.cleanup()
        if listener is not None:
            await listener.wait_closed()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()


def run_forever(
    config: SandboxConfig, host: str, port: int, on_ready: Callable[[str], None]
) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM); ``on_ready`` gets the URL once listening."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(Sandbox(config, host=host, port=port), on_ready))


async def _serve(sandbox: Sandbox, on_ready: Callable[[str], None]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # No signal handlers on some platforms, nor outside the main thread.
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with sandbox:
        on_ready(sandbox.url)
        await stop.wait()
