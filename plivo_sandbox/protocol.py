"""The sandbox's HTTP connection handler: aiohttp's, with Plivo's error shape for bad HTTP.

aiohttp answers a request it cannot parse (a request line or header past its size limits,
more than ``MAX_HEADERS`` headers, an invalid Content-Length, a malformed method) before any
middleware runs, in plain text. This handler gives those answers Plivo's body
``{"api_id", "error"}`` too, logs them in one line rather than a traceback, and sets the
connection limits the sandbox relies on.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus

from aiohttp import web

from plivo_sandbox.wire import RejectedError, error_response

logger = logging.getLogger(__name__)

# aiohttp's own defaults, stated here because the sandbox's answers depend on them.
MAX_LINE_BYTES = 8190
MAX_HEADERS = 128
MAX_HEADER_BYTES = 8190
# After an answer that left the body unread (no credentials, too large), discard what the
# client still sends for this long so that it receives the answer instead of a reset.
LINGERING_SECONDS = 2.0
_KNOWN_STATUSES = frozenset(status.value for status in HTTPStatus)


class PlivoShapedRequestHandler(web.RequestHandler):
    """One client connection; see the module's docstring."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            # Part of an answer is out already: nothing valid can follow on this connection.
            raise ConnectionError("an answer was already being sent")
        logger.debug("sandbox refused a malformed request: %s %s", status, message or exc)
        phrase = HTTPStatus(status).phrase.lower() if status in _KNOWN_STATUSES else "error"
        detail = f": {message}" if message and status != HTTPStatus.INTERNAL_SERVER_ERROR else ""
        response = error_response(RejectedError(status, f"{phrase}{detail}"))
        response.force_close()
        return response


def connection_factory(server: web.Server) -> PlivoShapedRequestHandler:
    """A protocol factory for ``loop.create_server``: one handler per connection."""
    return PlivoShapedRequestHandler(
        server,
        loop=asyncio.get_running_loop(),
        access_log=None,  # type: ignore[arg-type]
        max_line_size=MAX_LINE_BYTES,
        max_headers=MAX_HEADERS,
        max_field_size=MAX_HEADER_BYTES,
        lingering_time=LINGERING_SECONDS,
        # Compressed bodies are refused (415); never inflate one, even to discard it.
        auto_decompress=False,
    )
