"""Queue mode end to end: a real redis-server, worker subprocesses, the run as a subprocess,
and the sandbox in this process counting what reached "Plivo"."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import pytest

from plivo_node.nodes.plivo import suppression
from tests.queue_mode.conftest import RedisServer, Workers, run_queued, sandbox_env

pytestmark = pytest.mark.slow

PIPELINE = """\
version: 1
name: Queued reminders
input: contacts.csv
output: out.jsonl
steps:
  - name: Send
    node: plivo
    onError: continueRegularOutput
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{ $json.phone }}"
      message: "=Hi {{ $json.name }}"
"""


def _campaign(folder: Path, items: int) -> Path:
    (folder / "contacts.csv").write_text(
        "name,phone\n" + "".join(f"n{i},+1415556{i:04d}\n" for i in range(items))
    )
    pipeline = folder / "p.yaml"
    pipeline.write_text(PIPELINE)
    return pipeline


def _output(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "out.jsonl").read_text().splitlines()]


def _assert_each_item_once(records: list[dict[str, Any]], items: int) -> None:
    assert [r["pairedItem"]["item"] for r in records] == list(range(items))
    for index, record in enumerate(records):
        if "error" not in record:
            assert record["json"]["to"] == f"1415556{index:04d}"


def _unknown(records: list[dict[str, Any]]) -> list[int]:
    return [
        r["pairedItem"]["item"]
        for r in records
        if r.get("error", {}).get("code") == "unknown_outcome"
    ]


def _assert_accounted(records: list[dict[str, Any]], counts: dict[str, int]) -> None:
    """Every message the sandbox accepted is in the output as sent or as unknown_outcome,
    and every item the output says was sent reached it exactly once."""
    sent = {r["json"]["to"] for r in records if "error" not in r}
    unknown = {f"1415556{index:04d}" for index in _unknown(records)}
    assert sent <= set(counts)
    assert set(counts) <= sent | unknown
    assert set(counts.values()) == {1}


@pytest.mark.parametrize("workers", [1, 2, 4])
async def test_workers_send_every_item_once_in_input_order(
    tmp_path: Path, redis_server: RedisServer, sandbox: Any, workers: int
) -> None:
    pipeline = _campaign(tmp_path, 120)
    env = sandbox_env(sandbox, tmp_path / "state")
    pool = Workers(env, redis_server.url, tmp_path)
    await pool.start(workers)
    try:
        code, err = await run_queued(
            env, str(pipeline), "--queue", redis_server.url, "--chunk-size", "10"
        )
    finally:
        await pool.stop()
    assert code == 0, err + pool.logs()
    _assert_each_item_once(_output(tmp_path), 120)
    assert len(sandbox.state.messages) == 120
    assert set(sandbox.state.message_counts.values()) == {1}
    assert "run finished" in err
    assert "120 succeeded" in err
    assert all(p.returncode == 128 + signal.SIGTERM for p in pool.processes)  # drained


async def test_a_killed_worker_loses_nothing_and_repeats_nothing(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    from plivo_sandbox import Sandbox, SandboxConfig  # noqa: PLC0415

    items = 100
    pipeline = _campaign(tmp_path, items)
    async with Sandbox(SandboxConfig(latency_ms=150)) as sandbox:
        env = sandbox_env(sandbox, tmp_path / "state")
        pool = Workers(env, redis_server.url, tmp_path)
        await pool.start(2, "--concurrency", "4")
        run = asyncio.ensure_future(
            run_queued(env, str(pipeline), "--queue", redis_server.url, "--chunk-size", "20")
        )
        try:
            async with asyncio.timeout(60):
                while len(sandbox.state.messages) < 12:  # noqa: ASYNC110 - another process's effect
                    await asyncio.sleep(0.01)
            pool.processes[0].send_signal(signal.SIGKILL)  # mid-chunk
            code, err = await run
        finally:
            await pool.stop()
        records = _output(tmp_path)
        _assert_each_item_once(records, items)
        counts = sandbox.state.message_counts
        assert max(counts.values()) == 1  # no destination messaged twice
        _assert_accounted(records, counts)
        unknown = _unknown(records)
        # Only the killed worker's two chunks can hold unknown outcomes: its sends in flight,
        # or answered but not yet recorded when it died.
        assert len(unknown) <= 2 * 20
        assert code == (1 if unknown else 0), err


async def test_a_redis_restart_mid_run_loses_nothing_and_repeats_nothing(
    tmp_path: Path, redis_server: RedisServer, sandbox: Any
) -> None:
    items = 150
    pipeline = _campaign(tmp_path, items)
    env = sandbox_env(sandbox, tmp_path / "state")
    pool = Workers(env, redis_server.url, tmp_path)
    await pool.start(2, "--concurrency", "4")
    run = asyncio.ensure_future(
        run_queued(env, str(pipeline), "--queue", redis_server.url, "--chunk-size", "10")
    )
    try:
        async with asyncio.timeout(60):
            while len(sandbox.state.messages) < 30:  # noqa: ASYNC110 - another process's effect
                await asyncio.sleep(0.01)
        redis_server.stop()
        await asyncio.sleep(1.0)
        redis_server.start()  # same port and data directory: the append-only file is replayed
        code, err = await run
    finally:
        await pool.stop()
    records = _output(tmp_path)
    _assert_each_item_once(records, items)
    assert max(sandbox.state.message_counts.values()) == 1
    _assert_accounted(records, sandbox.state.message_counts)
    assert code in (0, 1), err + pool.logs()


async def test_a_worker_refuses_a_redis_that_could_lose_claims(
    tmp_path: Path, sandbox: Any
) -> None:
    server = RedisServer(tmp_path, extra=("--appendonly", "no"))
    server.start()
    try:
        env = sandbox_env(sandbox, tmp_path / "state")
        pool = Workers(env, server.url, tmp_path)
        await pool.start(1)
        async with asyncio.timeout(30):
            code = await pool.processes[0].wait()
    finally:
        server.stop()
    assert code == 2
    assert "appendonly is not yes" in pool.logs()


async def test_health_turns_red_when_the_worker_loses_redis(
    tmp_path: Path, redis_server: RedisServer, sandbox: Any
) -> None:
    import aiohttp  # noqa: PLC0415

    from tests.queue_mode.conftest import free_port  # noqa: PLC0415

    port = free_port()
    pool = Workers(sandbox_env(sandbox, tmp_path / "state"), redis_server.url, tmp_path)
    await pool.start(1, "--health-port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:

            async def health() -> tuple[int, dict[str, Any]]:
                async with session.get(f"{url}/healthz") as answer:
                    return answer.status, await answer.json()

            async with asyncio.timeout(30):
                while True:
                    try:
                        status, body = await health()
                        break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.1)
            assert (status, body["status"]) == (200, "consuming")
            async with session.get(f"{url}/metrics") as answer:
                metrics = await answer.text()
            assert "plivo_node_queue_depth 0" in metrics
            assert 'plivo_node_send_seconds_bucket{le="+Inf"} 0' in metrics
            redis_server.stop()  # the process lives on; its consume loop cannot
            async with asyncio.timeout(30):
                while (await health())[0] == 200:  # noqa: ASYNC110 - polls another process
                    await asyncio.sleep(0.5)
            status, body = await health()
            assert status == 503
            assert "Redis" in body["status"]
    finally:
        redis_server.start()
        await pool.stop()


async def test_a_drained_worker_hands_its_chunk_on_with_nothing_unknown(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    from plivo_sandbox import Sandbox, SandboxConfig  # noqa: PLC0415

    items = 60
    pipeline = _campaign(tmp_path, items)
    async with Sandbox(SandboxConfig(latency_ms=150)) as sandbox:
        env = sandbox_env(sandbox, tmp_path / "state")
        pool = Workers(env, redis_server.url, tmp_path)
        await pool.start(2, "--concurrency", "3")
        run = asyncio.ensure_future(
            run_queued(env, str(pipeline), "--queue", redis_server.url, "--chunk-size", "20")
        )
        try:
            async with asyncio.timeout(60):
                while len(sandbox.state.messages) < 8:  # noqa: ASYNC110 - another process's effect
                    await asyncio.sleep(0.01)
            pool.processes[0].send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                drained = await pool.processes[0].wait()
            code, err = await run
        finally:
            await pool.stop()
        assert drained == 128 + signal.SIGTERM
        records = _output(tmp_path)
        _assert_each_item_once(records, items)
        _assert_accounted(records, sandbox.state.message_counts)
        # A drain lets requests being written finish and records them: nothing is unknown.
        assert _unknown(records) == []
        assert len(sandbox.state.messages) == items
        assert code == 0, err


async def test_workers_skip_suppressed_destinations(
    tmp_path: Path, redis_server: RedisServer, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suppression list in the workers' state directory screens queued sends as it does
    a run in one process: no request for a listed number, an error item with its code."""
    pipeline = _campaign(tmp_path, 20)
    state = tmp_path / "state"
    env = sandbox_env(sandbox, state)
    monkeypatch.setenv("PLIVO_NODE_STATE_DIR", str(state))
    with suppression.opened() as listed:
        listed.add("14155560007", reason="test", source=suppression.Source.MANUAL)
    pool = Workers(env, redis_server.url, tmp_path)
    await pool.start(2)
    try:
        code, err = await run_queued(
            env, str(pipeline), "--queue", redis_server.url, "--chunk-size", "5"
        )
    finally:
        await pool.stop()
    records = _output(tmp_path)
    assert code == 1, err + pool.logs()
    assert [r["pairedItem"]["item"] for r in records] == list(range(20))
    assert records[7]["error"]["code"] == "suppressed"
    assert "14155560007" not in {m["dst"] for m in sandbox.state.messages}
    assert len(sandbox.state.messages) == 19


