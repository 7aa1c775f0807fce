"""The Plivo node type, registered in pyproject.toml's ``plivo_node.nodes`` entry points.

Nothing in the runtime names it: it plugs in through the node contract
(:class:`plivo_node.core.node.NodeType`) like any third-party node.
"""

from __future__ import annotations

from plivo_node.core.node import Messaging, NodeType
from plivo_node.nodes.plivo.constant_checks import constant_problems
from plivo_node.nodes.plivo.cost import MessageTally
from plivo_node.nodes.plivo.description import NODE_NAME, credential_path, manifest_path
from plivo_node.nodes.plivo.factory import PlivoClientFactory
from plivo_node.nodes.plivo.resources import BULK, HANDLERS, NEVER_REPEAT
from plivo_node.nodes.plivo.suppression_scope import suppression_scope


def _destination_time_zones(value: str) -> tuple[str, ...]:
    """The destinations' time zones; libphonenumber's zone map is imported only by a run with
    a send window (validate does not pay for it)."""
    from plivo_node.nodes.plivo.validation.time_zones import (  # noqa: PLC0415
        destination_time_zones,
    )

    return destination_time_zones(value)


NODE = NodeType(
    name=NODE_NAME,
    description_file=manifest_path(),
    credential_files=(credential_path(),),
    handlers=HANDLERS,
    client=PlivoClientFactory(),
    bulk=BULK,
    never_repeat=NEVER_REPEAT,
    tally=MessageTally,
    check_constants=constant_problems,
    run_scope=suppression_scope,
    messaging=Messaging(
        destinations={("sms", "send"): "to", ("mms", "send"): "to", ("call", "make"): "to"},
        time_zones=_destination_time_zones,
    ),
    n8n_type="n8n-nodes-base.plivo",
)
