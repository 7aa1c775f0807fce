"""The editor's web server: the page, its static modules and the API, behind the guard."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from plivo_node.editor.api import MAX_BODY, STATE, EditorState, add_routes
from plivo_node.editor.security import Guard

STATIC = Path(__file__).parent / "static"


async def _index(request: web.Request) -> web.FileResponse:  # noqa: ARG001 - aiohttp's signature
    return web.FileResponse(STATIC / "index.html")


def build_app(
    state: EditorState, secret: str, port: int, host: str = "127.0.0.1"
) -> web.Application:
    """The application for one session; ``host:port`` is what the URL names (Host/Origin)."""
    guard = Guard(secret, port, host)
    app = web.Application(middlewares=[guard.middleware], client_max_size=MAX_BODY)
    app[STATE] = state
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
    add_routes(app)
    return app
