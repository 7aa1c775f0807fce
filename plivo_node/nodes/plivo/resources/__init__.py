"""The handler registry: (resource, operation) → the coroutine that runs it.

One module per resource, one coroutine per operation, named after the operation (``getAll``
is ``get_all``). The registry is spelled out rather than discovered, so a reader sees every
operation here and a test proves it matches the node's description.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from plivo_node.core.items import Handler
from plivo_node.nodes.plivo.resources import (
    account,
    application,
    call,
    conference,
    endpoint,
    mms,
    number,
    pricing,
    sms,
)

if TYPE_CHECKING:
    from plivo_node.run.bulk import Prepare

HANDLERS: Mapping[tuple[str, str], Handler] = MappingProxyType(
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
        ("number", "get"): number.get,
        ("number", "getAll"): number.get_all,
        ("pricing", "get"): pricing.get,
    }
)


# Operations a step can run with ``bulk: true``: their per-item request builders, which
# plivo_node.run.bulk groups into shared `<` requests.
BULK_PREPARERS: Mapping[tuple[str, str], Prepare] = MappingProxyType({("sms", "send"): sms.prepare})


__all__ = ["BULK_PREPARERS", "HANDLERS"]
