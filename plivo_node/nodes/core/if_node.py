"""If (``n8n-nodes-base.if``, typeVersion 2 to 2.3): each item goes to output 0 (true) when
it passes the conditions, to output 1 (false) otherwise.

n8n: packages/nodes-base/nodes/If/V2/IfV2.node.ts. The conditions are n8n's filter parameter,
evaluated by :mod:`.conditions`. The item leaves unchanged (nodes never change their input).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from plivo_node.core.items import JsonObject
from plivo_node.nodes.core.conditions import FILTER_NODE_VERSIONS, item_passes
from plivo_node.nodes.core.node_support import Output

TYPE_VERSIONS: Final = FILTER_NODE_VERSIONS
TRUE_OUTPUT: Final = 0
FALSE_OUTPUT: Final = 1


def execute(
    params: Mapping[str, Any], item: JsonObject, *, item_index: int, type_version: float
) -> list[Output]:
    """The item on the true or the false output."""
    passed = item_passes(params, node="If", type_version=type_version, item_index=item_index)
    return [(TRUE_OUTPUT if passed else FALSE_OUTPUT, item)]
