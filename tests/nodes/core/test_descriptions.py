"""Each core node's YAML description validates and matches the function that runs it.

The descriptions follow n8n's own (packages/nodes-base/nodes/{ManualTrigger, Set/v2, If/V2,
Filter/V2, Transform/SplitOut, NoOp}); they are loaded by the same loader as the Plivo
node's manifest (JSON Schema, semantic checks, models) and resolved by the same resolver.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from plivo_node.core.errors import PipelineError
from plivo_node.description import NodeDescription, load_node_description
from plivo_node.description.parameters import ParameterResolver
from plivo_node.expressions import ExpressionContext
from plivo_node.nodes.core import MODULES, description_path

EXPECTED = {
    # type: (displayName, group, inputs, outputs, outputNames)
    "manualTrigger": ("Manual Trigger", ("trigger",), (), ("main",), None),
    "set": ("Edit Fields (Set)", ("input",), ("main",), ("main",), None),
    "if": ("If", ("transform",), ("main",), ("main", "main"), ("true", "false")),
    "filter": ("Filter", ("transform",), ("main",), ("main",), ("Kept", "Discarded")),
    "splitOut": ("Split Out", ("transform",), ("main",), ("main",), None),
    "noOp": ("No Operation, do nothing", ("organization",), ("main",), ("main",), None),
    "scheduleTrigger": ("Schedule Trigger", ("trigger", "schedule"), (), ("main",), None),
}


def versions(node: NodeDescription) -> tuple[float, ...]:
    return node.version if isinstance(node.version, tuple) else (node.version,)


@pytest.mark.parametrize("node_type", sorted(MODULES))
def test_the_description_validates_and_names_the_node_as_n8n_does(node_type: str) -> None:
    node = load_node_description(description_path(node_type))
    assert node.name == node_type
    display, group, inputs, outputs, output_names = EXPECTED[node_type]
    assert (node.displayName, node.group) == (display, group)
    assert (node.inputs, node.outputs, node.outputNames) == (inputs, outputs, output_names)
    assert node.resources() == ()  # core nodes have no resource/operation


@pytest.mark.parametrize("node_type", sorted(MODULES))
def test_the_description_offers_the_type_versions_the_function_runs(node_type: str) -> None:
    module: Any = importlib.import_module(MODULES[node_type])
    node = load_node_description(description_path(node_type))
    assert versions(node) == tuple(module.TYPE_VERSIONS)


@pytest.mark.parametrize(
    ("node_type", "type_version", "expected"),
    [
        ("manualTrigger", 1, {"notice": ""}),
        ("noOp", 1, {}),
        (
            "set",
            3.4,
            {
                "mode": "manual",
                "duplicateItem": False,
                "assignments": {},
                "includeOtherFields": False,
                "options": {},
            },
        ),
        ("if", 2, {"conditions": {}, "options": {}}),
        ("if", 2.2, {"conditions": {}, "looseTypeValidation": False, "options": {}}),
        ("filter", 2.3, {"conditions": {}, "looseTypeValidation": False, "options": {}}),
        # A fixedCollection's default entry gets the defaults of the values it shows.
        (
            "scheduleTrigger",
            1.2,
            {
                "notice": "",
                "rule": {
                    "interval": [
                        {
                            "field": "days",
                            "daysInterval": 1,
                            "triggerAtHour": 0,
                            "triggerAtMinute": 0,
                        }
                    ]
                },
            },
        ),
    ],
)
def test_the_defaults_resolve_as_n8n_fills_them_in(
    node_type: str, type_version: float, expected: dict[str, Any]
) -> None:
    node = load_node_description(description_path(node_type))
    step = ParameterResolver(node, {}, step_name="Step", type_version=type_version)
    assert step.resolve(ExpressionContext(json={}, item_index=0)) == expected


def test_split_out_requires_its_field() -> None:
    node = load_node_description(description_path("splitOut"))
    with pytest.raises(PipelineError) as caught:
        ParameterResolver(node, {}, step_name="Split", type_version=1)
    assert caught.value.problems[0].startswith(
        "parameters.fieldToSplitOut: 'Fields To Split Out' is required"
    )


@pytest.mark.parametrize(
    ("type_version", "shown"),
    [(3.3, {"includeBinary": False}), (3.4, {"stripBinary": True})],
)
def test_set_binary_options_follow_the_type_version(
    type_version: float, shown: dict[str, Any]
) -> None:
    node = load_node_description(description_path("set"))
    raw = {"includeOtherFields": True, "options": {"includeBinary": False, "stripBinary": True}}
    step = ParameterResolver(node, raw, step_name="Edit", type_version=type_version)
    options = step.resolve(ExpressionContext(json={}, item_index=0))["options"]
    assert options == shown


def test_an_unknown_core_node_has_no_description() -> None:
    with pytest.raises(KeyError, match="core nodes: manualTrigger, set, if"):
        description_path("merge")
