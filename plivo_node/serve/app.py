"""The HTTP side of ``serve``: ``BASE/webhook/PATH`` for each served pipeline.

A request is answered only after its fate is settled:

- 404: no pipeline is served at that path;
- 403: its signature is missing or wrong, or it is a request accepted before (a replayed
  nonce): nothing is queued or run;
- 400: signed, but not a callback the trigger understands;
- 200: committed to the queue (or a retry of an event already queued, which runs once), with
  the trigger's reply for the event's kind ("OK", or the call instructions a voice service
  reads from it);
- 503: the queue could not be written: the caller (Plivo) retries later.

The URL a signature covers is the one the caller used: the public base (``--public-url``, what
Plivo calls, e.g. a tunnel) followed by the path and query exactly as they arrived.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from plivo_node.core.errors import PlivoNodeError
from plivo_node.core.node import WebhookRejection, WebhookReply, WebhookRequest
from plivo_node.serve.dispatch import OrderedDispatcher
from plivo_node.serve.pipelines import WEBHOOK_PREFIX, ServedPipeline
from plivo_node.serve.queue import EventQueue, Outcome, queued_event

# Plivo's callbacks are small forms; this bounds what an unauthenticated caller can make us
# read before the signature is checked.
MAX_BODY_BYTES = 256 * 1024
OK = WebhookReply()


def signed_url(base: str, raw_path: str) -> str:
    """The URL the caller used: ``base`` (scheme, authority, any path prefix a proxy strips)
    and the request's own path from ``/webhook/`` on, with its query, as they arrived."""
    path, _, query = raw_path.partition("?")
    at = path.find(WEBHOOK_PREFIX)
    return base.rstrip("/") + path[max(at, 0) :] + (f"?{query}" if query else "")


async def _params(request: web.Request) -> dict[str, list[str]]:
    source = await request.post() if request.method == "POST" else request.query
    params: dict[str, list[str]] = {}
    for key, value in source.items():
        if isinstance(value, str):
            params.setdefault(key, []).append(value)
    return params


class WebhookApp:
    def __init__(
        self,
        pipelines: Mapping[str, ServedPipeline],
        queue: EventQueue,
        dispatcher: OrderedDispatcher,
        base: str,
    ) -> None:
        self._pipelines = pipelines
        self._queue = queue
        self._dispatcher = dispatcher
        self.base = base
        self.accepted = 0

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("GET", WEBHOOK_PREFIX + "{path:.+}", self.handle)
        app.router.add_route("POST", WEBHOOK_PREFIX + "{path:.+}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        self._dispatcher.request_arrived()
        served = self._pipelines.get(request.match_info["path"].strip("/"))
        if served is None or served.trigger is None:  # None: a scheduled pipeline, no webhook
            return web.Response(status=404, text="no pipeline is served at this path\n")
        webhook_request = WebhookRequest(
            method=request.method,
            url=signed_url(self.base, request.raw_path),
            headers={name.lower(): value for name, value in request.headers.items()},
            params=await _params(request),
        )
        options = served.settings.options
        verdict = served.trigger.verify(
            webhook_request, served.fields, required=options.signatures_required
        )
        if isinstance(verdict, WebhookRejection):
            return web.Response(status=403, text=f"refused: {verdict.reason}\n")
        try:
            event = served.trigger.event(webhook_request)
        except PlivoNodeError as exc:
            return web.Response(status=400, text=f"{exc}\n")
        try:
            outcome, event_id = await self._queue.put(served.webhook, event, verdict)
        except PlivoNodeError:
            return web.Response(status=503, text="the event queue cannot be written\n")
        if outcome is Outcome.REPLAYED:
            return web.Response(status=403, text="refused: this signed request was seen before\n")
        if outcome is Outcome.QUEUED:
            self.accepted += 1
            self._dispatcher.submit(queued_event(event_id, served.webhook, event))
        reply = options.replies.get(event.kind, OK)
        return web.Response(status=200, text=reply.body, content_type=reply.content_type)
