"""n8n's everyday core nodes, as pure functions with n8n's names, parameters and semantics.

=================  ==========================  ============  =================================
n8n type           module                      typeVersions  outputs
=================  ==========================  ============  =================================
manualTrigger      :mod:`.manual_trigger`      1             0: the run's items, or one {}
set                :mod:`.edit_fields`         3.3, 3.4      0: the new item
if                 :mod:`.if_node`             2 - 2.3       0: true, 1: false
filter             :mod:`.filter_node`         2 - 2.3       0: kept (1: discarded, on request)
splitOut           :mod:`.split_out`           1             0: one item per element
noOp               :mod:`.no_op`               1             0: the item
scheduleTrigger    :mod:`.schedule_trigger`    1 - 1.3       0: the tick's time
=================  ==========================  ============  =================================

Each module has ``execute(params, item, *, item_index, type_version) -> [(output, json)]``
(the trigger: ``execute(params, items, *, type_version=1)``) and ``TYPE_VERSIONS``; the
node's description is ``<type>.yaml`` beside it (:func:`description_path`). ``params`` are
the node's parameters as n8n saves them, with every ``={{ }}`` already evaluated for the item
(:class:`plivo_node.description.parameters.ParameterResolver`); defaults may be left out.
If and Filter share :mod:`.conditions`, n8n's filter parameter. :mod:`.node` makes each a node
type (registered in pyproject.toml's ``plivo_node.nodes`` entry points, like any other node).

Nothing here is imported until a node is used: the CLI starts without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

_HERE: Final = Path(__file__).resolve().parent

# n8n's node type name -> the module that runs it.
MODULES: Final = {
    "manualTrigger": "plivo_node.nodes.core.manual_trigger",
    "set": "plivo_node.nodes.core.edit_fields",
    "if": "plivo_node.nodes.core.if_node",
    "filter": "plivo_node.nodes.core.filter_node",
    "splitOut": "plivo_node.nodes.core.split_out",
    "noOp": "plivo_node.nodes.core.no_op",
    "scheduleTrigger": "plivo_node.nodes.core.schedule_trigger",
}


def description_path(node_type: str) -> Path:
    """The YAML description of a core node, by n8n type name (``"if"``, ``"splitOut"``)."""
    if node_type not in MODULES:
        raise KeyError(f"{node_type!r} is not a core node (core nodes: {', '.join(MODULES)})")
    return _HERE / f"{node_type}.yaml"
