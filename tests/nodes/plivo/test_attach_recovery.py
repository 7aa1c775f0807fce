"""What a serve killed at any point of `--attach` leaves, undone by the next start (the attach
hook with nothing to attach), against an in-process sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plivo_node.nodes.plivo.attach import attach_numbers
from plivo_node.nodes.plivo.attach_record import AttachEntry, AttachRecord
from plivo_sandbox import Sandbox, SandboxConfig
from plivo_sandbox.seed import add_application

NUMBER = "14155550100"
NAME = "plivo-node-serve-14155550100-sms"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig()) as running:
        yield running


def fields(sandbox: Sandbox) -> dict[str, str]:
    config = sandbox.config
    return {"authId": config.auth_id, "authToken": config.auth_token, "baseUrl": sandbox.url}


def app_of(sandbox: Sandbox) -> str:
    return str(sandbox.state.numbers[NUMBER]["application"]).rstrip("/").rpartition("/")[2]


async def next_start(sandbox: Sandbox, state: Path) -> None:
    async with attach_numbers(fields(sandbox), [], [], public=False, state=state) as lines:
        assert lines == []


async def test_an_application_created_but_not_yet_recorded_is_found_by_its_name(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    before = app_of(sandbox)
    entry = AttachEntry(sandbox.config.auth_id, sandbox.url, NUMBER, NAME, before, None)
    AttachRecord(tmp_path).put(entry)  # killed right after Plivo created the application:
    orphan = add_application(sandbox.state, {"app_name": NAME, "answer_url": "http://x/"})
    await next_start(sandbox, tmp_path)
    assert orphan not in sandbox.state.applications
    assert app_of(sandbox) == before
    assert AttachRecord(tmp_path).entries == []


async def test_a_number_relinked_meanwhile_is_left_alone_and_the_application_goes(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    before = app_of(sandbox)
    ours = add_application(sandbox.state, {"app_name": NAME, "answer_url": "http://x/"})
    someone_elses = add_application(
        sandbox.state, {"app_name": "theirs", "answer_url": "http://y/"}
    )
    uri = sandbox.state.applications[someone_elses]["resource_uri"]
    sandbox.state.numbers[NUMBER]["application"] = uri
    entry = AttachEntry(sandbox.config.auth_id, sandbox.url, NUMBER, NAME, before, None, ours)
    AttachRecord(tmp_path).put(entry)
    await next_start(sandbox, tmp_path)
    assert app_of(sandbox) == someone_elses
    assert ours not in sandbox.state.applications
    assert AttachRecord(tmp_path).entries == []


async def test_other_accounts_entries_wait_and_a_vanished_local_sandboxs_are_dropped(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = AttachRecord(tmp_path)
    remote = AttachEntry(
        "MAOTHERACCOUNT000001", "https://api.plivo.com/v1/", NUMBER, NAME, "1", None
    )
    gone = AttachEntry(sandbox.config.auth_id, "http://127.0.0.1:9/v1/", NUMBER, NAME, "1", None)
    record.put(remote)
    record.put(gone)
    before = [(r.method, r.path) for r in sandbox.state.request_log]
    await next_start(sandbox, tmp_path)
    assert AttachRecord(tmp_path).entries == [remote]
    assert "serve with that account's credentials to restore it" in capsys.readouterr().err
    assert [(r.method, r.path) for r in sandbox.state.request_log] == before  # nothing asked
