"""The node registry: entry points in plivo_node.nodes, loaded lazily, checked when loaded."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from plivo_node.core.errors import ConfigurationError, PipelineError
from plivo_node.core.items import Item
from plivo_node.core.node import SINGLE_OPERATION, NodeType, OperationContext
from plivo_node.run.pipeline import build_steps, parse_pipeline
from plivo_node.run.registry import ENTRY_POINT_GROUP, NodeRegistry
from plivo_node.run.runner import execute

UPPER_YAML = """\
displayName: Upper
name: upper
group: [transform]
version: 1
description: Upper-cases one field of every item
defaults: {name: Upper}
inputs: [main]
outputs: [main]
properties:
  - {displayName: Field, name: field, type: string, default: name, required: true}
"""


async def upper(ctx: OperationContext) -> list[dict[str, Any]]:
    field = str(ctx.params["field"])
    return [{**ctx.item.json, field: str(ctx.item.json.get(field, "")).upper()}]


@pytest.fixture
def module(tmp_path: Path) -> Iterator[types.ModuleType]:
    """A module named test_upper_node with a NodeType ``NODE`` described by UPPER_YAML."""
    description = tmp_path / "upper.yaml"
    description.write_text(UPPER_YAML, encoding="utf-8")
    made = types.ModuleType("test_upper_node")
    made.NODE = NodeType(  # type: ignore[attr-defined]
        name="upper", description_file=description, handlers={SINGLE_OPERATION: upper}
    )
    sys.modules["test_upper_node"] = made
    yield made
    del sys.modules["test_upper_node"]


def point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def pipeline(node: str) -> str:
    return f"version: 1\nsteps:\n  - {{name: Shout, node: {node}, parameters: {{field: who}}}}\n"


def test_the_plivo_node_is_registered_like_any_other() -> None:
    registry = NodeRegistry()
    assert "plivo" in registry.names()
    assert registry.get("plivo").description.name == "plivo"


def test_a_node_type_is_found_by_its_entry_point(module: types.ModuleType) -> None:
    registry = NodeRegistry([point("upper", "test_upper_node:NODE")])
    loaded = registry.get("upper")
    assert loaded.type is module.NODE
    assert loaded.description.displayName == "Upper"
    assert registry.get("upper") is loaded  # loaded once


def test_only_the_node_types_a_pipeline_names_are_loaded(module: types.ModuleType) -> None:
    # The broken entry point would fail if it were imported: building a pipeline that does not
    # use it must not touch it.
    registry = NodeRegistry(
        [point("upper", "test_upper_node:NODE"), point("broken", "no_such_module_x:NODE")]
    )
    (step,) = build_steps(parse_pipeline(pipeline("upper"), source="p", base_dir=Path()), registry)
    assert step.node == "upper"
    assert "no_such_module_x" not in sys.modules
    with pytest.raises(ConfigurationError, match="cannot be loaded: ModuleNotFoundError"):
        registry.get("broken")


def test_an_unknown_node_names_the_step_and_lists_the_installed_ones(
    module: types.ModuleType,
) -> None:
    registry = NodeRegistry([point("upper", "test_upper_node:NODE"), point("b", "x:NODE")])
    spec = parse_pipeline(pipeline("shout"), source="p.yaml", base_dir=Path())
    with pytest.raises(PipelineError) as caught:
        build_steps(spec, registry)
    assert caught.value.code == "invalid_pipeline"  # a configuration error: exit 2
    (problem,) = caught.value.problems
    assert problem.startswith("step 'Shout': unknown node type 'shout' (installed: b, upper)")


def test_a_name_registered_twice_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="registered more than once: 'upper' by a:N, b:N"):
        NodeRegistry([point("upper", "a:N"), point("upper", "b:N"), point("other", "c:N")])


def test_an_entry_point_must_name_a_node_type(module: types.ModuleType) -> None:
    module.NOT_A_NODE = {"name": "upper"}  # type: ignore[attr-defined]
    registry = NodeRegistry([point("upper", "test_upper_node:NOT_A_NODE")])
    with pytest.raises(ConfigurationError, match="names a dict, not a NodeType"):
        registry.get("upper")


def test_the_entry_point_and_the_node_type_must_agree_on_the_name(
    module: types.ModuleType,
) -> None:
    registry = NodeRegistry([point("shout", "test_upper_node:NODE")])
    with pytest.raises(ConfigurationError, match="registered as 'shout' but calls itself 'upper'"):
        registry.get("shout")


def test_a_node_type_without_a_handler_for_its_operations_is_refused(
    module: types.ModuleType,
) -> None:
    module.NODE = NodeType(  # type: ignore[attr-defined]
        name="upper", description_file=module.NODE.description_file, handlers={}
    )
    registry = NodeRegistry([point("upper", "test_upper_node:NODE")])
    with pytest.raises(ConfigurationError, match=r"no handler for \(single handler\)"):
        registry.get("upper")


async def test_a_node_without_resources_runs_its_single_handler(
    module: types.ModuleType,
) -> None:
    registry = NodeRegistry([point("upper", "test_upper_node:NODE")])
    spec = parse_pipeline(pipeline("upper"), source="p", base_dir=Path())
    steps = build_steps(spec, registry)
    lines: list[str] = []
    summary = await execute(steps, [Item(json={"who": "ada", "n": 1})], {}, lines.append)
    assert summary.failed == 0
    assert lines == ['{"json":{"who":"ADA","n":1},"pairedItem":{"item":0}}']


def test_a_node_without_resources_reports_unknown_parameters_for_itself(
    module: types.ModuleType,
) -> None:
    registry = NodeRegistry([point("upper", "test_upper_node:NODE")])
    text = pipeline("upper").replace("field: who", "fild: who")
    with pytest.raises(PipelineError) as caught:
        build_steps(parse_pipeline(text, source="p", base_dir=Path()), registry)
    (problem,) = caught.value.problems
    assert "parameters.fild: unknown parameter for this node; did you mean 'field'?" in problem
