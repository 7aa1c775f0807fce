"""Credentials: resolution from the pipeline block and the environment, format checks, secrecy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from plivo_node.core.api import ApiResponse, HttpMethod, UploadFile
from plivo_node.core.errors import (
    AuthenticationError,
    ConnectionFailedError,
    CredentialError,
    PlivoNodeError,
)
from plivo_node.core.redaction import MASK, redact
from plivo_node.nodes.plivo.credentials import (
    DEFAULT_BASE_URL,
    ENV_AUTH_ID,
    ENV_AUTH_TOKEN,
    ENV_BASE_URL,
    Credentials,
    check_auth_id,
    check_credentials,
    resolve_credentials,
)
from plivo_node.nodes.plivo.credentials import test_credentials as check_live
from plivo_node.nodes.plivo.description import plivo_credential_type

AUTH_ID = "MAXXXXXXXXXXXXXXXXX1"
SUB_ID = "SA0123456789ABCDEFGH"
TOKEN = "Zm9vYmFyYmF6cXV4c2VjcmV0dG9rZW4xMjM0NTY3"  # 40 characters, like Plivo's


def no_token(*texts: object) -> None:
    for text in texts:
        assert TOKEN not in str(text)


def error_texts(error: PlivoNodeError) -> list[object]:
    return [error.message, error.hint, error.args, str(error), error.to_dict()]


# --- the auth id format ------------------------------------------------------------------


@pytest.mark.parametrize("auth_id", [AUTH_ID, SUB_ID, "MA" + "9" * 18, "SA" + "Z" * 18])
def test_valid_auth_ids(auth_id: str) -> None:
    check_auth_id(auth_id)


@pytest.mark.parametrize(
    ("auth_id", "says"),
    [
        ("", "empty"),
        ("MA123", "must be 20 characters"),
        ("MAXXXXXXXXXXXXXXXXX12", "it has 21"),
        ("XAXXXXXXXXXXXXXXXXX1", "must start with MA"),
        ("maXXXXXXXXXXXXXXXXX1", "must start with MA"),
        ("MAXXXXXXXXXXXXXXXXx1", "character at position 19"),
        ("MAXX-XXXXXXXXXXXX XX", "characters at positions 5, 18"),
    ],
)
def test_malformed_auth_ids_say_what_is_wrong(auth_id: str, says: str) -> None:
    with pytest.raises(CredentialError, match=says) as caught:
        check_auth_id(auth_id)
    assert caught.value.code == "invalid_credentials"
    if auth_id:
        assert auth_id not in str(caught.value)  # never echoed: it may be a misplaced token


def test_a_token_given_as_auth_id_is_not_echoed_and_the_swap_is_pointed_out() -> None:
    with pytest.raises(CredentialError) as caught:
        Credentials(TOKEN, AUTH_ID, DEFAULT_BASE_URL)
    assert "swapped" in (caught.value.hint or "")
    no_token(*error_texts(caught.value))


# --- the Credentials object ----------------------------------------------------------------


def test_repr_and_str_hide_the_token() -> None:
    credentials = Credentials(AUTH_ID, TOKEN, "http://127.0.0.1:8080/v1")
    no_token(repr(credentials), str(credentials), f"{credentials}")
    assert AUTH_ID in repr(credentials)
    assert credentials.auth_token == TOKEN


def test_creating_credentials_registers_the_token_for_redaction() -> None:
    assert redact(f"token={TOKEN}") == f"token={TOKEN}"
    Credentials(AUTH_ID, TOKEN, DEFAULT_BASE_URL)
    assert redact(f"token={TOKEN}") == f"token={MASK}"


def test_base_url_gets_its_trailing_slash() -> None:
    assert Credentials(AUTH_ID, TOKEN, "http://127.0.0.1:9/v1").base_url == "http://127.0.0.1:9/v1/"
    assert Credentials(AUTH_ID, TOKEN, DEFAULT_BASE_URL).base_url == DEFAULT_BASE_URL


@pytest.mark.parametrize(
    "base_url", ["api.plivo.com/v1/", "ftp://api.plivo.com/", "https://", f"https://u:{TOKEN}@h/"]
)
def test_bad_base_urls_are_rejected(base_url: str) -> None:
    with pytest.raises(CredentialError, match="base URL") as caught:
        Credentials(AUTH_ID, TOKEN, base_url)
    no_token(*error_texts(caught.value))


def test_empty_token_is_rejected() -> None:
    with pytest.raises(CredentialError, match="Auth Token is empty"):
        Credentials(AUTH_ID, "", DEFAULT_BASE_URL)


# --- resolution ----------------------------------------------------------------------------


def test_block_with_literal_values() -> None:
    block = {"plivoApi": {"authId": AUTH_ID, "authToken": TOKEN}}
    credentials = resolve_credentials(block, {})
    assert credentials == Credentials(AUTH_ID, TOKEN, DEFAULT_BASE_URL)


def test_block_values_may_name_environment_variables() -> None:
    block = {
        "plivoApi": {
            "authId": "${MY_ID}",
            "authToken": "${MY_TOKEN}",
            "baseUrl": "http://${HOST}:8080/v1",
        }
    }
    env = {"MY_ID": AUTH_ID, "MY_TOKEN": TOKEN, "HOST": "127.0.0.1"}
    credentials = resolve_credentials(block, env)
    assert credentials is not None
    assert (credentials.auth_id, credentials.auth_token) == (AUTH_ID, TOKEN)
    assert credentials.base_url == "http://127.0.0.1:8080/v1/"


@pytest.mark.parametrize(
    "token",
    ["abc$$defghijklm", "abc$defghijklmn", "$abc-defghijklm", "abcdefghijklm$", "abc${}defghijk"],
)
def test_a_dollar_outside_braces_is_literal(token: str) -> None:
    block = {"plivoApi": {"authId": AUTH_ID, "authToken": token}}
    credentials = resolve_credentials(block, {"def": "nope", "defghijklmn": "nope"})
    assert credentials is not None
    assert credentials.auth_token == token


def test_dollar_dollar_brace_escapes_a_reference() -> None:
    block = {"plivoApi": {"authId": AUTH_ID, "authToken": "abc$${HOME}defgh"}}
    credentials = resolve_credentials(block, {"HOME": "nope"})
    assert credentials is not None
    assert credentials.auth_token == "abc${HOME}defgh"


def test_a_bare_shell_reference_is_refused_with_the_braced_spelling() -> None:
    block = {"plivoApi": {"authId": AUTH_ID, "authToken": "$MY_TOKEN"}}
    with pytest.raises(CredentialError) as caught:
        resolve_credentials(block, {"MY_TOKEN": TOKEN})
    assert "${MY_TOKEN}" in str(caught.value)
    assert "$MY_TOKEN" in str(caught.value)  # the reference itself is not masked


def test_a_missing_variable_is_named() -> None:
    block = {"plivoApi": {"authId": AUTH_ID, "authToken": "${PLIVO_SECRET}"}}
    with pytest.raises(CredentialError, match="PLIVO_SECRET") as caught:
        resolve_credentials(block, {})
    assert "authToken" in caught.value.message
    assert "export PLIVO_SECRET" in (caught.value.hint or "")


def test_inner_mapping_is_accepted_too() -> None:
    credentials = resolve_credentials({"authId": AUTH_ID, "authToken": TOKEN}, {})
    assert credentials is not None
    assert credentials.auth_id == AUTH_ID


def test_environment_fallback() -> None:
    env = {"PLIVO_AUTH_ID": AUTH_ID, "PLIVO_AUTH_TOKEN": TOKEN}
    assert resolve_credentials(None, env) == Credentials(AUTH_ID, TOKEN, DEFAULT_BASE_URL)
    assert resolve_credentials({}, env) == Credentials(AUTH_ID, TOKEN, DEFAULT_BASE_URL)
    assert resolve_credentials({"plivoApi": None}, env) is not None


def test_environment_values_are_stripped() -> None:
    env = {"PLIVO_AUTH_ID": f" {AUTH_ID}\n", "PLIVO_AUTH_TOKEN": f"{TOKEN}\n"}
    credentials = resolve_credentials(None, env)
    assert credentials == Credentials(AUTH_ID, TOKEN, DEFAULT_BASE_URL)


def test_nothing_configured_is_none() -> None:
    assert resolve_credentials(None, {}) is None
    assert resolve_credentials(None, {"HOME": "/root"}) is None


@pytest.mark.parametrize(
    ("env", "says"),
    [
        # e.g. PLIVO_AUTH_TOKEN=$(cat /missing/file) in a cron job
        ({"PLIVO_AUTH_ID": AUTH_ID, "PLIVO_AUTH_TOKEN": ""}, "PLIVO_AUTH_TOKEN is empty"),
        ({"PLIVO_AUTH_ID": "", "PLIVO_AUTH_TOKEN": ""}, "PLIVO_AUTH_ID is empty and"),
        ({"PLIVO_API_URL": "http://x/"}, "PLIVO_AUTH_ID is not set and PLIVO_AUTH_TOKEN is not"),
    ],
)
def test_a_plivo_variable_set_empty_asks_for_a_live_account(env: dict[str, str], says: str) -> None:
    with pytest.raises(CredentialError, match=says) as caught:
        resolve_credentials(None, env)
    assert "asks for a live Plivo account" in str(caught.value)


def test_every_unset_variable_of_the_block_is_named_at_once() -> None:
    block = {"plivoApi": {"authId": "${CAMPAIGN_ID}", "authToken": "${CAMPAIGN_TOKEN}"}}
    with pytest.raises(CredentialError) as caught:
        resolve_credentials(block, {"PLIVO_AUTH_ID": AUTH_ID, "PLIVO_AUTH_TOKEN": TOKEN})
    assert "CAMPAIGN_ID" in caught.value.message
    assert "CAMPAIGN_TOKEN" in caught.value.message
    no_token(*error_texts(caught.value))


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"PLIVO_AUTH_ID": AUTH_ID}, "PLIVO_AUTH_TOKEN is not"),
        ({"PLIVO_AUTH_TOKEN": TOKEN}, "PLIVO_AUTH_ID is not"),
    ],
)
def test_one_variable_without_the_other_is_an_error(env: dict[str, str], missing: str) -> None:
    with pytest.raises(CredentialError, match=missing) as caught:
        resolve_credentials(None, env)
    no_token(*error_texts(caught.value))


@pytest.mark.parametrize("missing", ["authId", "authToken"])
def test_block_with_one_field_missing_is_an_error(missing: str) -> None:
    fields = {"authId": AUTH_ID, "authToken": TOKEN}
    del fields[missing]
    env = {"PLIVO_AUTH_ID": AUTH_ID, "PLIVO_AUTH_TOKEN": TOKEN}
    with pytest.raises(CredentialError, match=f"plivoApi.{missing} is missing") as caught:
        resolve_credentials({"plivoApi": fields}, env)
    no_token(*error_texts(caught.value))


def test_base_url_precedence() -> None:
    env = {"PLIVO_AUTH_ID": AUTH_ID, "PLIVO_AUTH_TOKEN": TOKEN, "PLIVO_API_URL": "http://env/v1"}
    from_env = resolve_credentials(None, env)
    assert from_env is not None
    assert from_env.base_url == "http://env/v1/"
    block = {"plivoApi": {"authId": AUTH_ID, "authToken": TOKEN}}
    block_without_url = resolve_credentials(block, env)
    assert block_without_url is not None
    assert block_without_url.base_url == "http://env/v1/"
    block_with_url = resolve_credentials(
        {"plivoApi": {**block["plivoApi"], "baseUrl": "http://block/v1/"}}, env
    )
    assert block_with_url is not None
    assert block_with_url.base_url == "http://block/v1/"


def test_unknown_fields_are_named() -> None:
    with pytest.raises(CredentialError, match="authID") as caught:
        resolve_credentials({"plivoApi": {"authID": AUTH_ID, "authToken": TOKEN}}, {})
    assert "authId" in (caught.value.hint or "")
    no_token(*error_texts(caught.value))


def test_non_string_values_are_rejected_by_type() -> None:
    with pytest.raises(CredentialError, match="authToken must be a string, not int"):
        resolve_credentials({"plivoApi": {"authId": AUTH_ID, "authToken": 12345678}}, {})


def test_a_block_without_plivo_api_is_rejected() -> None:
    with pytest.raises(CredentialError, match="no plivoApi entry"):
        resolve_credentials({"twilioApi": {}}, {})
    with pytest.raises(CredentialError, match="must be a mapping"):
        resolve_credentials({"plivoApi": "MA..."}, {})


def test_a_bad_auth_id_in_the_block_does_not_leak_the_token() -> None:
    block = {"plivoApi": {"authId": TOKEN, "authToken": TOKEN}}
    with pytest.raises(CredentialError) as caught:
        resolve_credentials(block, {})
    no_token(*error_texts(caught.value))


# --- the live test -------------------------------------------------------------------------


class FakeClient:
    def __init__(self, answer: ApiResponse | PlivoNodeError) -> None:
        self.answer = answer
        self.calls: list[tuple[str, str]] = []

    @property
    def auth_id(self) -> str:
        return AUTH_ID

    async def request(
        self,
        method: HttpMethod,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Sequence[UploadFile] | None = None,
    ) -> ApiResponse:
        self.calls.append((method, path))
        if isinstance(self.answer, PlivoNodeError):
            raise self.answer
        return self.answer


async def test_live_test_ok() -> None:
    client = FakeClient(ApiResponse(200, {"name": "Acme Inc", "auth_id": AUTH_ID}))
    assert await check_live(client, AUTH_ID) == (True, f"OK: account Acme Inc ({AUTH_ID})")
    assert client.calls == [("GET", "")]


async def test_live_test_rejected_credentials() -> None:
    Credentials(AUTH_ID, TOKEN, DEFAULT_BASE_URL)
    error = AuthenticationError(status=401, method="GET", path="", error_text="auth failed")
    ok, reason = await check_live(FakeClient(error), AUTH_ID)
    assert not ok
    assert "Authentication failed" in reason
    assert "401" in reason
    no_token(reason)


async def test_the_run_check_raises_a_credential_error_without_the_token() -> None:
    Credentials(AUTH_ID, TOKEN, DEFAULT_BASE_URL)
    error = AuthenticationError(status=401, method="GET", path="", error_text=f"bad {TOKEN}")
    client = FakeClient(error)
    with pytest.raises(CredentialError, match="nothing was sent") as caught:
        await check_credentials(client, AUTH_ID)
    assert client.calls == [("GET", "")]  # one read
    no_token(*error_texts(caught.value))
    await check_credentials(FakeClient(ApiResponse(200, {"name": "Acme"})), AUTH_ID)


async def test_live_test_unreachable_server() -> None:
    error = ConnectionFailedError("Could not connect to 127.0.0.1:9", request_sent=False)
    ok, reason = await check_live(FakeClient(error), AUTH_ID)
    assert not ok
    assert "Could not connect" in reason


def test_the_messages_name_the_variables_the_credential_type_declares() -> None:
    """The runtime reads the variables from credentials/plivoApi.yaml; the hints name them too."""
    assert plivo_credential_type().environment == {
        "authId": ENV_AUTH_ID,
        "authToken": ENV_AUTH_TOKEN,
        "baseUrl": ENV_BASE_URL,
    }
