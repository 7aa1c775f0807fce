"""Rate limits through the CLI: a limited server draws no 429 and loses no item; bad limits are
refused up front with the setting named, before anything is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plivo_sandbox import FaultConfig, Sandbox, SandboxConfig
from tests.adversarial.conftest import AUTH_ID, AUTH_TOKEN, Adversary

PIPELINE = """
version: 1
input: contacts.csv
output: out.jsonl
{settings}
steps:
  - name: Send
    node: plivo
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{{{ $json.phone }}}}"
      message: "=Hi {{{{ $json.name }}}}"
"""


def contacts(count: int) -> str:
    rows = (f"C{i},+1202555{i:04d}" for i in range(count))
    return "name,phone\n" + "\n".join(rows) + "\n"


async def limited(rate: tuple[int, float], latency_ms: int = 0) -> Sandbox:
    config = SandboxConfig(
        auth_id=AUTH_ID, auth_token=AUTH_TOKEN, rate_limit=rate, latency_ms=latency_ms
    )
    sandbox = Sandbox(config)
    await sandbox.start()
    return sandbox


@pytest.fixture
async def strict(tmp_path: Path) -> AsyncIterator[Adversary]:
    """A sandbox that answers 429 past 20 requests per 0.5 s (counted on arrival), 20 ms late."""
    sandbox = await limited((20, 0.5), latency_ms=20)
    try:
        yield Adversary(tmp_path, sandbox)
    finally:
        await sandbox.stop()


def posts(adversary: Adversary) -> int:
    assert adversary.sandbox is not None
    return sum(1 for r in adversary.sandbox.state.request_log if r.method == "POST")


def output_errors(adversary: Adversary) -> list[str]:
    text = (adversary.root / "out.jsonl").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if '"error"' in line]


async def test_the_same_limit_on_both_sides_draws_no_429(strict: Adversary) -> None:
    strict.write("contacts.csv", contacts(60))
    settings = "settings:\n  rateLimit: {requests: 20, perSeconds: 0.5}"
    pipeline = strict.write("p.yaml", PIPELINE.format(settings=settings))
    run = await strict.run("run", str(pipeline), "--no-progress")
    assert run.code == 0, run
    assert posts(strict) == 60, "the server refused some: the client's window is not exact"
    assert strict.messages_sent() == 60
    strict.assert_sent_at_most_once()
    strict.assert_clean(run)


@pytest.mark.slow
async def test_a_server_stricter_than_the_setting_costs_429s_but_no_item(tmp_path: Path) -> None:
    # The pipeline keeps Plivo's default 300/5 s; this server allows 10 per second.
    sandbox = await limited((10, 1.0))
    try:
        adversary = Adversary(tmp_path, sandbox)
        adversary.write("contacts.csv", contacts(30))
        pipeline = adversary.write("p.yaml", PIPELINE.format(settings=""))
        run = await adversary.run("run", str(pipeline), "--no-progress")
        assert run.code == 0, run
        assert posts(adversary) > 30, "no 429 was drawn: the test proves nothing"
        assert adversary.messages_sent() == 30
        adversary.assert_sent_at_most_once()
        assert output_errors(adversary) == []
        adversary.assert_clean(run)
    finally:
        await sandbox.stop()


@pytest.mark.slow
async def test_rate_limit_off_still_backs_off_on_429_and_sends_each_item_once(
    strict: Adversary,
) -> None:
    strict.write("contacts.csv", contacts(40))
    pipeline = strict.write("p.yaml", PIPELINE.format(settings="settings:\n  rateLimit: false"))
    run = await strict.run("run", str(pipeline), "--no-progress")
    assert run.code == 0, run
    assert posts(strict) > 40, "no 429 was drawn: the test proves nothing"
    assert strict.messages_sent() == 40
    strict.assert_sent_at_most_once()
    strict.assert_clean(run)


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("{requests: 0, perSeconds: 5}", "requests"),
        ("{requests: 300, perSeconds: 0}", "perSeconds"),
        ("{requests: 300}", "perSeconds"),
        ("{requests: 2.5, perSeconds: 1}", "requests"),
        # The YAML reader refuses non-finite numbers anywhere, with their line and column.
        ("{requests: 300, perSeconds: .nan}", "'.nan' is not a finite number"),
        ("{requests: 300, perSeconds: .inf}", "'.inf' is not a finite number"),
        ("true", "rateLimit"),
        ('"300/5"', "rateLimit"),
        ("{requests: 300, perSeconds: 5, burst: 10}", "burst"),
    ],
)
async def test_a_meaningless_rate_limit_is_refused_before_anything_is_sent(
    adversary: Adversary, setting: str, named: str
) -> None:
    adversary.write("contacts.csv", contacts(3))
    settings = f"settings:\n  rateLimit: {setting}"
    pipeline = adversary.write("p.yaml", PIPELINE.format(settings=settings))
    run = await adversary.run("run", str(pipeline), "--no-progress")
    assert run.code == 2, run
    assert "settings.rateLimit" in run.stderr or "finite" in named, run
    assert named in run.stderr, run
    assert adversary.messages_sent() == 0
    adversary.assert_clean(run)


@pytest.mark.parametrize("rate", ["0/5", "300/0", "300/-5", "300/nan", "300/inf", "abc", "3x/5"])
async def test_the_sandbox_refuses_a_meaningless_rate_limit(offline: Adversary, rate: str) -> None:
    run = await offline.run("sandbox", "--port", "0", f"--rate-limit={rate}", limit_seconds=60)
    assert run.code == 2, run
    assert "--rate-limit" in run.stderr, run
    assert "REQUESTS/SECONDS" in run.stderr, run
    assert "listening" not in run.stdout


@pytest.mark.slow
async def test_injected_429s_are_retried_and_every_item_goes_out_once(tmp_path: Path) -> None:
    # 429s the limiter could not foresee (another client on the account): each is retried on
    # its own, nothing is lost, nothing doubled.
    faults = FaultConfig(rate=0.05, seed=3, kinds=(429,))
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN, faults=faults)
    async with Sandbox(config) as sandbox:
        adversary = Adversary(tmp_path, sandbox)
        adversary.write("contacts.csv", contacts(40))
        pipeline = adversary.write("p.yaml", PIPELINE.format(settings=""))
        run = await adversary.run("run", str(pipeline), "--no-progress")
        assert run.code == 0, run
        assert sandbox.state.fault_log, "no 429 was injected: the test proves nothing"
        assert adversary.messages_sent() == 40
        adversary.assert_sent_at_most_once()
        assert output_errors(adversary) == []
        adversary.assert_clean(run)
