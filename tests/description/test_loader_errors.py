"""Bad manifests and credential types: every problem reported at once, with its location."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from plivo_node.core.errors import DescriptionError
from plivo_node.description import (
    NodeDescription,
    load_credential_type,
    load_node_description,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"

EXPECTED_PROBLEMS: dict[str, list[str]] = {
    "schema_errors.yaml": [
        "properties[1].displayOptions.show.resource: 'sms' is not of type 'array'",
        (
            "properties[2].type: 'text' is not one of ['string', 'number', 'boolean', 'options', "
            "'multiOptions', 'collection', 'json', 'notice', 'filter', 'assignmentCollection', "
            "'fixedCollection']"
        ),
        "properties[3]: 'default' is a required property",
        "properties[3]: Additional properties are not allowed ('displayOption' was unexpected)",
        "properties[4]: 'options' is a required property",
    ],
    "bad_references.yaml": [
        (
            "properties[2].displayOptions.show.oparation: refers to parameter 'oparation', which "
            "does not exist; did you mean 'operation'?"
        ),
        (
            "properties[3].displayOptions.show.operation: 'sned' is not a value of parameter "
            "'operation' here (its values: send)"
        ),
        (
            "properties[4].options[0].displayOptions.show./resource: 'mms' is not a value of "
            "parameter 'resource' here (its values: sms)"
        ),
        (
            "properties[4].options[0].displayOptions.show.mode: refers to parameter 'mode', which "
            "does not exist"
        ),
    ],
    "duplicate_visible.yaml": [
        (
            "properties[3]: parameter 'to' is shown together with properties[2] of the same name "
            "(resource 'sms', operation 'send'); make their displayOptions exclusive or rename one"
        ),
    ],
    "bad_defaults.yaml": [
        "properties[0].default: 'mms' is not one of the options of 'resource' ('sms')",
        "properties[2].default: '20' is not a number (parameter 'limit' is a number)",
        "properties[3].typeOptions.minValue: does not apply to a parameter of type boolean",
        "properties[3].default: 'yes' is not true or false (parameter 'log' is boolean)",
        (
            "properties[4].default: a collection's default must be {} (only the fields given are "
            "kept)"
        ),
        "properties[4].options[0].default: 0 is outside typeOptions minValue..maxValue",
        (
            "properties[4].options[1].name: 'speed' is already the name of "
            "properties[4].options[0]; field names in a collection must be unique"
        ),
        (
            "properties[0].noDataExpression: 'resource' must set noDataExpression: true (it is "
            "fixed per step, never computed from item data)"
        ),
    ],
    "missing_operations.yaml": [
        (
            "properties[0].options[0]: resource 'call' has no 'operation' parameter; add one with "
            "displayOptions.show.resource: [call]"
        ),
        (
            "properties: operation 'get' of resource 'sms' shows no parameters; give at least one "
            "parameter displayOptions.show {resource: [sms], operation: [get]}"
        ),
    ],
    "yaml_syntax.yaml": [
        (
            "line 6, column 4: YAML syntax error: expected <block end>, but found '<block mapping "
            "start>' (while parsing a block collection)"
        ),
    ],
    "duplicate_key.yaml": [
        (
            "line 4, column 1: duplicate key 'description' (a YAML mapping keeps one value per "
            "key; remove or rename one)"
        ),
    ],
    "empty.yaml": ["empty.yaml: the file is empty"],
}


@pytest.mark.parametrize("fixture", sorted(EXPECTED_PROBLEMS))
def test_bad_manifest_reports_every_problem_with_its_location(fixture: str) -> None:
    path = FIXTURES / fixture
    with pytest.raises(DescriptionError) as caught:
        load_node_description(path)
    assert caught.value.problems == EXPECTED_PROBLEMS[fixture]
    assert caught.value.source == str(path)
    # One message lists them all, with a count, and no traceback text.
    message = str(caught.value)
    count = len(EXPECTED_PROBLEMS[fixture])
    assert message.startswith(f"{path}: {count} problem")
    assert all(f"  - {problem}" in message for problem in EXPECTED_PROBLEMS[fixture])
    assert "Traceback" not in message


def test_good_fixture_loads_into_frozen_models() -> None:
    node = load_node_description(FIXTURES / "good.yaml")
    assert isinstance(node, NodeDescription)
    assert node.operations() == frozenset({("sms", "send"), ("item", "getAll")})
    collection = next(p for p in node.properties if p.name == "additionalFields")
    assert [f.name for f in collection.fields()] == ["speed", "tags"]
    assert collection.fields()[1].option_values() == ("blue", "red")
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.properties[0].name = "other"  # type: ignore[misc]


def test_missing_file_is_a_description_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(DescriptionError) as caught:
        load_node_description(path)
    assert caught.value.problems == [f"file not found: {path}"]


def test_top_level_schema_problems_are_located_at_the_file(tmp_path: Path) -> None:
    path = tmp_path / "node.yaml"
    path.write_text("displayName: X\nname: x\n", encoding="utf-8")
    with pytest.raises(DescriptionError) as caught:
        load_node_description(path)
    assert "node.yaml: 'properties' is a required property" in caught.value.problems
    assert "node.yaml: 'version' is a required property" in caught.value.problems


def test_bad_credential_type_names_the_unmasked_secret_and_the_broken_reference() -> None:
    with pytest.raises(DescriptionError) as caught:
        load_credential_type(FIXTURES / "bad_credential.yaml")
    assert caught.value.problems == [
        (
            "properties[1].typeOptions: 'authToken' holds a secret; set typeOptions.password: true "
            "so it is masked"
        ),
        (
            "authenticate.properties.auth.password: refers to $credentials.authTokn, which is "
            "not a property of 'plivoApi'; did you mean 'authToken'?"
        ),
    ]


def test_credential_schema_errors_have_paths(tmp_path: Path) -> None:
    path = tmp_path / "cred.yaml"
    path.write_text(
        "name: plivoApi\ndisplayName: P\nproperties:\n"
        "  - {displayName: A, name: a, type: string, default: '', secret: true}\n"
        "authenticate: {type: oauth, properties: {auth: {username: x, password: y}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(DescriptionError) as caught:
        load_credential_type(path)
    assert caught.value.problems == [
        "authenticate.type: 'generic' was expected",
        "properties[0]: Additional properties are not allowed ('secret' was unexpected)",
    ]
