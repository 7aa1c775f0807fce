"""Who may talk to the editor's server: the page it printed the URL of, and nobody else.

The server listens on loopback by default. Every API request must carry the per-session
secret (random, printed in the URL once, then sent by the page as a header), compared in
constant time; a request from another Origin, or naming another Host (DNS rebinding), is
refused before any handler runs. Every response body passes through the secrets guard
(:func:`plivo_node.core.redaction.redact`), so a registered auth token never reaches the page.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from plivo_node.core.redaction import redact

SESSION_HEADER = "X-Editor-Session"
SESSION_QUERY = "s"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_session_secret() -> str:
    """A fresh secret for one server process (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed a character at a time."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class Guard:
    """The checks every request goes through, as an aiohttp middleware."""

    def __init__(self, secret: str, port: int, host: str = "127.0.0.1") -> None:
        self.secret = secret
        self.port = port
        self.host = host

    def allowed_hosts(self) -> set[str]:
        """Host headers naming this server: loopback, or the address it was asked to use."""
        names = {
            "127.0.0.1",
            "localhost",
            "[::1]",
            f"[{self.host}]" if ":" in self.host else self.host,
        }
        return {f"{name}:{self.port}" for name in names}

    def allowed_origins(self) -> set[str]:
        return {f"http://{host}" for host in self.allowed_hosts()}

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.host not in self.allowed_hosts():
            return _refusal(403, "this editor answers on its loopback address only")
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.allowed_origins():
            return _refusal(403, f"requests from {origin!r} are refused")
        if request.path.startswith("/api/"):
            if not same_secret(request.headers.get(SESSION_HEADER), self.secret):
                return _refusal(
                    401,
                    "the session secret is missing or wrong; open the URL that plivo-node "
                    "editor printed",
                )
        elif request.path == "/" and not same_secret(request.query.get(SESSION_QUERY), self.secret):
            return _refusal(
                401, "open the URL plivo-node editor printed (it holds the session secret)"
            )
        response = await handler(request)
        if isinstance(response, web.Response) and response.text is not None:
            response.text = redact(response.text)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'"
        )
        return response


def _refusal(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
