"""What every core node's function shares: its result type and its refusals.

A core node is a pure function of one item: it gets the node's parameters as n8n saves them
(defaults may be left out) with their expressions already evaluated for the item, and returns
``(output index, json)`` pairs. What it does not support is refused with a
:class:`~plivo_node.core.errors.ParameterError` naming the parameter and what to do instead: a
setting is never silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plivo_node.core.errors import ParameterError
from plivo_node.core.items import JsonObject

# (output index, json): If's true branch is output 0 and its false branch output 1.
Output = tuple[int, JsonObject]


def check_type_version(
    node: str, type_version: float, supported: tuple[float, ...], *, item_index: int
) -> None:
    """Refuse a typeVersion whose parameters this node does not implement."""
    if type_version in supported:
        return
    listed = ", ".join(f"{version:g}" for version in supported)
    raise ParameterError(
        f"{node} typeVersion {type_version:g} is not supported (supported: {listed})",
        hint=f"open the workflow in n8n to upgrade the {node} node, or use typeVersion {listed}",
        item_index=item_index,
        parameter="typeVersion",
    )


def unsupported(parameter: str, why: str, fix: str, *, item_index: int) -> ParameterError:
    """The error for a setting this runtime cannot honour."""
    return ParameterError(
        f"{why}, which this runtime does not support",
        hint=fix,
        item_index=item_index,
        parameter=parameter,
    )


def mapping_parameter(
    params: Mapping[str, Any], name: str, *, item_index: int
) -> Mapping[str, Any]:
    """A parameter that holds an object (``options``), ``{}`` when left out."""
    value = params.get(name, {})
    if not isinstance(value, Mapping):
        raise ParameterError(
            f"expected an object, got {type(value).__name__}",
            hint=f"give '{name}' as an object of its fields",
            item_index=item_index,
            parameter=name,
        )
    return value
