"""Secrets never leave: the token, ``id:token``, its base64 and endpoint passwords, whatever the
misuse, are in no byte the CLI prints or writes (output, journal, stderr, error items).

Some cases talk to an *echo server* (aiohttp on loopback) instead of the sandbox: a hostile or
buggy API that quotes the request back, Authorization header and body included, in its errors.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from tests.adversarial.conftest import AUTH_ID, AUTH_TOKEN, Adversary, CliRun, secret_forms

# Every case starts the CLI in a subprocess (over a second of start-up each).
pytestmark = pytest.mark.slow

# Endpoint passwords, each a distinct shape: long, short (5, Plivo's minimum), odd characters.
LONG_PASSWORD = "Pw-long-9f3k2LqZ"
SHORT_PASSWORD = "kiwi5"
ODD_PASSWORD = 'q"u\\o/t€-Pässw0rd'

ENDPOINT_FROM_INPUT = """
version: 1
input: {input}
output: out.jsonl
steps:
  - name: Create
    node: plivo
    onError: continueErrorOutput
    parameters:
      resource: endpoint
      operation: create
      username: "={{{{ $json.user }}}}"
      password: "={{{{ $json.pw }}}}"
      alias: "={{{{ $json.user }}}}"
"""

ENDPOINT_LITERAL = """
version: 1
output: out.jsonl
steps:
  - name: Create
    node: plivo
    onError: continueErrorOutput
    parameters:
      resource: endpoint
      operation: create
      username: desk
      password: "{password}"
      alias: Desk
"""

ACCOUNT_GET = """
version: 1
output: {output}
steps:
  - name: Account
    node: plivo
    parameters:
      resource: account
      operation: get
"""


def _all_text(adversary: Adversary, *runs: CliRun) -> str:
    """Everything printed and written (inputs aside), for checks beyond the harness's."""
    parts = [text for run in runs for text in (run.stdout, run.stderr)]
    for path, data in adversary.written_bytes():
        if path.parent == adversary.root and path.suffix in {".yaml", ".csv", ".json"}:
            continue
        parts.append(data.decode("utf-8", "replace"))
    return "\n".join(parts)


