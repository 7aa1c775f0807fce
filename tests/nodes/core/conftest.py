"""Running a core node the way the runtime will: its YAML description resolves the parameters
(as n8n saves them, ``={{ }}`` included) for each item, then the node's function runs."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from plivo_node.description import load_node_description
from plivo_node.description.parameters import ParameterResolver
from plivo_node.expressions import ExpressionContext
from plivo_node.nodes.core import MODULES, description_path

RunNode = Callable[..., list[tuple[int, dict[str, Any]]]]


def _run_node(
    node_type: str,
    params: Mapping[str, Any],
    items: Sequence[dict[str, Any]],
    *,
    type_version: float,
    **options: Any,
) -> list[tuple[int, dict[str, Any]]]:
    """Every item through the node: the (output, json) pairs of all items, in order."""
    module: Any = importlib.import_module(MODULES[node_type])
    description = load_node_description(description_path(node_type))
    step = ParameterResolver(description, params, step_name=node_type, type_version=type_version)
    results: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(items):
        resolved = step.resolve(ExpressionContext(json=item, item_index=index))
        results.extend(
            module.execute(resolved, item, item_index=index, type_version=type_version, **options)
        )
    return results


@pytest.fixture
def run_node() -> RunNode:
    return _run_node
