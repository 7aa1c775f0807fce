"""The real node_manifest.yaml and plivoApi credential: complete, as OPERATIONS.md specifies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from plivo_node.description import (
    NodeDescription,
    Property,
    validate_against_schema,
)
from plivo_node.description.visibility import UNKNOWN, evaluate
from plivo_node.nodes.plivo.description import plivo_credential_type, plivo_description

# name -> (type, default, required) for every operation, from OPERATIONS.md.
S, N, B, OPT, C = "string", "number", "boolean", "options", "collection"
PAGING = {"returnAll": (B, False, False), "limit": (N, 20, False)}
EXPECTED_PARAMETERS: dict[tuple[str, str], dict[str, tuple[str, Any, bool]]] = {
    ("sms", "send"): {
        "from": (S, "", False),  # required unless additionalFields.powerpack_uuid is set
        "to": (S, "", True),
        "message": (S, "", True),
        "type": (OPT, "sms", False),
        "url": (S, "", False),
        "method": (OPT, "POST", False),
        "log": (B, True, False),
        "trackable": (B, False, False),
        "additionalFields": (C, {}, False),
    },
    ("mms", "send"): {
        "from": (S, "", True),
        "to": (S, "", True),
        "message": (S, "", False),
        "media_urls": (S, "", False),
        "type": (OPT, "mms", False),
        "url": (S, "", False),
        "method": (OPT, "POST", False),
        "log": (B, True, False),
        "additionalFields": (C, {}, False),
    },
    ("call", "make"): {
        "from": (S, "", True),
        "to": (S, "", True),
        "answer_url": (S, "", True),
        "answer_method": (OPT, "POST", True),
        "hangup_url": (S, "", False),
        "hangup_method": (OPT, "POST", False),
        "fallback_url": (S, "", False),
        "fallback_method": (OPT, "POST", False),
        "caller_name": (S, "", False),
        "send_digits": (S, "", False),
        "send_on_preanswer": (B, False, False),
        "time_limit": (N, 14400, False),
        "ring_timeout": (N, 120, False),
        "additionalFields": (C, {}, False),
    },
    ("account", "get"): {"subaccount": (B, False, False)},
    ("application", "create"): {
        "app_name": (S, "", True),
        "answer_url": (S, "", True),
        "answer_method": (OPT, "POST", False),
        "additionalFields": (C, {}, False),
    },
    ("application", "delete"): {"app_id": (S, "", True), "additionalFields": (C, {}, False)},
    ("application", "get"): {"app_id": (S, "", True)},
    ("application", "getAll"): PAGING,
    ("application", "update"): {"app_id": (S, "", True), "updateFields": (C, {}, False)},
    ("conference", "getAll"): PAGING,
    ("endpoint", "create"): {
        "username": (S, "", True),
        "password": (S, "", True),
        "alias": (S, "", True),
        "additionalFields": (C, {}, False),
    },
    ("endpoint", "delete"): {"endpoint_id": (S, "", True)},
    ("endpoint", "get"): {"endpoint_id": (S, "", True)},
    ("endpoint", "getAll"): PAGING,
    ("endpoint", "update"): {"endpoint_id": (S, "", True), "updateFields": (C, {}, False)},
    ("message", "get"): {"message_uuid": (S, "", True)},
    ("message", "getAll"): {**PAGING, "additionalFields": (C, {}, False)},
    ("number", "get"): {"number": (S, "", True)},
    ("number", "update"): {"number": (S, "", True), "updateFields": (C, {}, False)},
    ("number", "getAll"): {
        **PAGING,
        "type": (OPT, "", False),
        "number_startswith": (S, "", False),
        "additionalFields": (C, {}, False),
    },
    ("pricing", "get"): {"country_iso": (S, "", True)},
}

APPLICATION_FIELDS = {
    "default_endpoint_app", "default_number_app", "fallback_answer_url", "fallback_method",
    "hangup_method", "hangup_url", "log_incoming_messages", "message_method", "message_url",
    "public_uri", "subaccount",
}  # fmt: skip
EXPECTED_FIELDS: dict[tuple[str, str, str], set[str]] = {
    ("sms", "send", "additionalFields"): {
        "powerpack_uuid", "media_urls", "dlt_entity_id", "dlt_template_id",
    },
    ("mms", "send", "additionalFields"): {"powerpack_uuid", "media_ids", "binary_properties"},
    ("call", "make", "additionalFields"): {
        "machine_detection", "machine_detection_time", "machine_detection_url",
        "machine_detection_method", "ring_url", "ring_method", "hangup_on_ring", "sip_headers",
    },
    ("application", "create", "additionalFields"): APPLICATION_FIELDS,
    ("application", "delete", "additionalFields"): {"cascade", "new_endpoint_application"},
    ("application", "update", "updateFields"): {"answer_url", "answer_method"}
    | APPLICATION_FIELDS,
    ("endpoint", "create", "additionalFields"): {"app_id"},
    ("endpoint", "update", "updateFields"): {"alias", "password", "app_id"},
    ("message", "getAll", "additionalFields"): {
        "message_direction", "message_state", "message_type", "message_time",
        "message_time__gt", "message_time__gte", "message_time__lt", "message_time__lte",
        "subaccount", "from_number", "to_number", "error_code",
    },
    ("number", "update", "updateFields"): {"alias", "app_id", "subaccount"},
    ("number", "getAll", "additionalFields"): {
        "alias", "subaccount", "services", "renewal_date", "renewal_date__gt",
        "renewal_date__gte", "renewal_date__lt", "renewal_date__lte",
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def node() -> NodeDescription:
    return plivo_description()


def shown_for(node: NodeDescription, resource: str, operation: str) -> dict[str, Property]:
    """The parameters an operation may show (conditions on other parameters left open)."""
    known = {"resource": resource, "operation": operation}
    shown = [
        prop
        for prop in node.properties
        if prop.name not in known
        and evaluate(prop.displayOptions, lambda key: known.get(key, UNKNOWN)) is not False
    ]
    assert len({p.name for p in shown}) == len(shown), f"duplicate names for {known}"
    return {prop.name: prop for prop in shown}


def test_the_node_offers_exactly_the_21_operations(node: NodeDescription) -> None:
    assert node.operations() == frozenset(EXPECTED_PARAMETERS)
    assert len(node.operations()) == 21
    assert node.resources() == (
        "account", "application", "call", "conference", "endpoint", "message", "mms", "number",
        "pricing", "sms",
    )  # fmt: skip


@pytest.mark.parametrize(("resource", "operation"), sorted(EXPECTED_PARAMETERS))
def test_every_operation_has_exactly_its_parameters(
    node: NodeDescription, resource: str, operation: str
) -> None:
    shown = shown_for(node, resource, operation)
    actual = {name: (p.type, p.default, p.required) for name, p in shown.items()}
    assert actual == EXPECTED_PARAMETERS[resource, operation]


@pytest.mark.parametrize(("resource", "operation", "collection"), sorted(EXPECTED_FIELDS))
def test_every_collection_has_exactly_its_fields(
    node: NodeDescription, resource: str, operation: str, collection: str
) -> None:
    prop = shown_for(node, resource, operation)[collection]
    expected = EXPECTED_FIELDS[resource, operation, collection]
    assert {field.name for field in prop.fields()} == expected
    assert prop.placeholder == "Add Field"


def test_header_matches_n8n_plivo_node(node: NodeDescription) -> None:
    assert (node.displayName, node.name, node.version) == ("Plivo", "plivo", 1)
    assert node.inputs == ("main",)
    assert node.outputs == ("main",)
    assert [(c.name, c.required) for c in node.credentials] == [("plivoApi", True)]
    assert node.defaults == {"name": "Plivo"}


def test_resource_and_operation_are_fixed_options_with_actions(node: NodeDescription) -> None:
    for prop in node.properties:
        if prop.name in ("resource", "operation"):
            assert prop.type == "options"
            assert prop.noDataExpression
        if prop.name == "operation":
            assert all(option.action for option in prop.options or ())  # type: ignore[union-attr]


def _all_properties(props: tuple[Property, ...]) -> list[Property]:
    return [item for prop in props for item in (prop, *_all_properties(prop.fields()))]


def test_n8n_naming_conventions(node: NodeDescription) -> None:
    for prop in _all_properties(node.properties):
        # Choices sort by their name, collection fields by their display name.
        names = [o.name for o in prop.options or () if not isinstance(o, Property)]
        names += [field.displayName for field in prop.fields()]
        assert names == sorted(names, key=str.lower), f"{prop.name}: options not sorted"
        if prop.description:
            assert not prop.description.endswith("."), prop.name
        if prop.type == "boolean":
            assert prop.description is not None
            assert prop.description.startswith("Whether"), prop.name


def test_type_options_and_ranges(node: NodeDescription) -> None:
    call = shown_for(node, "call", "make")["additionalFields"]
    detection = next(f for f in call.fields() if f.name == "machine_detection_time")
    assert detection.default == 5000
    assert detection.typeOptions == {"minValue": 2000, "maxValue": 10000}
    machine = next(f for f in call.fields() if f.name == "machine_detection")
    assert set(machine.option_values()) == {"true", "hangup"}
    limit = shown_for(node, "number", "getAll")["limit"]
    assert limit.typeOptions == {"minValue": 1}
    assert limit.displayOptions is not None
    assert limit.displayOptions.show is not None
    assert limit.displayOptions.show["returnAll"] == (False,)
    assert shown_for(node, "endpoint", "create")["password"].is_secret
    update = shown_for(node, "endpoint", "update")["updateFields"]
    assert next(f for f in update.fields() if f.name == "password").is_secret


def test_the_same_names_are_reused_with_their_own_options(node: NodeDescription) -> None:
    assert shown_for(node, "sms", "send")["type"].option_values() == ("sms", "unicode")
    assert shown_for(node, "mms", "send")["type"].option_values() == ("mms",)
    assert shown_for(node, "number", "getAll")["type"].option_values() == (
        "", "local", "mobile", "tollfree",
    )  # fmt: skip
    for resource, operation in (("sms", "send"), ("mms", "send"), ("call", "make")):
        assert shown_for(node, resource, operation)["from"].placeholder == "+14156667777"
    services = next(
        f for f in shown_for(node, "number", "getAll")["additionalFields"].fields()
        if f.name == "services"
    )  # fmt: skip
    assert (services.type, services.option_values()) == ("multiOptions", ("mms", "sms", "voice"))


def test_n8n_json_is_valid_and_round_trips(node: NodeDescription) -> None:
    exported = json.loads(json.dumps(node.to_n8n_json()))
    assert validate_against_schema(exported, "manifest", "export") == []
    assert NodeDescription.from_data(exported) == node
    assert "required" not in exported["properties"][0]  # n8n leaves false flags out


def test_default_description_is_loaded_once() -> None:
    assert plivo_description() is plivo_description()


def test_plivo_credential_type() -> None:
    credential = plivo_credential_type()
    assert (credential.name, credential.displayName) == ("plivoApi", "Plivo API")
    assert [p.name for p in credential.properties] == [
        "authId",
        "authToken",
        "baseUrl",
        "mainAuthToken",
    ]
    assert credential.secret_names() == frozenset({"authToken", "mainAuthToken"})
    assert credential.authenticate.type == "generic"
    assert credential.authenticate.properties["auth"] == {
        "username": "={{$credentials.authId}}",
        "password": "={{$credentials.authToken}}",
    }
    assert credential.test is not None
    assert credential.test.request.method == "GET"
    assert credential.test.request.url == "=/Account/{{$credentials.authId}}/"


def test_data_files_are_found_from_another_working_directory(tmp_path: Path) -> None:
    script = (
        "from plivo_node.description import load_schema\n"
        "from plivo_node.nodes.plivo.description import plivo_credential_type, "
        "plivo_description\n"
        "print(len(plivo_description().operations()), plivo_credential_type().name, "
        "load_schema('pipeline')['title'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["21", "plivoApi", "Pipeline", "file"]
