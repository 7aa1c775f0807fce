"""The sandbox's aiohttp.web application: middlewares, routes and the shared state."""

from __future__ import annotations

import asyncio

from aiohttp import web

from plivo_sandbox.body import MAX_MULTIPART_BYTES
from plivo_sandbox.callbacks import CallbackSender
from plivo_sandbox.config import SandboxConfig
from plivo_sandbox.faults import SlidingWindowLimiter
from plivo_sandbox.middlewares import build_middlewares
from plivo_sandbox.routes import add_all_routes
from plivo_sandbox.seed import seed_state
from plivo_sandbox.state import SandboxState
from plivo_sandbox.wire import (
    CALLBACKS_KEY,
    CONFIG_KEY,
    MESSAGE_LIST_LIMITER_KEY,
    STATE_KEY,
    STOPPING_KEY,
)


def new_state(config: SandboxConfig) -> SandboxState:
    """A fresh state holding the seeded resources."""
    state = SandboxState(auth_id=config.auth_id)
    seed_state(state)
    return state


def build_app(config: SandboxConfig, state: SandboxState) -> web.Application:
    """The application serving ``/v1/Account/{config.auth_id}/...`` from ``state``."""
    app = web.Application(
        middlewares=build_middlewares(config, state), client_max_size=MAX_MULTIPART_BYTES
    )
    app[CONFIG_KEY] = config
    app[STATE_KEY] = state
    app[STOPPING_KEY] = asyncio.Event()
    app[CALLBACKS_KEY] = CallbackSender(config.auth_token, state, enabled=config.callbacks)
    if config.message_list_limit is not None:
        app[MESSAGE_LIST_LIMITER_KEY] = SlidingWindowLimiter(*config.message_list_limit)
    add_all_routes(app.router, state.base_path)
    app.on_shutdown.append(_release_waits)
    app.on_cleanup.append(_close_callbacks)
    return app


async def _release_waits(app: web.Application) -> None:
    # Held answers, latency and slow destinations stop waiting, so shutdown is prompt.
    app[STOPPING_KEY].set()


async def _close_callbacks(app: web.Application) -> None:
    await app[CALLBACKS_KEY].close()
