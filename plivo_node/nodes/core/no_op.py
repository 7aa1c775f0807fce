"""No Operation, do nothing (``n8n-nodes-base.noOp``, typeVersion 1): passes every item on.

n8n: packages/nodes-base/nodes/NoOp/NoOp.node.ts (it has no parameters).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from plivo_node.core.items import JsonObject
from plivo_node.nodes.core.node_support import Output, check_type_version, unsupported

TYPE_VERSIONS: Final = (1,)


def execute(
    params: Mapping[str, Any], item: JsonObject, *, item_index: int, type_version: float
) -> list[Output]:
    """The item, unchanged, on output 0."""
    check_type_version("No Operation", type_version, TYPE_VERSIONS, item_index=item_index)
    if params:
        name = next(iter(params))
        raise unsupported(
            name,
            f"No Operation has no parameters, but '{name}' is set",
            "remove the node's parameters",
            item_index=item_index,
        )
    return [(0, item)]