def _output_items(adversary: Adversary) -> list[dict[str, object]]:
    lines = (adversary.root / "out.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


# --- passwords from input data --------------------------------------------------------------


async def test_input_password_is_not_copied_into_error_items_or_the_journal(
    adversary: Adversary,
) -> None:
    # Row 1 fails locally (a bad username): continueErrorOutput copies the row into its item.
    adversary.write("users.csv", f"user,pw\ngood1,{LONG_PASSWORD}\nbad user!,{LONG_PASSWORD}x\n")
    pipeline = adversary.write("p.yaml", ENDPOINT_FROM_INPUT.format(input="users.csv"))
    run = await adversary.run("run", str(pipeline), "--no-progress")
    assert run.code == 1, run
    adversary.assert_clean(run, extra_secrets=[LONG_PASSWORD, LONG_PASSWORD + "x"])
    failed = [item for item in _output_items(adversary) if "error" in item]
    assert len(failed) == 1
    row = failed[0]["json"]
    assert isinstance(row, dict)
    assert row["user"] == "bad user!"  # the row stays visible ...
    assert row["pw"] == "********"  # ... but not its secret field
    assert (adversary.root / "out.jsonl.journal.sqlite").exists()


async def test_short_input_password_is_masked_by_field_without_garbling_other_text(
    adversary: Adversary,
) -> None:
    # "kiwi5" is short: masked where it stands alone, not inside "kiwi5ish" or the file name.
    adversary.write("users.csv", f"user,pw,note\nbad user!,{SHORT_PASSWORD},kiwi5ish\n")
    pipeline = adversary.write(
        "p.yaml",
        ENDPOINT_FROM_INPUT.format(input="users.csv").replace("out.jsonl", "kiwi5_out.jsonl"),
    )
    run = await adversary.run("run", str(pipeline), "--no-progress")
    assert run.code == 1, run
    text = (adversary.root / "kiwi5_out.jsonl").read_text(encoding="utf-8")
    item = json.loads(text)
    assert item["json"]["pw"] == "********"
    assert item["json"]["note"] == "kiwi5ish"
    assert "kiwi5_out.jsonl" in run.stderr  # the summary names the file unmasked
    adversary.assert_clean(run)


async def test_password_too_short_for_plivo_is_still_masked_in_the_copied_row(
    adversary: Adversary,
) -> None:
    # "abc" is refused locally and is too short to be searched for in text: masked by field.
    adversary.write("users.csv", "user,pw\ndesk,abc\n")
    pipeline = adversary.write("p.yaml", ENDPOINT_FROM_INPUT.format(input="users.csv"))
    run = await adversary.run("run", str(pipeline), "--no-progress")
    assert run.code == 1, run
    (item,) = _output_items(adversary)
    assert item["json"] == {"user": "desk", "pw": "********", "error": item["json"]["error"]}  # type: ignore[index]
    assert adversary.messages_sent() == 0


async def test_password_with_json_special_characters_leaves_no_escaped_form(
    adversary: Adversary,
) -> None:
    rows = [{"user": "bad user!", "pw": ODD_PASSWORD}, {"user": "bad2 !", "pw": ODD_PASSWORD}]
    adversary.write("users.json", json.dumps(rows))
    pipeline = adversary.write("p.yaml", ENDPOINT_FROM_INPUT.format(input="users.json"))
    run = await adversary.run("run", str(pipeline), "--no-progress")
    assert run.code == 1, run
    adversary.assert_clean(run, extra_secrets=[ODD_PASSWORD])
    text = _all_text(adversary, run)
    for form in (
        json.dumps(ODD_PASSWORD)[1:-1],
        json.dumps(ODD_PASSWORD, ensure_ascii=False)[1:-1],
        repr(ODD_PASSWORD)[1:-1],
    ):
        assert form not in text


async def test_nested_input_secret_and_secret_named_columns_are_masked(
    adversary: Adversary,
) -> None:
    rows = [
        {
            "user": "bad user!",
            "creds": {"pw": LONG_PASSWORD},
            "api_token": "col-token-0123456789",
            "profile": {"password_hint": "the usual"},
        }
    ]
    adversary.write("users.json", json.dumps(rows))
    text = ENDPOINT_FROM_INPUT.format(input="users.json").replace("$json.pw", "$json.creds.pw")
    pipeline = adversary.write("p.yaml", text)
    run = await adversary.run("run", str(pipeline), "--no-progress")
    assert run.code == 1, run
    adversary.assert_clean(run, extra_secrets=[LONG_PASSWORD, "col-token-0123456789"])
    (item,) = _output_items(adversary)
    row = item["json"]
    assert isinstance(row, dict)
    assert row["creds"] == "********"
    assert row["api_token"] == "********"
    assert row["profile"] == {"password_hint": "********"}


async def test_expression_error_on_the_password_does_not_quote_it(adversary: Adversary) -> None:
    adversary.write("users.csv", f"user,pw\ndesk,{LONG_PASSWORD}\n")
    text = ENDPOINT_FROM_INPUT.format(input="users.csv").replace(
        "$json.pw }}", "$json.pw.toFixed(2) }}"
    )
    pipeline = adversary.write("p.yaml", text)
    run = await adversary.run("run", str(pipeline), "--no-progress")
    assert run.code == 1, run
    adversary.assert_clean(run, extra_secrets=[LONG_PASSWORD])
    assert adversary.messages_sent() == 0


async def test_stdout_output_with_error_items_holds_no_password(adversary: Adversary) -> None:
    adversary.write("users.csv", f"user,pw\nbad user!,{LONG_PASSWORD}\n")
    text = ENDPOINT_FROM_INPUT.format(input="users.csv").replace("output: out.jsonl\n", "")
    pipeline = adversary.write("p.yaml", text)
    run = await adversary.run("run", str(pipeline), "--no-progress", "--no-journal")
    assert run.code == 1, run
    assert '"pw":"********"' in run.stdout
    adversary.assert_clean(run, extra_secrets=[LONG_PASSWORD])


async def test_dry_run_of_an_endpoint_create_holds_no_password(adversary: Adversary) -> None:
    adversary.write("users.csv", f"user,pw\ndesk,{LONG_PASSWORD}\nbad user!,{LONG_PASSWORD}\n")
    pipeline = adversary.write("p.yaml", ENDPOINT_FROM_INPUT.format(input="users.csv"))
    run = await adversary.run("run", str(pipeline), "--no-progress", "--dry-run")
    assert run.code == 1, run
    adversary.assert_clean(run, extra_secrets=[LONG_PASSWORD])
    assert adversary.messages_sent() == 0


# --- the token in the configuration -----------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [
        f'"{AUTH_ID}:{AUTH_TOKEN}"',  # the console's pair as the whole block
        f'{{plivoApi: "{AUTH_ID}:{AUTH_TOKEN}"}}',  # ... as the plivoApi entry
        f'[{{authToken: "{AUTH_TOKEN}"}}]',  # a list where a mapping belongs
    ],
)
@pytest.mark.parametrize("command", ["validate", "run"])
async def test_id_token_pair_pasted_as_the_credentials_block_is_not_echoed(
    offline: Adversary, block: str, command: str
) -> None:
    text = ACCOUNT_GET.format(output="out.jsonl") + f"credentials: {block}\n"
    pipeline = offline.write("p.yaml", text)
    run = await offline.run(
        command, str(pipeline), *(["--no-progress"] if command == "run" else [])
    )
    assert run.code == 2, run
    assert "credentials" in run.stderr + run.stdout
    offline.assert_clean(run)


