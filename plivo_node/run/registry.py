"""The node registry: node types found through the entry-point group ``plivo_node.nodes``.

Any installed distribution may register node types, the bundled ones included::

    [project.entry-points."plivo_node.nodes"]
    plivo = "plivo_node.nodes.plivo.node:NODE"

The entry point's name is the ``node:`` a pipeline step writes, and it names a
:class:`plivo_node.core.node.NodeType`. Entry points are listed without importing anything;
a node type's module is imported, and its description and credential types loaded, only when
a pipeline names it (or ``describe`` asks for it), so a broken or slow node that a run does
not use costs it nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.node import SINGLE_OPERATION, NodeType
from plivo_node.description import (
    CredentialType,
    NodeDescription,
    load_credential_type,
    load_node_description,
)

ENTRY_POINT_GROUP = "plivo_node.nodes"


@dataclass(frozen=True)
class LoadedNode:
    """A node type with its description and credential types loaded and checked."""

    type: NodeType
    description: NodeDescription
    credential_types: tuple[CredentialType, ...]

    @property
    def name(self) -> str:
        return self.type.name

    def credential_type(self, name: str) -> CredentialType:
        for credential in self.credential_types:
            if credential.name == name:
                return credential
        raise ConfigurationError(
            f"node type '{self.name}' has no credential type '{name}'",
            hint="its client factory and its credential files disagree; report it to its authors",
        )


class NodeRegistry:
    """The installed node types, by name; each loaded once, on first use."""

    def __init__(self, points: Iterable[EntryPoint] | None = None) -> None:
        found = list(entry_points(group=ENTRY_POINT_GROUP) if points is None else points)
        self._points: dict[str, EntryPoint] = {}
        duplicates: dict[str, list[EntryPoint]] = {}
        for point in found:
            if point.name in self._points:
                duplicates.setdefault(point.name, [self._points[point.name]]).append(point)
            else:
                self._points[point.name] = point
        if duplicates:
            listing = "; ".join(
                f"'{name}' by {', '.join(_origin(point) for point in points)}"
                for name, points in sorted(duplicates.items())
            )
            raise ConfigurationError(
                f"node types registered more than once: {listing}",
                hint="uninstall one of the packages that register the same node name",
            )
        self._loaded: dict[str, LoadedNode] = {}

    def names(self) -> list[str]:
        """Every installed node type's name, sorted (nothing is imported)."""
        return sorted(self._points)

    def get(self, name: str) -> LoadedNode:
        """The node type ``name``, loaded; ConfigurationError (exit 2) when none is installed."""
        loaded = self._loaded.get(name)
        if loaded is not None:
            return loaded
        point = self._points.get(name)
        if point is None:
            raise ConfigurationError(
                f"unknown node type '{name}' (installed: {', '.join(self.names()) or 'none'})",
                hint="check the step's node:, or install the package that provides it",
            )
        loaded = self._load(point)
        self._loaded[name] = loaded
        return loaded

    def all(self) -> list[LoadedNode]:
        """Every installed node type, loaded."""
        return [self.get(name) for name in self.names()]

    @staticmethod
    def _load(point: EntryPoint) -> LoadedNode:
        where = f"node type '{point.name}' ({_origin(point)})"
        try:
            node = point.load()
        except Exception as exc:
            raise ConfigurationError(
                f"{where} cannot be loaded: {type(exc).__name__}: {exc}",
                hint="reinstall the package that provides it, or report it to its authors",
            ) from exc
        if not isinstance(node, NodeType):
            raise ConfigurationError(
                f"{where} names a {type(node).__name__}, not a NodeType",
                hint="the entry point must name a plivo_node.core.node.NodeType instance",
            )
        if node.name != point.name:
            raise ConfigurationError(
                f"{where} is registered as '{point.name}' but calls itself '{node.name}'",
                hint="the entry point's name and the NodeType's name must be the same",
            )
        description = load_node_description(node.description_file)
        credentials = tuple(load_credential_type(path) for path in node.credential_files)
        _check_consistent(where, node, description, credentials)
        return LoadedNode(node, description, credentials)


def _check_consistent(
    where: str,
    node: NodeType,
    description: NodeDescription,
    credentials: tuple[CredentialType, ...],
) -> None:
    """The node type and its files agree: a mismatch is the node's bug, reported before a run."""
    problems: list[str] = []
    if description.name != node.name:
        problems.append(f"its description's name is '{description.name}'")
    offered = description.operations() or {SINGLE_OPERATION}
    missing = sorted(
        f"{r}.{o}" if r else "(single handler)" for r, o in offered - set(node.handlers)
    )
    if missing:
        problems.append(f"no handler for {', '.join(missing)}")
    names = {credential.name for credential in credentials}
    needed = {ref.name for ref in description.credentials}
    if needed - names:
        problems.append(f"no credential file for {', '.join(sorted(needed - names))}")
    if node.client is not None and node.client.credential_type not in names:
        problems.append(f"its client needs credential type '{node.client.credential_type}'")
    if problems:
        raise ConfigurationError(
            f"{where} is inconsistent: {'; '.join(problems)}",
            hint="report it to the node's authors",
        )


def _origin(point: EntryPoint) -> str:
    dist = point.dist
    package = f"{dist.name} " if dist is not None else ""
    return f"{package}{point.value}".strip()
