"""The redaction guard: every form of a secret, short secrets, item scopes, and where it applies."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from plivo_node.core.errors import ApiError, ParameterError, PipelineError
from plivo_node.core.items import Item
from plivo_node.core.node import OperationContext
from plivo_node.core.redaction import (
    MASK,
    RedactingStream,
    Redactor,
    item_secrets,
    mask_fields,
    redact,
    redact_json_text,
    register_secret,
    secret_forms,
    shorten,
)
from plivo_node.description import validate_against_schema
from plivo_node.description.parameters import fields_read
from plivo_node.http.transport import _api_error
from plivo_node.run.engine import FlowItem, OnError, Step, run_item
from plivo_node.run.item_io import OutputWriter
from plivo_node.run.journal import ItemState, RunJournal
from plivo_node.run.pipeline import build_steps, parse_pipeline

AUTH_ID = "MAXXXXXXXXXXXXXXXXX1"
TOKEN = 'tok/en"with\\odd+chars=é$Qx'


# --- forms --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        TOKEN,
        json.dumps(TOKEN)[1:-1],
        json.dumps(TOKEN, ensure_ascii=False)[1:-1],
        json.dumps(json.dumps(TOKEN)[1:-1])[1:-1],
        repr(TOKEN)[1:-1],
        f"{AUTH_ID}:{TOKEN}",
        base64.b64encode(f"{AUTH_ID}:{TOKEN}".encode()).decode(),
        base64.b64encode(TOKEN.encode()).decode(),
    ],
)
def test_every_written_form_of_the_token_is_masked(written: str) -> None:
    register_secret(TOKEN, auth_id=AUTH_ID)
    assert redact(f"before {written} after") == f"before {MASK} after"


def test_a_token_in_an_encoded_json_line_is_masked_and_the_line_stays_json() -> None:
    register_secret(TOKEN, auth_id=AUTH_ID)
    line = json.dumps({"error": f"echo {TOKEN}", TOKEN: 1}, ensure_ascii=False)
    masked = redact_json_text(line)
    assert json.loads(masked) == {"error": f"echo {MASK}", MASK: 1}
    for form in secret_forms(TOKEN, AUTH_ID):
        assert form not in masked


def test_a_secret_with_a_quote_never_breaks_the_json_it_is_masked_in() -> None:
    # The raw form 'a","b' matches across two strings of the encoded text.
    register_secret('xa","bxxxxxxxxxx')
    line = json.dumps(["xa", "bxxxxxxxxxx"], separators=(",", ":"))
    assert json.loads(redact_json_text(line)) == ["xa", "bxxxxxxxxxx"]


# --- short secrets ----------------------------------------------------------------------------


def test_a_short_secret_is_masked_only_where_it_stands_alone() -> None:
    register_secret("kiwi5")
    assert redact("password 'kiwi5'") == f"password '{MASK}'"
    assert redact('"pw":"kiwi5"') == f'"pw":"{MASK}"'
    assert redact("kiwi5ish and kiwi5_out.jsonl and xkiwi5") == (
        "kiwi5ish and kiwi5_out.jsonl and xkiwi5"
    )


def test_a_long_secret_is_masked_even_inside_a_word() -> None:
    register_secret("abcdefghijkl")
    assert redact("xxabcdefghijklyy") == f"xx{MASK}yy"


def test_strings_shorter_than_four_characters_are_never_registered() -> None:
    register_secret("abc")
    assert redact("abc abc") == "abc abc"


def test_numbers_are_registered_as_text_and_booleans_never() -> None:
    register_secret(123456)
    register_secret(True)  # noqa: FBT003 - what a boolean "secret" would look like
    assert redact("pin 123456, True") == f"pin {MASK}, True"


# --- truncation ---------------------------------------------------------------------------------


def test_shorten_masks_before_it_cuts() -> None:
    register_secret(TOKEN, auth_id=AUTH_ID)
    text = "x" * 20 + TOKEN
    shortened = shorten(text, 24)
    assert TOKEN[:4] not in shortened
    assert shortened.startswith("x" * 20 + MASK[:4])


def test_an_api_error_cut_at_300_characters_keeps_no_part_of_the_token() -> None:
    register_secret(TOKEN, auth_id=AUTH_ID)
    body = json.dumps({"error": "x" * 290 + f"{AUTH_ID}:{TOKEN}"}).encode()
    error = _api_error(
        400, method="POST", path="Endpoint/", raw=body, content_type="application/json",
        retry_after=None, request_id_field="api_id", service="Plivo",
    )  # fmt: skip
    assert error.error_text is not None
    assert TOKEN[:3] not in error.error_text.replace("x" * 290, "")
    assert MASK[:2] in error.error_text


# --- scopes ---------------------------------------------------------------------------------


async def test_item_scopes_are_isolated_between_concurrent_items() -> None:
    seen: dict[str, str] = {}

    async def item(secret: str, other: str) -> None:
        with item_secrets([secret]):
            await asyncio.sleep(0)
            seen[secret] = redact(f"{secret} {other}")

    await asyncio.gather(item("first-secret-1", "second-secret-2"), item("second-secret-2", "x"))
    assert seen["first-secret-1"] == f"{MASK} second-secret-2"
    assert redact("first-secret-1") == "first-secret-1"  # forgotten once the item is done


def test_secrets_registered_inside_an_item_scope_stay_in_it() -> None:
    with item_secrets():
        register_secret("item-password-1")
        assert redact("item-password-1") == MASK
    assert redact("item-password-1") == "item-password-1"


def test_an_item_scope_also_masks_the_run_wide_secrets() -> None:
    register_secret(TOKEN)
    with item_secrets(["item-password-1"]):
        assert redact(f"{TOKEN} item-password-1") == f"{MASK} {MASK}"


def test_a_redactor_is_cheap_when_nothing_matches() -> None:
    redactor = Redactor()
    redactor.add("some-long-secret")
    text = "nothing to see here"
    assert redactor.text(text) is text


# --- structural masking -----------------------------------------------------------------------


def test_mask_fields_masks_listed_and_secret_named_fields_at_any_depth() -> None:
    data = {
        "pw": "x",
        "user": "u",
        "nested": {"authToken": "t", "list": [{"Password": "p", "ok": 1}]},
        "client_secret": None,
    }
    assert mask_fields(data, ["pw"]) == {
        "pw": MASK,
        "user": "u",
        "nested": {"authToken": MASK, "list": [{"Password": MASK, "ok": 1}]},
        "client_secret": None,
    }


@pytest.mark.parametrize(
    ("source", "fields"),
    [
        ("={{ $json.pw }}", {"pw"}),
        ("={{ $json?.pw.trim() }}", {"pw"}),
        ("={{ $json['my pw'] + $json[\"other\"] }}", {"my pw", "other"}),
        ("={{ $input.item.json.secret }}", {"secret"}),
        ("=x{{ $('Create').item.json.pw }}y", {"pw"}),
        ("={{ 'literal' }}", set()),
    ],
)
def test_fields_read_finds_the_fields_an_expression_reads(source: str, fields: set[str]) -> None:
    assert fields_read(source) == fields


class _PasswordResolver:
    resource = "endpoint"
    operation = "create"

    def resolve(self, context: Any) -> dict[str, Any]:
        password = context.json["pw"]
        register_secret(password)  # as ParameterResolver does for a typeOptions.password
        return {"password": password}


def _step(handler: Any, on_error: OnError, secret_fields: frozenset[str]) -> Step:
    return Step(
        name="Create",
        resolver=_PasswordResolver(),
        handler=handler,
        on_error=on_error,
        secret_fields=secret_fields,
    )


async def _echoing_failure(ctx: OperationContext) -> list[dict[str, Any]]:
    raise ParameterError(f"the server refused password {ctx.params['password']}")


@pytest.mark.parametrize("on_error", list(OnError))
async def test_an_error_item_holds_no_password_whatever_on_error(on_error: OnError) -> None:
    step = _step(_echoing_failure, on_error, frozenset({"pw"}))
    flow = FlowItem(0, Item(json={"user": "desk", "pw": "hunter2-pass"}))
    result = await run_item(step, flow, client=None)  # type: ignore[arg-type]
    (out,) = result.outputs
    assert "hunter2-pass" not in out.line
    assert result.error is not None
    assert "hunter2-pass" not in str(result.error)  # as stderr would print it later
    if on_error is OnError.CONTINUE_ERROR_OUTPUT:
        assert out.json["pw"] == MASK
        assert out.json["user"] == "desk"


async def test_a_successful_answer_echoing_the_items_password_is_masked() -> None:
    async def echo(ctx: OperationContext) -> list[dict[str, Any]]:
        return [{"note": f"password is {ctx.params['password']}"}]

    step = _step(echo, OnError.STOP_WORKFLOW, frozenset({"pw"}))
    flow = FlowItem(0, Item(json={"pw": "kiwi5"}))
    result = await run_item(step, flow, client=None)  # type: ignore[arg-type]
    assert result.outputs[0].json == {"note": f"password is {MASK}"}


def test_api_error_redact_in_place_covers_plivos_text() -> None:
    error = ApiError(status=400, method="POST", path="Endpoint/", error_text="pw hunter2-pass")
    with item_secrets(["hunter2-pass"]):
        error.redact_in_place()
    assert "hunter2-pass" not in f"{error} {error.error_text} {error.to_dict()}"


# --- where text is written ------------------------------------------------------------------


def test_the_output_writer_masks_what_slipped_into_a_line(tmp_path: Path) -> None:
    register_secret(TOKEN, auth_id=AUTH_ID)
    path = tmp_path / "out.jsonl"
    with OutputWriter(path) as writer:
        writer.write_line(json.dumps({"a": TOKEN}))
        writer.write_line(json.dumps({"b": "clean"}))
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines == [{"a": MASK}, {"b": "clean"}]


async def test_the_journal_masks_what_slipped_into_a_row(tmp_path: Path) -> None:
    register_secret(TOKEN, auth_id=AUTH_ID)
    path = tmp_path / "j.sqlite"
    journal = RunJournal.open(path, run_key="k", resume=False)
    journal.complete(0, 0, ItemState.FAILED, [{"json": {"error": f"echo {TOKEN}"}}])
    await journal.close(finished=True)
    with sqlite3.connect(path) as connection:
        (outputs,) = connection.execute("SELECT outputs FROM item").fetchone()
    assert json.loads(outputs) == [{"json": {"error": f"echo {MASK}"}}]
    assert TOKEN.encode() not in path.read_bytes()


def test_the_redacting_stream_masks_a_secret_written_in_pieces() -> None:
    register_secret(TOKEN, auth_id=AUTH_ID)
    target = io.StringIO()
    stream = RedactingStream(target)
    stream.write(f"{AUTH_ID}:")
    stream.write(TOKEN[:5])
    stream.write(TOKEN[5:] + "\nnext ")
    assert target.getvalue() == f"{MASK}\n"
    stream.flush()  # a part-line goes out on flush, as a progress line needs
    assert target.getvalue() == f"{MASK}\nnext "


@pytest.mark.parametrize(
    "credentials",
    [
        f"{AUTH_ID}:{TOKEN}",
        {"plivoApi": f"{AUTH_ID}:{TOKEN}"},
        [{"authToken": TOKEN}],
        {"plivoApi": [{"authToken": TOKEN}]},
        {"plivoApi": {"authId": AUTH_ID, "authToken": TOKEN, TOKEN: 1}},
        {f"{AUTH_ID}:{TOKEN}": 1},
    ],
)
def test_pipeline_errors_never_quote_the_credentials(credentials: Any) -> None:
    document = {
        "version": 1,
        "credentials": credentials,
        "steps": [{"name": "a", "node": "plivo", "parameters": {}}],
    }
    problems = validate_against_schema(document, "pipeline", "p.yaml")
    if not problems:  # a mapping: its entries are checked against the nodes' credential types
        spec = parse_pipeline(json.dumps(document), source="p.yaml", base_dir=Path())
        with pytest.raises(PipelineError) as caught:
            build_steps(spec)
        problems = caught.value.problems
    assert problems
    text = "\n".join(problems)
    assert "credentials" in text
    assert TOKEN[:6] not in text


def test_schema_errors_still_quote_ordinary_values() -> None:
    document = {"version": 1, "steps": [{"name": "a", "node": "plivo", "onError": "sometimes"}]}
    problems = validate_against_schema(document, "pipeline", "p.yaml")
    assert any("'sometimes'" in problem for problem in problems)


def test_build_steps_marks_the_secret_parameters_and_the_fields_they_read() -> None:
    text = """