def _summary_tally_lines(err: str) -> list[str]:
    """The summary's node lines: SMS segments, MMS, the cost estimate."""
    wanted = ("SMS segments:", "MMS:", "estimated cost:")
    return [line.strip() for line in err.splitlines() if line.strip().startswith(wanted)]


async def test_a_queued_run_prints_the_cost_lines_a_local_run_prints(
    tmp_path: Path, redis_server: RedisServer, sandbox: Any
) -> None:
    """Each chunk's tally goes back to the run, which merges them and prices them once:
    the summary's segments and cost equal a run in one process over the same input."""
    contacts = "".join(f"n{i},+1415556{i:04d}\n" for i in range(30))
    contacts += "".join(f"{'long' * 50}{i},+4420794{i:05d}\n" for i in range(7))  # 2+ segments
    (tmp_path / "contacts.csv").write_text("name,phone\n" + contacts)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(PIPELINE)
    env = sandbox_env(sandbox, tmp_path / "state")
    code, local_err = await run_queued(env, str(pipeline), "--output", str(tmp_path / "l.jsonl"))
    assert code == 0, local_err
    pool = Workers(env, redis_server.url, tmp_path)
    await pool.start(2)
    try:
        code, queued_err = await run_queued(
            env, str(pipeline), "--queue", redis_server.url, "--chunk-size", "4"
        )
    finally:
        await pool.stop()
    assert code == 0, queued_err + pool.logs()
    local = _summary_tally_lines(local_err)
    assert [line.split(":")[0] for line in local] == ["SMS segments", "estimated cost"]
    assert "GB" in local[1]
    assert _summary_tally_lines(queued_err) == local


