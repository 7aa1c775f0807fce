"""`plivo-node run` as a subprocess against a Plivo-compatible server (a sandbox the test owns).

These cover the "live" path (credentials from the environment, PLIVO_API_URL), the exact
requests on the wire, no duplicate sends under injected faults, and kill-and-resume.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from plivo_sandbox import FaultConfig, Sandbox, SandboxConfig

AUTH_ID = "MATESTACCOUNT0000001"
AUTH_TOKEN = "test-token-never-printed"


def basic_auth(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


def numbers(count: int) -> list[str]:
    return [f"+1415555{n:04d}" for n in range(1000, 1000 + count)]


def write_run(
    tmp_path: Path, phones: list[str], *, extra_step: str = "", settings: str = ""
) -> Path:
    (tmp_path / "contacts.csv").write_text(
        "name,phone\n" + "".join(f"Contact {i},{p}\n" for i, p in enumerate(phones))
    )
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(
        f"""
version: 1
input: contacts.csv
output: out.jsonl
settings: {{rateLimit: false, concurrency: 20, timeoutSeconds: 2{settings}}}
steps:
  - name: Send
    node: plivo
    onError: continueRegularOutput
{extra_step}    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{{{ $json.phone }}}}"
      message: "=Hi {{{{ $json.name }}}}"
      url: https://example.com/status
"""
    )
    return pipeline


def read_output(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]


async def test_credentials_from_env_send_exactly_plivos_wire_format(
    tmp_path: Path, plivo_node: Any
) -> None:
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)
    async with Sandbox(config) as sandbox:
        pipeline = write_run(tmp_path, ["+14155550101", "+1 (415) 555-0102"])
        code, err = await plivo_node(sandbox, "run", str(pipeline), "--no-progress")
    assert code == 0, err
    assert "embedded sandbox" not in err
    assert AUTH_TOKEN not in err
    sends = [r for r in sandbox.state.request_log if r.method == "POST"]
    assert [r.path for r in sends] == [f"/v1/Account/{AUTH_ID}/Message/"] * 2
    bodies = sorted((r.body for r in sends), key=lambda b: b["dst"])
    assert bodies[0] == {
        "src": "14155550100",
        "dst": "14155550101",
        "text": "Hi Contact 0",
        "type": "sms",
        "url": "https://example.com/status",
        "method": "POST",
        "log": "true",
        "trackable": False,
    }
    assert bodies[1]["dst"] == "14155550102"
    uuid_by_destination = {m["dst"]: m["message_uuid"] for m in sandbox.state.messages}
    items = read_output(tmp_path)
    assert [i["json"]["message_uuid"] for i in items] == [
        [uuid_by_destination["14155550101"]],
        [uuid_by_destination["14155550102"]],
    ]


async def test_no_duplicates_and_nothing_lost_under_injected_faults(
    tmp_path: Path, plivo_node: Any
) -> None:
    phones = numbers(2000)
    faults = FaultConfig(
        rate=0.05,
        seed=11,
        kinds=(500, 503, "reset", "reset_after", "timeout"),
        paths=("POST Message/",),
        hold_seconds=3.0,
    )
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN, faults=faults)
    async with Sandbox(config) as sandbox:
        pipeline = write_run(tmp_path, phones)
        code, err = await plivo_node(sandbox, "run", str(pipeline), "--no-progress")
        counts = {p: sandbox.state.count_for(p) for p in phones}
        injected = len(sandbox.state.fault_log)
    assert code == 1, err  # items with an unknown outcome are failures to report
    assert AUTH_TOKEN not in err
    items = read_output(tmp_path)
    assert [i["pairedItem"]["item"] for i in items] == list(range(len(phones)))
    assert max(counts.values()) <= 1, "a destination was messaged twice"
    for phone, item in zip(phones, items, strict=True):
        if "error" in item:
            # A 5xx or a dropped connection after the request went out: Plivo may have acted,
            # so the send is reported, never repeated.
            assert item["error"]["code"] == "unknown_outcome"
            assert "may or may not" in item["error"]["message"]
        else:
            assert counts[phone] == 1, f"{phone} reported sent but never reached the server"
    failed = sum("error" in i for i in items)
    assert injected > 50
    assert failed == injected  # one fault, one item: nothing retried into a duplicate


async def test_rate_limited_sends_wait_and_all_go_out_once(tmp_path: Path, plivo_node: Any) -> None:
    phones = numbers(300)
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN, rate_limit=(100, 1.0))
    async with Sandbox(config) as sandbox:
        pipeline = write_run(tmp_path, phones)
        code, err = await plivo_node(sandbox, "run", str(pipeline), "--no-progress")
        counts = {p: sandbox.state.count_for(p) for p in phones}
        rejected = sum(1 for r in sandbox.state.request_log if r.method == "POST") - len(phones)
    assert code == 0, err
    assert rejected > 0, "the server never answered 429: the test proves nothing"
    assert set(counts.values()) == {1}
    assert all("error" not in i for i in read_output(tmp_path))


async def test_killed_run_resumes_without_sending_anything_twice(
    tmp_path: Path, plivo_node: Any
) -> None:
    phones = numbers(600)
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN, latency_ms=5)
    async with Sandbox(config) as sandbox:
        pipeline = write_run(tmp_path, phones)
        code, _ = await plivo_node(sandbox, "run", str(pipeline), kill_after_requests=150)
        assert code == -signal.SIGKILL
        sent_before = len(sandbox.state.messages)
        assert sent_before < len(phones)
        code, err = await plivo_node(sandbox, "run", str(pipeline))
        assert code == 2
        assert "--resume" in err
        code, err = await plivo_node(sandbox, "run", str(pipeline), "--resume", "--no-progress")
        counts = {p: sandbox.state.count_for(p) for p in phones}
    items = read_output(tmp_path)
    assert [i["pairedItem"]["item"] for i in items] == list(range(len(phones)))
    assert max(counts.values()) == 1, "a destination was messaged twice"
    unknown = [i for i in items if i.get("error", {}).get("code") == "unknown_outcome"]
    sent = [i for i in items if "error" not in i]
    assert len(sent) + len(unknown) == len(phones)
    assert len(unknown) <= 20  # at most the requests in flight at the kill
    for phone, item in zip(phones, items, strict=True):
        if "error" not in item:
            assert counts[phone] == 1
    assert code == (1 if unknown else 0), err
    assert "resumed:" in err


async def test_bulk_step_sends_one_request_per_1000_destinations(
    tmp_path: Path, plivo_node: Any
) -> None:
    phones = numbers(1200)
    phones[7] = phones[3]  # a duplicate destination: Plivo queues one message for both
    (tmp_path / "contacts.csv").write_text("phone\n" + "".join(f"{p}\n" for p in phones))
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(
        """
