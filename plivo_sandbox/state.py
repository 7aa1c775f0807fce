"""Everything a sandbox remembers for its lifetime, in memory.

Tests read it to prove what reached "Plivo": ``messages`` and ``calls`` hold one dict per
accepted destination, ``destination_counts`` how often each destination was messaged or
called (so "no duplicates, nothing lost" is a dict comparison), ``request_log`` the newest
requests as they arrived (wire tests; bounded, see ``request_log``) and ``fault_log`` the
newest faults injected (``faults_injected`` counts all of them).

A message dict has the request's wire fields ``src``, ``dst`` (one normalized destination),
``text``, ``type``, ``url``, ``method``, ``log``, ``trackable``, ``powerpack_uuid``,
``media_urls``, ``media_ids``, ``message_expiry`` and ``dlt_*``, plus ``message_uuid``,
``encoding``, ``units``, ``total_rate``, ``accepted_at`` (epoch seconds), ``message_time``,
``country_iso``, ``media`` (its media objects) and the outcome it will read as
(``final_state``, ``final_error_code``). A call dict has ``from``, ``to`` (normalized),
``answer_url``, ``answer_method`` and the other wire fields, plus ``request_uuid``,
``call_uuid`` and ``accepted_at``. In ``request_log`` bodies, ``password`` and
``auth_token`` values are masked.

Everything runs on the server's event loop; appends and counter updates are O(1).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from plivo_sandbox.destinations import destination_key
from plivo_sandbox.request_log import JsonDict, RecordedRequest, RequestLog

__all__ = [
    "CallbackReply",
    "InjectedFault",
    "JsonDict",
    "RecordedRequest",
    "RequestLog",
    "SandboxState",
]


# The newest injected faults kept in ``fault_log``; ``faults_injected`` counts them all.
MAX_FAULT_LOG_ENTRIES = 10_000


class InjectedFault(NamedTuple):
    """A fault the sandbox injected: ``request_log.by_sequence(request_index)`` is its request.

    While the log has dropped nothing, ``request_index`` is also its position in the log.
    """

    request_index: int
    method: str
    path: str
    kind: str


# The newest callback replies kept in ``callback_replies``.
MAX_CALLBACK_REPLIES = 1_000


class CallbackReply(NamedTuple):
    """How a customer's URL answered one callback (the body cut to 4 KB)."""

    url: str
    params: dict[str, str]
    status: int
    content_type: str
    body: str


def _numeric_ids(start: int, step: int) -> Iterator[str]:
    return (str(value) for value in itertools.count(start, step))


@dataclass
class SandboxState:
    """The in-memory store of one sandbox. ``auth_id`` is the main account's Auth ID."""

    auth_id: str
    messages: list[JsonDict] = field(default_factory=list)
    calls: list[JsonDict] = field(default_factory=list)
    destination_counts: dict[str, int] = field(default_factory=dict)
    message_counts: dict[str, int] = field(default_factory=dict)
    call_counts: dict[str, int] = field(default_factory=dict)
    request_log: RequestLog = field(default_factory=RequestLog)
    fault_log: deque[InjectedFault] = field(
        default_factory=lambda: deque(maxlen=MAX_FAULT_LOG_ENTRIES)
    )
    faults_injected: int = 0
    # Status callbacks delivered, and those skipped because their URL was not local.
    callbacks_sent: int = 0
    callbacks_skipped: int = 0
    # What the newest callbacks were answered (a voice answer_url's reply is the call's XML).
    callback_replies: deque[CallbackReply] = field(
        default_factory=lambda: deque(maxlen=MAX_CALLBACK_REPLIES)
    )
    # Calls injected to the account's numbers (routes/inbound_call.py).
    inbound_calls: list[JsonDict] = field(default_factory=list)

    # Resources, keyed by their Plivo identifier, in creation order.
    account: JsonDict = field(default_factory=dict)
    subaccounts: dict[str, JsonDict] = field(default_factory=dict)
    applications: dict[str, JsonDict] = field(default_factory=dict)
    endpoints: dict[str, JsonDict] = field(default_factory=dict)
    numbers: dict[str, JsonDict] = field(default_factory=dict)
    conferences: dict[str, JsonDict] = field(default_factory=dict)
    pricing: dict[str, JsonDict] = field(default_factory=dict)
    media: dict[str, JsonDict] = field(default_factory=dict)
    # Kept apart from the endpoint objects so that no response can ever include one.
    endpoint_passwords: dict[str, str] = field(default_factory=dict)

    messages_by_uuid: dict[str, JsonDict] = field(default_factory=dict)
    calls_by_uuid: dict[str, JsonDict] = field(default_factory=dict)

    _app_ids: Iterator[str] = field(default_factory=lambda: _numeric_ids(20468599130939380, 7919))
    _endpoint_ids: Iterator[str] = field(default_factory=lambda: _numeric_ids(32866729519064, 137))
    _subaccount_serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def base_path(self) -> str:
        """The account's base path, ``/v1/Account/{auth_id}/``."""
        return f"/v1/Account/{self.auth_id}/"

    def new_app_id(self) -> str:
        return next(self._app_ids)

    def new_endpoint_id(self) -> str:
        return next(self._endpoint_ids)

    def new_subaccount_id(self) -> str:
        return f"SA{next(self._subaccount_serial):018d}"

    def remove_endpoint(self, endpoint_id: str) -> None:
        """Forget an endpoint and its password."""
        del self.endpoints[endpoint_id]
        self.endpoint_passwords.pop(endpoint_id, None)

    def record_fault(self, request_index: int, method: str, path: str, kind: str) -> None:
        """Remember one injected fault (its path cut to 256 characters)."""
        self.fault_log.append(InjectedFault(request_index, method, path[:256], kind))
        self.faults_injected += 1

    def record_message(self, message: JsonDict) -> None:
        """Remember one accepted message (one destination) and count its destination."""
        self.messages.append(message)
        self.messages_by_uuid[message["message_uuid"]] = message
        destination = message["dst"]
        self.message_counts[destination] = self.message_counts.get(destination, 0) + 1
        self.destination_counts[destination] = self.destination_counts.get(destination, 0) + 1

    def record_inbound(self, message: JsonDict) -> None:
        """Remember one injected inbound message (it counts for no destination: none was sent)."""
        self.messages.append(message)
        self.messages_by_uuid[message["message_uuid"]] = message

    def record_call(self, call: JsonDict) -> None:
        """Remember one accepted call (one destination) and count its destination."""
        self.calls.append(call)
        self.calls_by_uuid[call["call_uuid"]] = call
        destination = call["to"]
        self.call_counts[destination] = self.call_counts.get(destination, 0) + 1
        self.destination_counts[destination] = self.destination_counts.get(destination, 0) + 1

    def count_for(self, destination: str) -> int:
        """How often ``destination`` (any format: ``+1 415-555-0100``) was messaged or called."""
        return self.destination_counts.get(destination_key(destination), 0)
