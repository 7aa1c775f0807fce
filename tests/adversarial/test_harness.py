"""The harness itself: a clean run passes its checks, and the checks can fail."""

from __future__ import annotations

import pytest

from tests.adversarial.conftest import (
    AUTH_TOKEN,
    SMS_PIPELINE,
    Adversary,
    CliRun,
    assert_no_traceback,
)

PIPELINE = SMS_PIPELINE


async def test_a_clean_run_passes_every_check(adversary: Adversary) -> None:
    adversary.write("contacts.csv", "name,phone\nA,+14155550101\nB,+14155550102\n")
    pipeline = adversary.write("p.yaml", PIPELINE)
    run = await adversary.run("run", str(pipeline), "--no-progress")
    assert run.code == 0, run
    adversary.assert_clean(run)
    adversary.assert_sent_at_most_once()
    assert adversary.messages_sent() == 2


def test_the_checks_can_fail(offline: Adversary) -> None:
    leaked = CliRun(("run",), 0, "", f"oops {AUTH_TOKEN}")
    with pytest.raises(AssertionError):
        offline.assert_clean(leaked)
    offline.write("out/leak.jsonl", AUTH_TOKEN)
    with pytest.raises(AssertionError):
        offline.assert_clean(CliRun(("run",), 0, "", ""))
    with pytest.raises(AssertionError):
        assert_no_traceback(CliRun(("run",), 1, "", "Traceback (most recent call last):\n"))
