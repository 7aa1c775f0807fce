"""`plivo-node serve --attach NUMBER` against a sandbox: the number points at serve's webhooks
while serve runs and at its previous application again after SIGTERM, after SIGINT, and after
a SIGKILL once serve starts again; every refusal is exit 2 with nothing written to the
account."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import sys
from pathlib import Path

import pytest

from plivo_sandbox import Sandbox
from tests.serve.conftest import AUTH_ID, AUTH_TOKEN, OUR_NUMBER, auto_reply, serve_env, start_serve

pytestmark = pytest.mark.slow  # each test starts plivo-node processes

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MISSED_CALL = EXAMPLES / "missed_call_text.yaml"


def app_of(sandbox: Sandbox, number: str = OUR_NUMBER) -> str | None:
    uri = sandbox.state.numbers[number]["application"]
    return str(uri).rstrip("/").rpartition("/")[2] if uri else None


def assert_no_secret_in(state: Path) -> None:
    """No file serve wrote (attach record, queue, journals, outputs) holds the token, nor the
    Basic credentials made from it."""
    basic = base64.b64encode(f"{AUTH_ID}:{AUTH_TOKEN}".encode())
    for path in (p for p in state.rglob("*") if p.is_file()):
        data = path.read_bytes()
        assert AUTH_TOKEN.encode() not in data, path
        assert basic not in data, path


def writes(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sandbox.state.request_log if r.method != "GET"]


async def test_the_number_points_at_serve_until_sigterm_puts_it_back(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    before = app_of(sandbox)
    assert before is not None
    apps_before = set(sandbox.state.applications)
    state = tmp_path / "state"
    sms = auto_reply(tmp_path)
    serve = await start_serve(
        sandbox, state, sms, MISSED_CALL, args=("--attach", "+1 415-555-0100")
    )
    during = app_of(sandbox)
    assert during not in apps_before
    assert during is not None
    created = sandbox.state.applications[during]
    assert created["app_name"] == "plivo-node-serve-14155550100-sms"
    assert created["message_url"] == serve.urls["sms"]
    assert created["answer_url"] == created["hangup_url"] == serve.urls["missed-call"]
    record = json.loads((state / "serve" / "attached.json").read_text())
    assert [
        (e["number"], e["previous_app_id"], e["created_app_id"]) for e in record["entries"]
    ] == [(OUR_NUMBER, before, during)]
    assert_no_secret_in(state)
    assert await serve.stop(signal.SIGTERM) == 0
    assert app_of(sandbox) == before
    assert set(sandbox.state.applications) == apps_before  # the created one is deleted
    assert not (state / "serve" / "attached.json").exists()
    assert f"points at application {before} again".encode() in serve.stderr
    assert AUTH_TOKEN.encode() not in serve.stderr
    assert_no_secret_in(state)


async def test_a_number_without_an_application_has_none_again_after_sigint(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.state.numbers[OUR_NUMBER]["application"] = None
    previous = dict(sandbox.state.applications)
    serve = await start_serve(
        sandbox, tmp_path / "state", MISSED_CALL, args=("--attach", OUR_NUMBER)
    )
    during = app_of(sandbox)
    assert during is not None
    # Nothing to keep from before: messages have no URL, calls go to serve's webhook.
    assert sandbox.state.applications[during]["message_url"] == ""
    assert await serve.stop(signal.SIGINT) == 0
    assert app_of(sandbox) is None
    assert sandbox.state.applications == previous


async def test_after_a_sigkill_the_next_start_restores_the_number(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    before = app_of(sandbox)
    apps_before = set(sandbox.state.applications)
    state = tmp_path / "state"
    sms = auto_reply(tmp_path)
    killed = await start_serve(sandbox, state, sms, args=("--attach", OUR_NUMBER))
    attached_app = app_of(sandbox)
    assert attached_app != before
    assert await killed.stop(signal.SIGKILL) == -signal.SIGKILL
    assert app_of(sandbox) == attached_app  # nothing could restore it
    assert (state / "serve" / "attached.json").exists()
    # The next serve on this state directory, attaching nothing, undoes it before it listens.
    again = await start_serve(sandbox, state, sms)
    assert app_of(sandbox) == before
    assert set(sandbox.state.applications) == apps_before
    assert not (state / "serve" / "attached.json").exists()
    assert await again.stop() == 0
    assert b"an earlier serve left 14155550100 attached" in again.stderr


async def _refused(sandbox: Sandbox, tmp_path: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "plivo_node.cli",
        "serve",
        *args,
        "--port",
        "0",
        env=serve_env(sandbox, tmp_path / "state"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        _out, err = await process.communicate()
    assert process.returncode == 2, err.decode()
    return err.decode()


async def test_refusals_are_exit_2_before_anything_is_written(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sms = str(auto_reply(tmp_path))
    other = str(auto_reply(tmp_path, path="other"))
    before = app_of(sandbox)
    cases = [
        ((sms, "--attach", "19995550100"), "the account has no such number"),
        ((sms, "--attach", OUR_NUMBER, "--attach", "19995550100"), "no such number"),
        ((sms, other, "--attach", OUR_NUMBER), "2 served pipelines listen to inboundMessage"),
        ((sms, "--attach", f"{OUR_NUMBER}=nowhere.yaml"), "'nowhere.yaml' is not a pipeline"),
        ((sms, "--attach", f"{OUR_NUMBER}=sms", "--attach", "+14155550100"), "twice"),
        ((sms, "--attach", "not-a-number"), "is not a phone number"),
    ]
    for args, message in cases:
        assert message in await _refused(sandbox, tmp_path, *args)
    assert writes(sandbox) == []
    assert app_of(sandbox) == before
    assert not (tmp_path / "state" / "serve" / "attached.json").exists()
