"""The handler registry: (resource, operation) → the coroutine that runs it.

One module per resource, one coroutine per operation, named after the operation (``getAll``
is ``get_all``). The registry is spelled out rather than discovered, so a reader sees every
operation here and a test proves it matches the node's description.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from plivo_node.core.node import Handler, OperationKey
from plivo_node.nodes.plivo.bulk import MessageBulk
from plivo_node.nodes.plivo.resources import (
    account,
    application,
    call,
    conference,
    endpoint,
    message,
    mms,
    number,
    pricing,
    sms,
)

HANDLERS: Mapping[OperationKey, Handler] = MappingProxyType(
    {
        ("sms", "send"): sms.send,
        ("mms", "send"): mms.send,
        ("call", "make"): call.make,
        ("account", "get"): account.get,
        ("application", "create"): application.create,
        ("application", "delete"): application.delete,
        ("application", "get"): application.get,
        ("application", "getAll"): application.get_all,
        ("application", "update"): application.update,
        ("conference", "getAll"): conference.get_all,
        ("endpoint", "create"): endpoint.create,
        ("endpoint", "delete"): endpoint.delete,
        ("endpoint", "get"): endpoint.get,
        ("endpoint", "getAll"): endpoint.get_all,
        ("endpoint", "update"): endpoint.update,
        ("message", "get"): message.get,
        ("message", "getAll"): message.get_all,
        ("number", "get"): number.get,
        ("number", "getAll"): number.get_all,
        ("number", "update"): number.update,
        ("pricing", "get"): pricing.get,
    }
)


# Operations a step can run with ``bulk: true``: their per-item request builders, grouped into
# shared `<` requests (plivo_node.nodes.plivo.bulk).
BULK: Mapping[OperationKey, MessageBulk] = MappingProxyType(
    {("sms", "send"): MessageBulk(sms.prepare)}
)

# Operations Plivo may act on twice if repeated: a journal entry left "in flight" by a killed
# run means their outcome is unknown, so a resumed run does not repeat them.
NEVER_REPEAT: frozenset[OperationKey] = frozenset(
    {
        ("sms", "send"),
        ("mms", "send"),
        ("call", "make"),
        ("application", "create"),
        ("endpoint", "create"),
    }
)


__all__ = ["BULK", "HANDLERS", "NEVER_REPEAT"]
