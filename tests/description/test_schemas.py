"""The JSON Schemas: valid draft 2020-12, and the pipeline/output formats they define."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from plivo_node.core.errors import PipelineError
from plivo_node.description import load_schema, validate_against_schema
from plivo_node.run.pipeline import build_steps, parse_pipeline


@pytest.mark.parametrize("name", ["manifest", "credential", "pipeline", "output_item"])
def test_schemas_are_valid_draft_2020_12(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_load_schema_returns_a_fresh_copy() -> None:
    load_schema("pipeline")["title"] = "changed"
    assert load_schema("pipeline.schema.json")["title"] == "Pipeline file"


GOOD_PIPELINE: dict[str, Any] = {
    "version": 1,
    "name": "reminders",
    "input": {"path": "contacts.csv", "format": "csv"},
    "output": "out.jsonl",
    "credentials": {"plivoApi": {"authId": "${PLIVO_AUTH_ID}", "authToken": "${PLIVO_TOKEN}"}},
    "settings": {
        "concurrency": 10,
        "rateLimit": {"requests": 5, "perSeconds": 1},
        "timeoutSeconds": 30,
        "messagesPerSecond": 5,
    },
    "steps": [
        {
            "name": "Send",
            "node": "plivo",
            "parameters": {"resource": "sms", "operation": "send", "to": "={{ $json.phone }}"},
            "onError": "continueErrorOutput",
            "bulk": False,
            "concurrency": 4,
        }
    ],
}


def test_good_pipelines_pass() -> None:
    assert validate_against_schema(GOOD_PIPELINE, "pipeline", "p.yaml") == []
    minimal = {"version": 1, "input": "in.jsonl", "settings": {"rateLimit": False}}
    minimal["steps"] = [
        {"name": "A", "node": "plivo", "parameters": {"resource": "account", "operation": "get"}}
    ]
    assert validate_against_schema(minimal, "pipeline", "p.yaml") == []


def test_parameters_as_n8n_saves_them_need_no_resource_or_operation() -> None:
    """n8n leaves out parameters at their default (resource sms, operation send)."""
    saved = {"version": 1, "steps": [{"name": "Plivo", "node": "plivo", "parameters": {}}]}
    assert validate_against_schema(saved, "pipeline", "p.yaml") == []


def test_bad_pipeline_lists_every_problem_with_its_path() -> None:
    bad = {
        "version": 2,
        "input": {"path": "in.txt", "format": "xml"},
        "settings": {"concurrency": 0, "rateLimit": {"requests": 5}, "timeout": 3},
        "steps": [
            {"name": "", "node": "twilio", "parameters": {"resource": "sms"}, "onError": "skip"},
            {"name": "B", "node": "plivo", "parameters": {"resource": "sms", "operation": "send"},
             "retry": True},
        ],
    }  # fmt: skip
    assert validate_against_schema(bad, "pipeline", "p.yaml") == [
        (
            "input: matches no accepted form: the value is not of type 'string'; format: 'xml' is "
            "not one of ['csv', 'jsonl', 'json']"
        ),
        "settings: Additional properties are not allowed ('timeout' was unexpected)",
        "settings.concurrency: 0 is less than the minimum of 1",
        (
            "settings.rateLimit: matches no accepted form: False was expected; 'perSeconds' is a "
            "required property"
        ),
        "steps[0].name: '' should be non-empty",
        (
            "steps[0].onError: 'skip' is not one of ['stopWorkflow', 'continueRegularOutput', "
            "'continueErrorOutput']"
        ),
        "steps[1]: Additional properties are not allowed ('retry' was unexpected)",
        "version: 1 was expected",
    ]


def test_empty_steps_and_unknown_top_level_keys_are_refused() -> None:
    assert validate_against_schema({"version": 1, "steps": [], "stepz": []}, "pipeline", "p") == [
        "p: Additional properties are not allowed ('stepz' was unexpected)",
        "steps: [] should be non-empty",
    ]


def test_secrets_are_never_echoed_in_credential_problems() -> None:
    """The fields are the credential type's to check, once the pipeline's nodes are known."""
    pipeline = dict(GOOD_PIPELINE, credentials={"plivoApi": {"authId": "x", "authToken": 98765}})
    assert validate_against_schema(pipeline, "pipeline", "p.yaml") == []
    spec = parse_pipeline(json.dumps(pipeline), source="p.yaml", base_dir=Path())
    with pytest.raises(PipelineError) as caught:
        build_steps(spec)
    assert caught.value.problems[-1:] == [
        "credentials.plivoApi.authToken: the value is not of type 'string'"
    ]
    assert "98765" not in str(caught.value)


def test_output_items() -> None:
    ok = {"json": {"status": "queued"}, "pairedItem": {"item": 3}}
    failed = {
        "json": {"error": "Bad request"},
        "pairedItem": {"item": 0},
        "error": {"message": "Bad request", "code": "bad_request", "httpCode": 400},
    }
    assert validate_against_schema(ok, "output_item", "out") == []
    assert validate_against_schema(failed, "output_item", "out") == []
    assert validate_against_schema(
        {"json": [], "pairedItem": {"item": -1}, "error": {"message": "x"}}, "output_item", "out"
    ) == [
        "error: 'code' is a required property",
        "json: [] is not of type 'object'",
        "pairedItem.item: -1 is less than the minimum of 0",
    ]