async def test_id_token_pair_in_the_token_variable_is_refused_unechoed(
    adversary: Adversary,
) -> None:
    pipeline = adversary.write("p.yaml", ACCOUNT_GET.format(output="out.jsonl"))
    env = adversary.env(PLIVO_AUTH_TOKEN=f"{AUTH_ID}:{AUTH_TOKEN}")
    run = await adversary.run("run", str(pipeline), "--no-progress", env=env)
    assert run.code == 2, run
    assert "AuthID:AuthToken" in run.stderr
    adversary.assert_clean(run)
    assert adversary.sandbox is not None
    assert not adversary.sandbox.state.request_log


async def test_literal_token_with_a_dollar_is_used_as_written(adversary: Adversary) -> None:
    # AUTH_TOKEN holds "$Qx": it must not be read as a variable named Qx.
    assert adversary.sandbox is not None
    block = (
        f"credentials:\n  plivoApi:\n    authId: {AUTH_ID}\n    authToken: '{AUTH_TOKEN}'\n"
        f"    baseUrl: {adversary.sandbox.url}\n"
    )
    pipeline = adversary.write("p.yaml", ACCOUNT_GET.format(output="out.jsonl") + block)
    env = adversary.env(PLIVO_AUTH_TOKEN=None, PLIVO_AUTH_ID=None, Qx="not-the-token")
    run = await adversary.run("run", str(pipeline), "--no-progress", env=env)
    assert run.code == 0, run
    adversary.assert_clean(run)


async def test_short_token_is_refused_and_never_masks_a_file_name(adversary: Adversary) -> None:
    pipeline = adversary.write("p.yaml", ACCOUNT_GET.format(output="wrong_numbers.jsonl"))
    refused = await adversary.run(
        "run", str(pipeline), "--no-progress", env=adversary.env(PLIVO_AUTH_TOKEN="wrong")
    )
    assert refused.code == 2, refused
    assert "Auth Token has 5 characters" in refused.stderr
    assert adversary.sandbox is not None
    assert not adversary.sandbox.state.request_log
    # The same short string left in the environment while the file's block is used.
    block = (
        f"credentials:\n  plivoApi:\n    authId: {AUTH_ID}\n    authToken: '${{ADV_TOKEN}}'\n"
        f"    baseUrl: {adversary.sandbox.url}\n"
    )
    pipeline = adversary.write("p.yaml", ACCOUNT_GET.format(output="wrong_numbers.jsonl") + block)
    env = adversary.env(PLIVO_AUTH_TOKEN="wrong", ADV_TOKEN=AUTH_TOKEN)
    run = await adversary.run("run", str(pipeline), "--no-progress", env=env)
    assert run.code == 0, run
    assert "wrong_numbers.jsonl" in run.stderr
    assert "********" not in run.stderr
    adversary.assert_clean(refused, run)


async def test_token_pasted_into_a_command_line_option_is_masked(adversary: Adversary) -> None:
    pipeline = adversary.write("p.yaml", ACCOUNT_GET.format(output="out.jsonl"))
    run = await adversary.run("run", str(pipeline), "--input-format", AUTH_TOKEN)
    assert run.code == 2, run
    assert "invalid choice" in run.stderr
    adversary.assert_clean(run)