version: 1
steps:
  - name: Create
    node: plivo
    parameters:
      resource: endpoint
      operation: create
      username: "={{ $json.user }}"
      password: "={{ $json.creds.pw }}"
      alias: desk
  - name: Update
    node: plivo
    parameters:
      resource: endpoint
      operation: update
      endpoint_id: "={{ $json.endpoint_id }}"
      updateFields:
        password: "={{ $json['new pw'] }}"
  - name: Send
    node: plivo
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{ $json.phone }}"
      message: hi
"""
    spec = parse_pipeline(text, source="p.yaml", base_dir=Path())
    create, update, send = build_steps(spec)
    assert (create.secret_fields, create.secret_parameters) == (frozenset({"creds"}), True)
    assert (update.secret_fields, update.secret_parameters) == (frozenset({"new pw"}), True)
    assert (send.secret_fields, send.secret_parameters) == (frozenset(), False)


def test_a_pasted_id_token_pair_is_not_quoted_wherever_it_lands() -> None:
    document = {
        "version": 1,
        "steps": [{"name": "a", "node": "plivo", "parameters": f"{AUTH_ID}:{TOKEN}"}],
    }
    problems = validate_against_schema(document, "pipeline", "p.yaml")
    assert any(problem.startswith("steps[0].parameters: the value") for problem in problems)
    assert TOKEN[:6] not in "\n".join(problems)
