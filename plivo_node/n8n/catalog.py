"""What a workflow file may use: the installed node types that declare an n8n node type.

A node type says which n8n node it runs as (:attr:`plivo_node.core.node.NodeType.n8n_type`,
e.g. ``n8n-nodes-base.if``); whether it starts a run, its outputs and its credential types
come with it. Nothing here knows any particular node: a third-party node that declares its
n8n type runs in workflow files like the bundled ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from plivo_node.run.registry import NodeRegistry


@dataclass(frozen=True)
class NodeCatalog:
    """The node types a conversion may use.

    ``nodes`` maps an n8n node type (``n8n-nodes-base.set``) to the node type that runs it
    (``set``); ``triggers`` are the node types that start a run; ``credentials`` the
    credential types each node type uses; ``outputs`` how many outputs each has.
    """

    nodes: Mapping[str, str]
    triggers: frozenset[str]
    credentials: Mapping[str, frozenset[str]]
    outputs: Mapping[str, int]

    def node_for(self, n8n_type: str) -> str | None:
        return self.nodes.get(n8n_type)

    def outputs_of(self, node: str) -> int:
        return self.outputs[node]


def catalog_from(registry: NodeRegistry) -> NodeCatalog:
    """The catalog of every installed node type that declares its n8n node type."""
    loaded = [node for node in registry.all() if node.type.n8n_type is not None]
    return NodeCatalog(
        nodes={str(node.type.n8n_type): node.name for node in loaded},
        triggers=frozenset(node.name for node in loaded if node.type.trigger),
        credentials={
            node.name: frozenset(credential.name for credential in node.credential_types)
            for node in loaded
        },
        outputs={node.name: len(node.type.outputs) for node in loaded},
    )


__all__ = ["NodeCatalog", "catalog_from"]