version: 1
input: contacts.csv
output: out.jsonl
settings: {rateLimit: false}
steps:
  - name: Announce
    node: plivo
    bulk: true
    onError: continueRegularOutput
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{ $json.phone }}"
      message: "The office is closed on Friday."
"""
    )
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)
    async with Sandbox(config) as sandbox:
        code, err = await plivo_node(sandbox, "run", str(pipeline), "--no-progress")
        posts = [r for r in sandbox.state.request_log if r.method == "POST"]
        counts = {p: sandbox.state.count_for(p) for p in phones}
        uuid_by_destination = {m["dst"]: m["message_uuid"] for m in sandbox.state.messages}
    assert code == 0, err
    assert [len(r.body["dst"].split("<")) for r in posts] == [1000, 199]
    assert set(counts.values()) == {1}
    items = read_output(tmp_path)
    assert [i["pairedItem"]["item"] for i in items] == list(range(1200))
    for phone, item in zip(phones, items, strict=True):
        assert item["json"]["message_uuid"] == [uuid_by_destination[phone.removeprefix("+")]]
    assert items[7]["json"]["status"] == "duplicate"
    assert items[7]["json"]["duplicate_of"] == {phones[3].removeprefix("+"): "item 3"}


async def test_sandbox_command_serves_plivos_api_until_stopped() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "plivo_node.cli",
        "sandbox",
        "--port",
        "0",
        "--auth-id",
        AUTH_ID,
        "--auth-token",
        AUTH_TOKEN,
        "--rate-limit",
        "300/5",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(20):
            banner = [(await process.stdout.readline()).decode() for _ in range(5)]
        url = banner[0].rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        assert f"PLIVO_AUTH_ID={AUTH_ID}" in banner[2]
        good = {"Authorization": basic_auth(AUTH_ID, AUTH_TOKEN)}
        wrong = {"Authorization": basic_auth(AUTH_ID, "wrong-token")}
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}Account/{AUTH_ID}/", headers=good) as response:
                assert response.status == 200
                assert (await response.json())["auth_id"] == AUTH_ID
            async with session.get(f"{url}Account/{AUTH_ID}/", headers=wrong) as bad:
                assert bad.status == 401
    finally:
        process.terminate()
        async with asyncio.timeout(20):
            await process.wait()


async def test_credentials_test_says_ok_or_why_not(tmp_path: Path, plivo_node: Any) -> None:
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)
    async with Sandbox(config) as sandbox:
        ok_code, _ = await plivo_node(sandbox, "credentials", "test")
        pipeline = tmp_path / "wrong.yaml"
        pipeline.write_text(
            "version: 1\n"
            "credentials:\n"
            f"  plivoApi: {{authId: {AUTH_ID}, authToken: not-the-token,"
            f" baseUrl: '{sandbox.url}'}}\n"
            "steps:\n"
            "  - {name: A, node: plivo, parameters: {resource: account, operation: get}}\n"
        )
        env = {**os.environ, "PLIVO_API_URL": sandbox.url}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "plivo_node.cli",
            "credentials",
            "test",
            "--pipeline",
            str(pipeline),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            out, err = await process.communicate()
    assert ok_code == 0
    assert process.returncode == 1
    text = (out + err).decode()
    assert "not-the-token" not in text
    assert "401" in text or "auth" in text.lower()


EXAMPLE_WORKFLOW = Path(__file__).resolve().parents[2] / "examples" / "n8n_opt_in_sms.json"


async def test_credentials_test_reads_an_n8n_workflow_file(plivo_node: Any) -> None:
    """--pipeline takes what `run` takes: the n8n example's Plivo node is tested, the core
    nodes (which call no service) are not."""
    workflow = EXAMPLE_WORKFLOW
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)
    async with Sandbox(config) as sandbox:
        code, err = await plivo_node(sandbox, "credentials", "test", "--pipeline", str(workflow))
        account_reads = [r for r in sandbox.state.request_log if r.path.endswith(f"/{AUTH_ID}/")]
    assert code == 0, err
    assert len(account_reads) == 1
