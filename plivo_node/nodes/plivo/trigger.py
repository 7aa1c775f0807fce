"""The Plivo Trigger: what ``serve`` needs to accept Plivo's callbacks (the webhook contract,
:class:`plivo_node.core.node.WebhookTrigger`).

- Which callback is which: a voice callback carries ``CallUUID``: the first callback of an
  inbound call (``Direction`` inbound, ``CallStatus`` ringing: its answer_url request) is an
  incoming call, every other one a call status; a message status carries ``Status`` (with
  ``MessageUUID``); any other message callback is an inbound message.
- n8n's vocabulary: n8n's Plivo Trigger (``n8n-nodes-base.plivoTrigger``) names the events
  ``incomingSms``, ``smsStatus``, ``incomingCall`` and ``callStatus``, and tells them apart the
  same way. Its names are accepted in ``events``, its ``validateSignature`` parameter too (see
  :mod:`.trigger_options`), and every item carries n8n's ``_eventType`` (n8n's name of the
  event, whichever names the step used). n8n answers a bad signature with 401; serve keeps
  403 (the request is understood and refused, not missing credentials of its own).
- Signatures: messaging callbacks are V2, voice callbacks V3 (PLIVO_API.md section 18). The
  plain header is checked with the credential's Auth Token; the ``Ma-`` header with the main
  account's (``mainAuthToken`` when the credential is a subaccount's, else the same token).
- Retries: Plivo sends a callback again after a non-2xx or a timeout; the dedupe key (an
  inbound message's ``MessageUUID``; a status's ``MessageUUID`` and ``Status``; a call's
  ``CallUUID`` and its ``Event`` or ``CallStatus``) makes a retried callback run once.
- Order: events about the same end user (an inbound message's sender, a status's destination,
  a call's far end) run one at a time, in arrival order, so a STOP and a later START are
  applied in the order they were sent.

:data:`EVENT_OBSERVERS` is where Plivo-specific reactions to every accepted event plug in
(recording a delivery status against the run that sent the message, applying STOP/START).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from plivo_node.core.errors import PlivoNodeError
from plivo_node.core.node import (
    SINGLE_OPERATION,
    AttachRequest,
    EventObserver,
    HandlerOutput,
    NodeType,
    OperationContext,
    Routed,
    ServedWebhook,
    WebhookEvent,
    WebhookOptions,
    WebhookRejection,
    WebhookRequest,
)
from plivo_node.nodes.plivo.description import CREDENTIAL_TYPE, credential_path
from plivo_node.nodes.plivo.signatures import header_matches, v2_signature, v3_signature
from plivo_node.nodes.plivo.trigger_options import webhook_options

TRIGGER_NAME: Final = "plivoTrigger"
INBOUND_MESSAGE: Final = "inboundMessage"
MESSAGE_STATUS: Final = "messageStatus"
CALL_STATUS: Final = "callStatus"
INCOMING_CALL: Final = "incomingCall"
EVENT_KINDS: Final = (INBOUND_MESSAGE, MESSAGE_STATUS, CALL_STATUS, INCOMING_CALL)
VOICE_KINDS: Final = (CALL_STATUS, INCOMING_CALL)
# n8n's name of each kind (its _eventType values), and the names it has that ours do not.
N8N_EVENT_NAMES: Final = {
    INBOUND_MESSAGE: "incomingSms",
    MESSAGE_STATUS: "smsStatus",
    CALL_STATUS: CALL_STATUS,
    INCOMING_CALL: INCOMING_CALL,
}
EVENT_ALIASES: Final = {n8n: kind for kind, n8n in N8N_EVENT_NAMES.items() if n8n != kind}


def close_the_loop(kind: str, params: Mapping[str, str]) -> None:
    """What every accepted event teaches the next run: a message's delivery status goes to the
    delivery store (``plivo-node status``), an opt-out error code or a STOP/START reply to the
    suppression list. Both are idempotent: an event re-run after a crash changes nothing."""
    # Imported here: each opens its SQLite file in the state directory only when needed.
    from plivo_node.nodes.plivo import suppression  # noqa: PLC0415
    from plivo_node.nodes.plivo.delivery import record_status  # noqa: PLC0415

    if kind == MESSAGE_STATUS:
        record_status(params)
        suppression.apply_status(params)
    elif kind == INBOUND_MESSAGE:
        suppression.apply_inbound(params)


# Observers called for every accepted event, in order: ``observer(kind, params)``.
EVENT_OBSERVERS: list[EventObserver] = [close_the_loop]


def _first(params: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Plivo's parameters, one value each (the first, where a name repeats)."""
    return {key: values[0] for key, values in params.items() if values}


def event_kind(params: Mapping[str, str]) -> str:
    if params.get("CallUUID"):
        inbound = params.get("Direction", "").lower() == "inbound"
        if inbound and params.get("CallStatus", "").lower() == "ringing":
            return INCOMING_CALL
        return CALL_STATUS
    if params.get("Status") and params.get("MessageUUID"):
        return MESSAGE_STATUS
    return INBOUND_MESSAGE