async def test_wrong_token_for_credentials_test_is_not_echoed(adversary: Adversary) -> None:
    other = "An0ther-Token/with+odd=chars$"
    run = await adversary.run("credentials", "test", env=adversary.env(PLIVO_AUTH_TOKEN=other))
    assert run.code != 0, run
    adversary.assert_clean(run, extra_secrets=[other])


# --- an API that echoes the request -------------------------------------------------------------


@asynccontextmanager
async def echo_server(status: int, *, pad: int = 0) -> AsyncIterator[str]:
    """An API that answers the account read, and every other request with ``status`` and an
    error quoting the request: its Authorization header, body and the decoded credentials,
    after ``pad`` characters (to put the secret at a truncation boundary)."""

    async def handle(request: web.Request) -> web.Response:
        if request.method == "GET" and request.path.rstrip("/").endswith(AUTH_ID):
            return web.json_response({"auth_id": AUTH_ID, "name": "echo", "api_id": "a"})
        header = request.headers.get("Authorization", "")
        decoded = base64.b64decode(header.removeprefix("Basic ")).decode("utf-8", "replace")
        body = await request.text()
        echoed = f"{'x' * pad}{decoded} | {header} | {body}"
        return web.json_response(
            {"api_id": "e", "error": echoed, "detail": {"auth": header, "credentials": decoded}},
            status=status,
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/v1/"
    finally:
        await runner.cleanup()


async def _run_against_echo(
    offline: Adversary, url: str, text: str, *args: str
) -> tuple[CliRun, str]:
    pipeline = offline.write("p.yaml", text)
    env = offline.env(PLIVO_AUTH_ID=AUTH_ID, PLIVO_AUTH_TOKEN=AUTH_TOKEN, PLIVO_API_URL=url)
    run = await offline.run("run", str(pipeline), "--no-progress", *args, env=env)
    return run, _all_text(offline, run)


async def test_api_error_echoing_the_auth_header_and_password_is_masked(
    offline: Adversary,
) -> None:
    async with echo_server(400) as url:
        run, text = await _run_against_echo(
            offline, url, ENDPOINT_LITERAL.format(password=LONG_PASSWORD)
        )
    assert run.code == 1, run
    offline.assert_clean(run, extra_secrets=[LONG_PASSWORD])
    assert "Basic ********" in text  # the echo arrived, masked


async def test_secret_at_the_truncation_boundary_leaves_no_part(offline: Adversary) -> None:
    # The echo puts "id:token" across the 300-character cut of Plivo's error text.
    async with echo_server(400, pad=300 - len(AUTH_ID) - 5) as url:
        run, text = await _run_against_echo(
            offline, url, ENDPOINT_LITERAL.format(password=LONG_PASSWORD)
        )
    assert run.code == 1, run
    offline.assert_clean(run, extra_secrets=[LONG_PASSWORD])
    for prefix in (AUTH_TOKEN[:4], AUTH_TOKEN[:8]):
        assert f"{AUTH_ID}:{prefix}" not in text


async def test_server_error_echo_under_stop_workflow_is_masked_on_stderr(
    offline: Adversary,
) -> None:
    text = ENDPOINT_LITERAL.format(password=ODD_PASSWORD.replace('"', "").replace("\\", ""))
    text = text.replace("    onError: continueErrorOutput\n", "")
    async with echo_server(403) as url:
        run, written = await _run_against_echo(offline, url, text)
    assert run.code == 1, run
    password = ODD_PASSWORD.replace('"', "").replace("\\", "")
    offline.assert_clean(run, extra_secrets=[password])
    for form in secret_forms(password):
        assert form not in written


async def test_successful_answer_echoing_the_password_is_masked(offline: Adversary) -> None:
    async def handle(request: web.Request) -> web.Response:
        if request.method == "GET":
            return web.json_response({"auth_id": AUTH_ID, "name": "echo"})
        body = await request.json()
        return web.json_response(
            {"endpoint_id": "1", "username": "desk1", "note": f"password is {body['password']}"},
            status=201,
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        offline.write("users.csv", f"user,pw\ndesk,{LONG_PASSWORD}\n")
        text = ENDPOINT_FROM_INPUT.format(input="users.csv")
        run, written = await _run_against_echo(offline, f"http://127.0.0.1:{port}/v1/", text)
    finally:
        await runner.cleanup()
    assert run.code == 0, run
    offline.assert_clean(run, extra_secrets=[LONG_PASSWORD])
    assert "password is ********" in written
