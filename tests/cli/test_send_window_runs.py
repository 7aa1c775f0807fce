"""Runs with settings.sendWindow, on an injected clock (no real waiting): items outside their
recipient's window wait (or are deferred), and the journal sends every item exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from plivo_node.cli import EXIT_DEFERRED, EXIT_ITEMS_FAILED, EXIT_OK, EXIT_USAGE, main
from plivo_node.run import send_window
from plivo_sandbox import Sandbox, SandboxConfig

AUTH_ID = "MATESTACCOUNT0000001"
AUTH_TOKEN = "test-token-never-printed"
NEW_YORK = ["+12125550101", "+12125550102"]
LOS_ANGELES = ["+14155550103", "+14155550104"]
# Alternating, so that deferred items sit between sent ones.
PHONES = [NEW_YORK[0], LOS_ANGELES[0], NEW_YORK[1], LOS_ANGELES[1]]
MORNING_IN_NEW_YORK = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)  # 09:30 there, 06:30 in LA
OPENS_IN_LOS_ANGELES = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


class FakeClock:
    """Time that moves only when a run waits: the wait returns at once, at its deadline."""

    def __init__(self, now: datetime, *, interrupt: bool = False) -> None:
        self.instant = now
        self.waits: list[datetime] = []
        self.interrupt = interrupt

    def now(self) -> datetime:
        return self.instant

    async def sleep_until(self, instant: datetime, stopped: asyncio.Event) -> bool:
        self.waits.append(instant)
        if self.interrupt:  # Ctrl-C while waiting
            os.kill(os.getpid(), signal.SIGINT)
            await asyncio.wait_for(stopped.wait(), timeout=5)
            return True
        self.instant = instant
        return False


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(MORNING_IN_NEW_YORK)
    monkeypatch.setattr(send_window, "CLOCK", fake)
    return fake


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_URL"):
        monkeypatch.delenv(name, raising=False)


def write_pipeline(tmp_path: Path, window: str, *, bulk: bool = False, more: str = "") -> Path:
    (tmp_path / "contacts.csv").write_text("phone\n" + "".join(f"{p}\n" for p in PHONES))
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(
        f"""
version: 1
input: contacts.csv
output: out.jsonl
settings:
  rateLimit: false
  sendWindow: {window}