MMS_PIPELINE = """\
version: 1
name: Queued pictures
steps:
  - name: Send
    node: plivo
    onError: continueRegularOutput
    parameters:
      resource: mms
      operation: send
      from: "+14155550100"
      to: "={{ $json.phone }}"
      message: "=For {{ $json.name }}"
      additionalFields: {binary_properties: photo}
"""


async def test_items_with_binary_data_are_carried_to_the_workers_and_come_back_paired(
    tmp_path: Path, redis_server: RedisServer, sandbox: Any
) -> None:
    """MMS media given as n8n binary data: each item's file reaches the worker that sends
    it (uploaded, then sent as a media id), and the outputs are paired in input order."""
    import base64  # noqa: PLC0415

    items = [
        {
            "json": {"name": f"n{i}", "phone": f"+1415556{i:04d}"},
            "binary": {
                "photo": {
                    "data": base64.b64encode(bytes([i]) * (1000 + i)).decode(),
                    "mimeType": "image/jpeg",
                    "fileName": f"p{i}.jpg",
                }
            },
        }
        for i in range(12)
    ]
    (tmp_path / "items.json").write_text(json.dumps(items))
    pipeline = tmp_path / "mms.yaml"
    pipeline.write_text(MMS_PIPELINE)
    env = sandbox_env(sandbox, tmp_path / "state")
    pool = Workers(env, redis_server.url, tmp_path)
    await pool.start(2)
    try:
        code, err = await run_queued(
            env,
            str(pipeline),
            "--input",
            str(tmp_path / "items.json"),
            "--output",
            str(tmp_path / "out.jsonl"),
            "--queue",
            redis_server.url,
            "--chunk-size",
            "5",
        )
    finally:
        await pool.stop()
    assert code == 0, err + pool.logs()
    records = _output(tmp_path)
    assert [r["pairedItem"]["item"] for r in records] == list(range(12))
    assert [r["json"]["media_count"] for r in records] == [1] * 12
    assert "MMS: 12 messages" in err
    by_destination = {m["dst"]: m for m in sandbox.state.messages}
    assert len(by_destination) == 12
    uploads = sorted((m["file_name"], m["size"]) for m in sandbox.state.media.values())
    assert uploads == sorted((f"p{i}.jpg", 1000 + i) for i in range(12))
