"""Descriptions of nodes without resources (n8n's core nodes) and their structured types."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from plivo_node.core.errors import DescriptionError
from plivo_node.description import NodeDescription, load_node_description

BASE = {
    "displayName": "Tiny",
    "name": "tiny",
    "group": ["transform"],
    "version": [2, 2.1],
    "description": "A node with no resource",
    "defaults": {"name": "Tiny"},
    "inputs": ["main"],
    "outputs": ["main", "main"],
    "outputNames": ["true", "false"],
}


def load(tmp_path: Path, **overrides: object) -> NodeDescription:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({**BASE, **overrides}), encoding="utf-8")
    return load_node_description(path)


def problems(tmp_path: Path, **overrides: object) -> list[str]:
    with pytest.raises(DescriptionError) as caught:
        load(tmp_path, **overrides)
    return caught.value.problems


def test_a_node_without_resource_or_operation_loads(tmp_path: Path) -> None:
    node = load(
        tmp_path,
        properties=[
            {"displayName": "Conditions", "name": "conditions", "type": "filter", "default": {}},
            {
                "displayName": "Fields",
                "name": "assignments",
                "type": "assignmentCollection",
                "default": {},
            },
            {
                "displayName": "JSON",
                "name": "jsonOutput",
                "type": "json",
                "default": "{}",
                "typeOptions": {"rows": 5},
            },
            {"displayName": "Read me", "name": "notice", "type": "notice", "default": ""},
        ],
    )
    assert node.version == (2, 2.1)
    assert node.outputNames == ("true", "false")
    assert node.operations() == frozenset()


def test_a_node_may_have_no_parameters_and_no_inputs(tmp_path: Path) -> None:
    node = load(tmp_path, inputs=[], properties=[])
    assert node.properties == ()
    assert node.inputs == ()


def test_structured_defaults_and_type_options_are_checked(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        properties=[
            {"displayName": "Conditions", "name": "conditions", "type": "filter", "default": []},
            {"displayName": "JSON", "name": "jsonOutput", "type": "json", "default": 5},
            {
                "displayName": "Fields",
                "name": "assignments",
                "type": "assignmentCollection",
                "default": {},
                "typeOptions": {"rows": 2},
            },
        ],
    )
    assert found == [
        "properties[0].default: a filter parameter's default must be {}",
        "properties[1].default: 5 is not a string (parameter 'jsonOutput' is of type json)",
        (
            "properties[2].typeOptions.rows: does not apply to a parameter of type "
            "assignmentCollection"
        ),
    ]


def test_structured_types_take_no_options(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        properties=[
            {
                "displayName": "Conditions",
                "name": "conditions",
                "type": "filter",
                "default": {},
                "options": [{"name": "A", "value": "a"}],
            }
        ],
    )
    assert found == ["properties[0]: 'options' is not allowed here"]


def test_an_operation_without_a_resource_is_still_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        properties=[
            {
                "displayName": "Operation",
                "name": "operation",
                "type": "options",
                "noDataExpression": True,
                "default": "a",
                "options": [{"name": "A", "value": "a"}],
            }
        ],
    )
    assert found == [
        "properties[0]: 'operation' needs a 'resource' parameter; add one, or rename it"
    ]
