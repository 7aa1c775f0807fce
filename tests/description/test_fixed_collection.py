"""fixedCollection parameters: the schema, the semantic checks, and resolution per item with
n8n's rules (groups given are kept; each entry holds the values shown for it, with defaults;
displayOptions read the entry's own values; expressions anywhere inside an entry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from plivo_node.core.errors import DescriptionError, ParameterError, PipelineError
from plivo_node.description import NodeDescription, load_node_description
from plivo_node.description.parameters import ParameterResolver
from plivo_node.expressions import ExpressionContext

BASE: dict[str, Any] = {
    "displayName": "Tiny",
    "name": "tiny",
    "group": ["transform"],
    "version": 1,
    "description": "A node with fixed collections",
    "defaults": {"name": "Tiny"},
    "inputs": ["main"],
    "outputs": ["main"],
}
VALUES: list[dict[str, Any]] = [
    {
        "displayName": "Kind",
        "name": "kind",
        "type": "options",
        "default": "text",
        "options": [{"name": "Text", "value": "text"}, {"name": "Number", "value": "number"}],
    },
    {
        "displayName": "Text",
        "name": "text",
        "type": "string",
        "default": "hi",
        "displayOptions": {"show": {"kind": ["text"]}},
    },
    {
        "displayName": "Number",
        "name": "number",
        "type": "number",
        "default": 1,
        "typeOptions": {"minValue": 0, "maxValue": 9},
        "displayOptions": {"show": {"kind": ["number"]}},
    },
]


def collection(*, multiple: bool, default: Any = None) -> dict[str, Any]:
    return {
        "displayName": "Rules",
        "name": "rules",
        "type": "fixedCollection",
        "default": {} if default is None else default,
        **({"typeOptions": {"multipleValues": True}} if multiple else {}),
        "options": [
            {"name": "rule", "displayName": "Rule", "values": VALUES},
            {"name": "other", "displayName": "Other", "values": VALUES[:2]},
        ],
    }


def load(tmp_path: Path, *properties: dict[str, Any]) -> NodeDescription:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({**BASE, "properties": list(properties)}), encoding="utf-8")
    return load_node_description(path)


def resolve(node: NodeDescription, raw: dict[str, Any], item: dict[str, Any] | None = None) -> Any:
    resolver = ParameterResolver(node, raw, step_name="Step")
    return resolver.resolve(ExpressionContext(json=item or {}, item_index=0))


def test_each_entry_holds_the_values_shown_for_it_with_defaults(tmp_path: Path) -> None:
    node = load(tmp_path, collection(multiple=True))
    raw = {"rules": {"rule": [{"kind": "number", "number": 7}, {}], "other": [{"text": "yo"}]}}
    assert resolve(node, raw) == {
        "rules": {
            "rule": [{"kind": "number", "number": 7}, {"kind": "text", "text": "hi"}],
            "other": [{"kind": "text", "text": "yo"}],
        }
    }
    assert resolve(node, {}) == {"rules": {}}  # no group given: none kept


def test_a_single_valued_collection_holds_one_entry_per_group(tmp_path: Path) -> None:
    node = load(tmp_path, collection(multiple=False, default={"rule": {"kind": "number"}}))
    assert resolve(node, {}) == {"rules": {"rule": {"kind": "number", "number": 1}}}
    assert resolve(node, {"rules": {"other": {"text": "x"}}}) == {
        "rules": {"other": {"kind": "text", "text": "x"}}
    }


def test_expressions_inside_an_entry_are_evaluated_and_checked_per_item(tmp_path: Path) -> None:
    node = load(tmp_path, collection(multiple=True))
    raw = {"rules": {"rule": [{"kind": "={{ $json.kind }}", "number": "={{ $json.n }}"}]}}
    assert resolve(node, raw, {"kind": "number", "n": "4"}) == {
        "rules": {"rule": [{"kind": "number", "number": 4}]}
    }
    assert resolve(node, raw, {"kind": "text", "n": "4"}) == {
        "rules": {"rule": [{"kind": "text", "text": "hi"}]}
    }
    with pytest.raises(ParameterError) as caught:
        resolve(node, raw, {"kind": "number", "n": "12"})
    assert caught.value.parameter == "rules.rule[0].number"


def test_wrong_shapes_and_names_are_reported_together_with_their_paths(tmp_path: Path) -> None:
    node = load(tmp_path, collection(multiple=True))
    raw = {
        "rules": {
            "rul": [{}],
            "rule": [{"kind": "number", "number": 12, "nmber": 1}, "text"],
            "other": {"kind": "text"},
        }
    }
    with pytest.raises(PipelineError) as caught:
        ParameterResolver(node, raw, step_name="Step")
    problems = caught.value.problems
    assert any(p.startswith("parameters.rules.rul: unknown group of 'Rules'") for p in problems)
    assert any("did you mean 'rule'?" in p for p in problems)
    assert any(p.startswith("parameters.rules.rule[0].number: 12 is above") for p in problems)
    assert any(p.startswith("parameters.rules.rule[0].nmber: unknown value") for p in problems)
    assert any(p.startswith("parameters.rules.rule[1]: expected a mapping") for p in problems)
    assert any(p.startswith("parameters.rules.other: expected a list of entries") for p in problems)
    with pytest.raises(PipelineError, match="expected a mapping of groups"):
        ParameterResolver(node, {"rules": "={{ $json.rules }}"}, step_name="Step")


def test_the_description_checks_defaults_groups_and_references(tmp_path: Path) -> None:
    bad_default = collection(multiple=True, default={"nope": [{}], "rule": {"kind": "text"}})
    with pytest.raises(DescriptionError) as caught:
        load(tmp_path, bad_default)
    assert any("default.nope: not a group of 'rules'" in p for p in caught.value.problems)
    assert any("default.rule: must be a list of objects" in p for p in caught.value.problems)
    broken = collection(multiple=True)
    broken["options"][0]["values"] = [
        *VALUES[:2],
        {**VALUES[2], "displayOptions": {"show": {"kind": ["decimal"]}}},
    ]
    with pytest.raises(DescriptionError) as caught:
        load(tmp_path, broken)
    assert any("'decimal' is not a value of parameter 'kind'" in p for p in caught.value.problems)
    without_groups = {**collection(multiple=True)}
    del without_groups["options"]
    with pytest.raises(DescriptionError, match="'options' is a required property"):
        load(tmp_path, without_groups)