steps:
  - name: Send
    node: plivo
    onError: continueRegularOutput
    bulk: {str(bulk).lower()}
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{{{ $json.phone }}}}"
      message: "Sale ends Friday"
{more}"""
    )
    return pipeline


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def run_against(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setenv("PLIVO_AUTH_ID", AUTH_ID)
    monkeypatch.setenv("PLIVO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("PLIVO_API_URL", sandbox.url)
    # In a thread: the sandbox answers on this test's event loop meanwhile.
    return await asyncio.to_thread(main, ["run", *args, "--no-progress"])


@pytest.mark.parametrize("bulk", [False, True])
async def test_wait_sends_each_item_once_when_its_window_opens(
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bulk: bool,
) -> None:
    pipeline = write_pipeline(
        tmp_path, '{from: "09:00", to: "20:00", timezone: recipient}', bulk=bulk
    )
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as sandbox:
        code = await run_against(sandbox, monkeypatch, str(pipeline))
        counts = {p: sandbox.state.count_for(p) for p in PHONES}
        sent_at = [r.body["dst"] for r in sandbox.state.request_log if r.method == "POST"]
    err = capsys.readouterr().err
    assert code == EXIT_OK, err
    assert set(counts.values()) == {1}  # every contact exactly once
    assert clock.waits == [OPENS_IN_LOS_ANGELES]
    first_pass = ["12125550101", "12125550102"]
    assert sent_at[: 1 if bulk else 2] == (["<".join(first_pass)] if bulk else first_pass)
    assert (
        "2 items wait for their send window; sending resumes at 2026-12-03 17:00 UTC "
        "(09:00 America/Los_Angeles)"
    ) in err
    items = read_jsonl(tmp_path / "out.jsonl")
    assert [i["pairedItem"]["item"] for i in items] == [0, 1, 2, 3]
    assert all(i["json"]["status"] == "queued" for i in items)


async def test_defer_ends_the_run_and_resume_sends_the_rest(
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pipeline = write_pipeline(tmp_path, '{from: "09:00", to: "20:00", outside: defer}')
    async with Sandbox(SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)) as sandbox:
        first = await run_against(sandbox, monkeypatch, str(pipeline))
        err = capsys.readouterr().err
        assert first == EXIT_DEFERRED, err
        assert "2 items were left for their send window; run again with --resume after" in err
        assert "send window 09:00-20:00 recipient time: 2 items are outside it" in err
        assert [i["pairedItem"]["item"] for i in read_jsonl(tmp_path / "out.jsonl")] == [0, 2]
        # Still before 09:00 in Los Angeles: a resume sends nothing new and defers again.
        assert await run_against(sandbox, monkeypatch, str(pipeline), "--resume") == EXIT_DEFERRED
        clock.instant = OPENS_IN_LOS_ANGELES
        assert await run_against(sandbox, monkeypatch, str(pipeline), "--resume") == EXIT_OK
        counts = {p: sandbox.state.count_for(p) for p in PHONES}
    assert set(counts.values()) == {1}
    assert clock.waits == []
    assert [i["pairedItem"]["item"] for i in read_jsonl(tmp_path / "out.jsonl")] == [0, 1, 2, 3]


def test_a_signal_while_waiting_stops_cleanly_and_resume_continues(
    tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    clock.interrupt = True
    pipeline = write_pipeline(tmp_path, '{from: "09:00", to: "20:00"}')
    # In the main thread: the run installs its signal handlers only there.
    code = main(["run", str(pipeline), "--sandbox", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 128 + signal.SIGINT, err
    assert "stopped by SIGINT while 2 items waited for their send window" in err
    clock.interrupt = False
    clock.instant = OPENS_IN_LOS_ANGELES
    assert main(["run", str(pipeline), "--sandbox", "--no-progress", "--resume"]) == EXIT_OK
    assert [i["pairedItem"]["item"] for i in read_jsonl(tmp_path / "out.jsonl")] == [0, 1, 2, 3]


def test_dry_run_counts_the_items_outside_their_window(
    tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = write_pipeline(tmp_path, '{from: "09:00", to: "20:00"}')
    assert main(["run", str(pipeline), "--sandbox", "--dry-run"]) == EXIT_OK
    err = capsys.readouterr().err
    assert "send window 09:00-20:00 recipient time: 2 items would be outside it" in err
    assert clock.waits == []


def test_a_fixed_zone_applies_to_everyone(
    tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = write_pipeline(tmp_path, '{from: "09:00", to: "20:00", timezone: Asia/Tokyo}')
    # 23:30 in Tokyo: everyone waits until 09:00 there.
    assert main(["run", str(pipeline), "--sandbox", "--no-progress"]) == EXIT_OK
    assert clock.waits == [datetime(2026, 12, 4, 0, 0, tzinfo=UTC)]
    assert "4 items wait for their send window" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("window", "more", "expected"),
    [
        ('{from: "9am", to: "20:00"}', "", "'9am' is not a time of day; write it as HH:MM"),
        ('{from: "09:00", to: "24:00"}', "", "'24:00' is not a time of day"),
        ('{from: "09:00", to: "20:00", timezone: Mars/Olympus}', "", "is not a time zone"),
        ('{from: "09:00", to: "09:00"}', "", "from and to are the same time"),
        (
            '{from: "09:00", to: "20:00"}',
            "  - name: After\n    node: noOp\n",
            "its output must end the run",
        ),
    ],
)
def test_bad_windows_are_refused_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], window: str, more: str, expected: str
) -> None:
    pipeline = write_pipeline(tmp_path, window, more=more)
    assert main(["validate", str(pipeline)]) == EXIT_USAGE
    assert expected in capsys.readouterr().err


def test_a_window_needs_a_resumable_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pipeline = write_pipeline(tmp_path, '{from: "09:00", to: "20:00"}')
    assert main(["run", str(pipeline), "--sandbox", "--no-journal"]) == EXIT_USAGE
    assert "this run could not be resumed" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_a_configuration_error_after_a_pass_that_sent_is_not_exit_2(
    tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = write_pipeline(tmp_path, '{from: "09:00", to: "20:00"}')
    real_sleep = clock.sleep_until

    async def sleep_then_break_the_input(instant: datetime, stopped: asyncio.Event) -> bool:
        (tmp_path / "contacts.csv").write_bytes(b"\xff\xfe not UTF-8")
        return await real_sleep(instant, stopped)

    clock.sleep_until = sleep_then_break_the_input  # type: ignore[method-assign]
    code = main(["run", str(pipeline), "--sandbox", "--no-progress"])
    err = capsys.readouterr().err
    assert code == EXIT_ITEMS_FAILED, err
    assert "the run stopped between send windows, after items were sent" in err
