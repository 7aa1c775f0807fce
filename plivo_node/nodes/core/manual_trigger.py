"""Manual Trigger (``n8n-nodes-base.manualTrigger``, typeVersion 1): where a run starts.

In n8n the button emits one empty item (packages/nodes-base/nodes/ManualTrigger/
ManualTrigger.node.ts). Here a run may be given input items (the input file); the trigger then
emits those, and one empty item only when there are none. Its only parameter is an editor
notice, which holds no value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from plivo_node.core.items import JsonObject
from plivo_node.nodes.core.node_support import Output, check_type_version, unsupported

TYPE_VERSIONS: Final = (1,)


def execute(
    params: Mapping[str, Any], items: Sequence[JsonObject], *, type_version: float = 1
) -> list[Output]:
    """The run's input items on output 0, or ``[{}]`` when there are none."""
    check_type_version("Manual Trigger", type_version, TYPE_VERSIONS, item_index=0)
    for name, value in params.items():
        if name != "notice" or value not in ("", None):
            raise unsupported(
                name,
                f"Manual Trigger takes no parameters, but '{name}' is set",
                "remove the trigger's parameters",
                item_index=0,
            )
    return [(0, item) for item in items] if items else [(0, {})]
