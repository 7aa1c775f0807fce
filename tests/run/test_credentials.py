"""Credentials for any node: block, environment variables the credential type declares, or none.

The Plivo node's own rules (Auth ID shape, token length) are in tests/nodes/plivo; this file
uses a made-up credential type to show the runtime's part knows nothing about Plivo.
"""

from __future__ import annotations

import pytest

from plivo_node.core.errors import CredentialError
from plivo_node.core.redaction import MASK, redact
from plivo_node.description import CredentialType
from plivo_node.run.credentials import block_problems, resolve_fields

KEY = "k3y-that-is-long-enough-to-mask"

SHOUT = CredentialType.from_data(
    {
        "name": "shoutApi",
        "displayName": "Shout API",
        "properties": [
            {"displayName": "API Key", "name": "apiKey", "type": "string", "default": "",
             "required": True, "typeOptions": {"password": True}},
            {"displayName": "Region", "name": "region", "type": "string", "default": "eu"},
        ],
        "authenticate": {
            "type": "generic",
            "properties": {"headers": {"X-Key": "={{$credentials.apiKey}}"}},
        },
        "environment": {"apiKey": "SHOUT_API_KEY", "region": "SHOUT_REGION"},
    }
)  # fmt: skip


def resolve(block: object, environ: dict[str, str], *others: str) -> dict[str, str] | None:
    return resolve_fields(SHOUT, block, environ, service="Shout", other_types=others)  # type: ignore[arg-type]


def test_nothing_configured_is_none() -> None:
    assert resolve(None, {}) is None
    assert resolve({}, {"HOME": "/root"}) is None


def test_the_declared_variables_are_read_and_defaults_fill_the_rest() -> None:
    assert resolve(None, {"SHOUT_API_KEY": f" {KEY} "}) == {"apiKey": KEY, "region": "eu"}
    assert redact(f"key={KEY}") == f"key={MASK}"  # a secret field is masked as soon as read


def test_a_declared_variable_set_empty_asks_for_a_live_account() -> None:
    with pytest.raises(CredentialError) as caught:
        resolve(None, {"SHOUT_REGION": "us"})
    assert "asks for a live Shout account (SHOUT_REGION set)" in caught.value.message
    assert "SHOUT_API_KEY is not set" in caught.value.message


def test_the_block_wins_and_may_reference_variables() -> None:
    fields = resolve({"shoutApi": {"apiKey": "${MY_KEY}"}}, {"MY_KEY": KEY, "SHOUT_REGION": "us"})
    assert fields == {"apiKey": KEY, "region": "us"}  # an optional field falls back to its variable


def test_entries_of_the_runs_other_credential_types_are_not_this_ones() -> None:
    assert resolve({"plivoApi": {"authId": "x"}}, {}, "plivoApi") is None
    with pytest.raises(CredentialError, match="has no shoutApi entry"):
        resolve({"plivoApi": {"authId": "x"}}, {})


def test_block_problems_name_fields_never_what_the_user_wrote() -> None:
    block = {"shoutApi": {"apiKey": 5, KEY: "x"}, f"MA{KEY}": {}, "shoutAPI": None}
    problems = block_problems(block, [SHOUT])
    not_a_type = "credentials: an entry is not a credential type of this pipeline's nodes"
    assert problems == [
        "credentials.shoutApi: unknown field (the fields are apiKey, region)",
        "credentials.shoutApi.apiKey: the value is not of type 'string'",
        f"{not_a_type} (theirs: shoutApi)",
        f"{not_a_type} (theirs: shoutApi); did you mean 'shoutApi'?",
    ]
    assert KEY not in "\n".join(problems)


def test_block_problems_of_a_required_field() -> None:
    assert block_problems({"shoutApi": {"region": "us"}}, [SHOUT]) == [
        "credentials.shoutApi: 'apiKey' is a required property"
    ]
    assert block_problems({"apiKey": " "}, [SHOUT]) == [
        "credentials.apiKey: the value should be non-empty"
    ]
