"""Filter (``n8n-nodes-base.filter``, typeVersion 2 to 2.3): keeps the items that pass the
conditions, on its one output.

n8n: packages/nodes-base/nodes/Filter/V2/FilterV2.node.ts. The node returns the discarded
items as a second list, which n8n shows as a "Discarded" output only when the node's
"On Error" setting is "Continue (using error output)"; ``discarded_output=True`` asks for
them on output 1 in that case. The conditions are evaluated by :mod:`.conditions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from plivo_node.core.items import JsonObject
from plivo_node.nodes.core.conditions import FILTER_NODE_VERSIONS, item_passes
from plivo_node.nodes.core.node_support import Output

TYPE_VERSIONS: Final = FILTER_NODE_VERSIONS
KEPT_OUTPUT: Final = 0
DISCARDED_OUTPUT: Final = 1


def execute(
    params: Mapping[str, Any],
    item: JsonObject,
    *,
    item_index: int,
    type_version: float,
    discarded_output: bool = False,
) -> list[Output]:
    """The item when it passes; otherwise nothing, or the item on output 1 when asked."""
    if item_passes(params, node="Filter", type_version=type_version, item_index=item_index):
        return [(KEPT_OUTPUT, item)]
    return [(DISCARDED_OUTPUT, item)] if discarded_output else []