@dataclass(frozen=True)
class _Scheme:
    version: str  # "V2" or "V3"

    # Header names as Plivo writes them; WebhookRequest.headers has them in lower case.
    @property
    def signature_header(self) -> str:
        return f"X-Plivo-Signature-{self.version}"

    @property
    def main_header(self) -> str:
        return f"X-Plivo-Signature-Ma-{self.version}"

    @property
    def nonce_header(self) -> str:
        return f"X-Plivo-Signature-{self.version}-Nonce"

    def expected(self, token: str, request: WebhookRequest, nonce: str) -> str:
        if self.version == "V2":
            return v2_signature(token, request.url, nonce)
        return v3_signature(token, request.method, request.url, request.params, nonce)


_V2 = _Scheme("V2")
_V3 = _Scheme("V3")


def verify_request(
    request: WebhookRequest, fields: Mapping[str, str], *, required: bool = True
) -> str | WebhookRejection | None:
    """The request's nonce if its signature is Plivo's, else why it is refused; None for a
    request with no signature at all when signatures are not ``required``."""
    params = _first(request.params)
    scheme = _V3 if params.get("CallUUID") else _V2
    headers = request.headers
    token = fields.get("authToken", "")
    main_token = fields.get("mainAuthToken") or token
    checks = ((scheme.signature_header.lower(), token), (scheme.main_header.lower(), main_token))
    present = [(headers[name], key) for name, key in checks if headers.get(name)]
    nonce = headers.get(scheme.nonce_header.lower(), "").strip()
    if not present and not nonce and not required:
        return None
    if not nonce:
        return WebhookRejection(f"no {scheme.nonce_header} header")
    if not present:
        return WebhookRejection(f"no {scheme.signature_header} or {scheme.main_header} header")
    for value, key in present:
        if key and header_matches(value, scheme.expected(key, request, nonce)):
            return f"{scheme.version}:{nonce}"
    return WebhookRejection(
        f"the {scheme.version} signature does not match this URL and the configured Auth Token "
        "(check --public-url: it must be the URL Plivo calls)"
    )


def _end_user(kind: str, params: Mapping[str, str]) -> str:
    if kind == INBOUND_MESSAGE:
        return params.get("From", "")
    if kind == MESSAGE_STATUS:
        return params.get("To", "")
    outbound = params.get("Direction", "").lower() == "outbound"
    return params.get("To" if outbound else "From", "")


def read_event(request: WebhookRequest) -> WebhookEvent:
    params = _first(request.params)
    kind = event_kind(params)
    if kind in VOICE_KINDS:
        what = params.get("Event") or params.get("CallStatus") or ""
        dedupe = f"call:{params['CallUUID']}:{what}"
    else:
        uuid = params.get("MessageUUID", "")
        if not uuid:
            raise PlivoNodeError(
                "the callback has no MessageUUID and no CallUUID: it is not one of Plivo's",
                hint="point only Plivo's message and voice callbacks at this webhook",
            )
        dedupe = (
            f"status:{uuid}:{params.get('Status', '')}"
            if kind == MESSAGE_STATUS
            else f"inbound:{uuid}"
        )
    return WebhookEvent(
        kind=kind, params=params, dedupe_key=dedupe, order_key=_end_user(kind, params) or dedupe
    )


@dataclass(frozen=True)
class PlivoWebhook:
    """The Plivo Trigger's :class:`plivo_node.core.node.WebhookTrigger`."""

    credential_type: str = CREDENTIAL_TYPE
    event_kinds: tuple[str, ...] = EVENT_KINDS
    event_aliases: Mapping[str, str] = field(default_factory=lambda: EVENT_ALIASES)
    observers: Sequence[EventObserver] = field(default_factory=lambda: EVENT_OBSERVERS)

    def options(self, parameters: Mapping[str, Any]) -> WebhookOptions:
        return webhook_options(parameters, VOICE_KINDS)

    def verify(
        self, request: WebhookRequest, fields: Mapping[str, str], *, required: bool = True
    ) -> str | WebhookRejection | None:
        return verify_request(request, fields, required=required)

    def event(self, request: WebhookRequest) -> WebhookEvent:
        return read_event(request)

    def attach(
        self,
        fields: Mapping[str, str],
        requests: Sequence[AttachRequest],
        webhooks: Sequence[ServedWebhook],
        *,
        public: bool,
        state: Path,
    ) -> AbstractAsyncContextManager[list[str]]:
        # Imported here: only serve attaches, and it brings the node's resource handlers.
        from plivo_node.nodes.plivo.attach import attach_numbers  # noqa: PLC0415

        return attach_numbers(fields, requests, webhooks, public=public, state=state)


async def _pass_event(context: OperationContext) -> HandlerOutput:
    """The trigger step emits the event's item as ``serve`` made it from the callback, with
    n8n's ``_eventType`` added (as n8n's Plivo Trigger does)."""
    json = dict(context.item.json)
    json["_eventType"] = N8N_EVENT_NAMES[event_kind(json)]
    return [Routed(0, json, context.item.binary)]


TRIGGER = NodeType(
    name=TRIGGER_NAME,
    description_file=Path(__file__).resolve().parent / f"{TRIGGER_NAME}.yaml",
    credential_files=(credential_path(),),
    handlers={SINGLE_OPERATION: _pass_event},
    trigger=True,
    webhook=PlivoWebhook(),
    n8n_type="n8n-nodes-base.plivoTrigger",
)
