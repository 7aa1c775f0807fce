"""``serve --queue``: serve accepts and queues signed callbacks, worker subprocesses run them.

A real redis-server, serve and workers as subprocesses, and the sandbox in this process
counting what reached "Plivo" (one reply per inbound message is the auto-reply pipeline)."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from plivo_node.cli import main
from plivo_node.core.errors import ConfigurationError
from plivo_sandbox import Sandbox, SandboxConfig
from tests.queue_mode.conftest import RedisServer, Workers
from tests.serve.conftest import (
    AUTH_ID,
    AUTH_TOKEN,
    auto_reply,
    inbound,
    post,
    serve_env,
    start_serve,
    v2_headers,
)

pytestmark = pytest.mark.slow


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def sender(number: int) -> str:
    return f"1415555{2000 + number:04d}"


def replies(sandbox: Sandbox) -> Counter[str]:
    """Messages per destination (the auto-reply answers each inbound message's sender)."""
    return Counter(message["dst"] for message in sandbox.state.messages)


async def until_messages(sandbox: Sandbox, count: int) -> None:
    async with asyncio.timeout(90):
        while len(sandbox.state.messages) < count:  # noqa: ASYNC110 - other processes send
            await asyncio.sleep(0.05)


async def test_events_run_once_each_on_the_workers_in_order_per_sender(
    tmp_path: Path, redis_server: RedisServer, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    state = tmp_path / "state"
    workers = Workers(serve_env(sandbox, state), redis_server.url, tmp_path)
    await workers.start(2)
    serve = await start_serve(
        sandbox, state, auto_reply(tmp_path), args=("--queue", redis_server.url)
    )
    url = serve.urls["sms"]
    events = [inbound(f"m-{n}", sender=sender(n % 5)) for n in range(40)]

    async def one_sender(number: int) -> None:
        # A sender's messages one after another (each acknowledged before the next, so
        # their order is defined); the five senders at once.
        for event in events[number::5]:
            assert await post(session, url, event, v2_headers(url)) == (200, "OK")

    try:
        await asyncio.gather(*(one_sender(number) for number in range(5)))
        await serve.wait_output(len(events))
        await until_messages(sandbox, len(events))
    finally:
        assert await serve.stop() == 0
        await workers.stop()
    assert len(sandbox.state.messages) == len(events), serve.stderr.decode() + workers.logs()
    assert Counter(m["text"] for m in sandbox.state.messages) == Counter(
        f"re {e['MessageUUID']}" for e in events
    )
    for number in range(5):  # each sender's replies went out in the order it wrote
        sent = [m["text"] for m in sandbox.state.messages if m["dst"] == sender(number)]
        assert sent == [f"re m-{n}" for n in range(number, len(events), 5)]
    lines = serve.output()
    assert sorted(line["event"] for line in lines) == list(range(1, len(events) + 1))
    assert Counter(line["json"]["to"] for line in lines) == Counter(e["From"] for e in events)


async def test_two_replicas_given_one_callback_queue_one_run(
    tmp_path: Path, redis_server: RedisServer, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    pipeline = auto_reply(tmp_path)
    workers = Workers(serve_env(sandbox, tmp_path / "a"), redis_server.url, tmp_path)
    await workers.start(2)
    replicas = [
        await start_serve(sandbox, tmp_path / name, pipeline, args=("--queue", redis_server.url))
        for name in ("a", "b")
    ]
    try:
        # Plivo retries each callback; behind a load balancer the retry reaches the other
        # replica (a new nonce each time: only the message is the same).
        for number in range(10):
            event = inbound(f"dup-{number}", sender=sender(number))
            answers = await asyncio.gather(
                *(post(session, r.urls["sms"], event, v2_headers(r.urls["sms"])) for r in replicas)
            )
            assert set(answers) == {(200, "OK")}
        await until_messages(sandbox, 10)
        await asyncio.sleep(1.5)  # time for a second run, were one queued
        async with asyncio.timeout(60):
            while sum(len(r.output()) for r in replicas) < 10:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        codes = [await replica.stop() for replica in replicas]
        await workers.stop()
    assert codes == [0, 0]
    assert replies(sandbox) == Counter(sender(n) for n in range(10)), workers.logs()
    # Each event's output is written once, by the replica whose claim won.
    outputs = [line["json"]["to"] for r in replicas for line in r.output()]
    assert sorted(outputs) == sorted(sender(n) for n in range(10))


async def test_events_acknowledged_before_a_kill_run_once_after_the_restart(
    tmp_path: Path, redis_server: RedisServer, sandbox: Sandbox
) -> None:
    pipeline = auto_reply(tmp_path)
    state = tmp_path / "state"
    workers = Workers(serve_env(sandbox, state), redis_server.url, tmp_path)
    await workers.start(2)
    serve = await start_serve(sandbox, state, pipeline, args=("--queue", redis_server.url))
    url = serve.urls["sms"]
    acked: list[str] = []
    pending = iter(range(200))
    killed = asyncio.Event()

    async def client(session: aiohttp.ClientSession) -> None:
        for number in pending:
            if killed.is_set():
                return
            params = inbound(f"k-{number}", sender=sender(number))
            try:
                async with session.post(url, data=params, headers=v2_headers(url)) as response:
                    assert response.status == 200
            except aiohttp.ClientError:
                return  # killed under this request: not acknowledged
            acked.append(params["From"])
            if len(acked) >= 60 and not killed.is_set():
                killed.set()
                serve.process.send_signal(signal.SIGKILL)

    try:
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(client(session) for _ in range(10)))
        await serve.process.wait()
        restarted = await start_serve(sandbox, state, pipeline, args=("--queue", redis_server.url))
        try:
            await until_messages(sandbox, len(acked))
            await asyncio.sleep(1.5)  # time for a repeat, were there one
        finally:
            assert await restarted.stop() == 0
    finally:
        await workers.stop()
    counts = replies(sandbox)
    assert set(acked) <= set(counts), workers.logs()
    assert max(counts.values()) == 1  # no event ran twice


async def test_a_stop_heard_by_serve_suppresses_the_workers_later_reply(
    tmp_path: Path, redis_server: RedisServer, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    state = tmp_path / "state"
    workers = Workers(serve_env(sandbox, state), redis_server.url, tmp_path)
    await workers.start(1)
    serve = await start_serve(
        sandbox, state, auto_reply(tmp_path), args=("--queue", redis_server.url)
    )
    url = serve.urls["sms"]
    stopped, other = sender(1), sender(2)
    try:
        for event in (
            inbound("s-stop", sender=stopped, text="STOP"),
            inbound("s-again", sender=stopped, text="hello?"),
            inbound("s-other", sender=other),
        ):
            assert await post(session, url, event, v2_headers(url)) == (200, "OK")
        await serve.wait_output(3)
    finally:
        assert await serve.stop() == 0
        await workers.stop()
    assert replies(sandbox) == Counter({other: 1}), workers.logs()
    errors = [line.get("error", {}).get("code") for line in serve.output()]
    assert errors.count("suppressed") == 2, serve.output()


def test_serve_refuses_a_queue_it_cannot_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.queue_mode.conftest import free_port  # noqa: PLC0415

    monkeypatch.setenv("PLIVO_NODE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PLIVO_AUTH_ID", AUTH_ID)
    monkeypatch.setenv("PLIVO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("PLIVO_API_URL", "http://127.0.0.1:9/")  # never reached: refused first
    url = f"redis://127.0.0.1:{free_port()}/0"
    code = main(["serve", str(auto_reply(tmp_path)), "--port", "0", "--queue", url])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "cannot use the queue at redis://127.0.0.1" in err
    assert "Traceback" not in err
    assert "listening" not in err


async def test_queued_events_are_not_run_both_on_the_workers_and_in_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A killed serve --queue leaves its events queued locally (forwarded or about to be):
    a serve started on that state directory without --queue (or with another queue) would
    run them a second time, so it is refused before anything runs."""
    from plivo_node.core.node import WebhookEvent  # noqa: PLC0415
    from plivo_node.serve.queue import EventQueue  # noqa: PLC0415
    from plivo_node.serve.queue_choice import check_queue_choice  # noqa: PLC0415

    state = tmp_path / "state"
    serve_state = state / "serve"
    queue = EventQueue.open(serve_state)
    try:
        event = WebhookEvent("inboundMessage", inbound("m-1"), "inbound:m-1", "14155559000")
        await queue.put("sms", event, "V2:1")
    finally:
        queue.close()
    check_queue_choice(serve_state, "redis://127.0.0.1:6390/0", waiting=1)  # as serve --queue
    monkeypatch.setenv("PLIVO_NODE_STATE_DIR", str(state))
    monkeypatch.setenv("PLIVO_AUTH_ID", AUTH_ID)
    monkeypatch.setenv("PLIVO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("PLIVO_API_URL", "http://127.0.0.1:9/")  # never reached: refused first
    code = await asyncio.to_thread(main, ["serve", str(auto_reply(tmp_path)), "--port", "0"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "1 events in" in err
    assert "ran them on the queue at redis://127.0.0.1:6390/0" in err
    assert "start serve with --queue redis://127.0.0.1:6390/0 until they are done" in err
    assert "Traceback" not in err
    with pytest.raises(ConfigurationError, match="could send them twice"):
        check_queue_choice(serve_state, "redis://127.0.0.1:6391/0", waiting=1)
    check_queue_choice(serve_state, None, waiting=0)  # once they are done: free to switch
    # And the other way: events a serve without --queue left (their sends in flight known
    # to its own journal only) are not handed to workers.
    with pytest.raises(ConfigurationError, match="start serve without --queue"):
        check_queue_choice(serve_state, "redis://127.0.0.1:6390/0", waiting=1)


def test_serve_refuses_a_pipeline_the_workers_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A step reading several inputs runs once per input in one process; queued chunks do
    not renumber such a step's items, so serve --queue refuses it (exit 2) before it
    listens, before it even reaches Redis."""
    pipeline = auto_reply(tmp_path)
    text = pipeline.read_text(encoding="utf-8")
    pipeline.write_text(
        text
        + """  - name: Also
    node: plivo
    input: Inbound
    onError: continueRegularOutput
    parameters:
      resource: sms
      operation: send
      from: "={{ $json.To }}"
      to: "={{ $json.From }}"
      message: "=also"
  - name: Both
    node: noOp
    input: [Reply, Also]
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("PLIVO_NODE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PLIVO_AUTH_ID", AUTH_ID)
    monkeypatch.setenv("PLIVO_AUTH_TOKEN", AUTH_TOKEN)
    code = main(["serve", str(pipeline), "--port", "0", "--queue", "redis://127.0.0.1:1/0"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{pipeline}: queue mode runs pipelines whose steps each read one input" in err
    assert "serve it without --queue" in err
    assert "Traceback" not in err


def test_the_queue_serve_chose_is_kept_without_its_password(tmp_path: Path) -> None:
    from plivo_node.queue.redis_url import parse_queue_url  # noqa: PLC0415
    from plivo_node.serve.queue_choice import check_queue_choice  # noqa: PLC0415

    address = parse_queue_url("redis://:Redis-Pa55word-42@127.0.0.1:6390/0")
    assert address.password == "Redis-Pa55word-42"
    check_queue_choice(tmp_path, address.shown, waiting=1)  # what serve --queue records
    written = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert b"redis://127.0.0.1:6390/0" in written
    assert b"Redis-Pa55word-42" not in written
