"""Misuses of `plivo-node run` that used to send what should not be sent, or lie in the exit code.

Each case is one thing a user (or cron) gets wrong: a flag combination that cannot work, a
second run over a finished campaign, a wrong token, unset credential variables, a dry run
aimed at a real run's files, a journal or output that fails part-way. The rules checked:
exit 2 means nothing was sent; a stop after the first request is exit 1; --resume is advised
only where it works; nothing is sent twice; no secret is written.
"""

from __future__ import annotations

import asyncio
import json
import resource
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.adversarial.conftest import AUTH_ID, AUTH_TOKEN, Adversary, CliRun, assert_no_traceback

PIPELINE = """
version: 1
input: contacts.csv
output: out.jsonl
settings: {{rateLimit: false, concurrency: 8}}
steps:
  - name: Send
    node: plivo
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{{{ $json.phone }}}}"
      message: "{message}"
{credentials}"""

JOURNAL = "out.jsonl.journal.sqlite"


def phones(count: int, start: int = 1000) -> list[str]:
    return [f"+1415555{n:04d}" for n in range(start, start + count)]


def campaign(adversary: Adversary, count: int = 5, *, message: str = "hi", **extra: str) -> Path:
    """contacts.csv with ``count`` phones and p.yaml sending each one ``message``."""
    adversary.write("contacts.csv", "phone\n" + "".join(f"{p}\n" for p in phones(count)))
    credentials = extra.get("credentials", "")
    return adversary.write("p.yaml", PIPELINE.format(message=message, credentials=credentials))


async def run(adversary: Adversary, *args: str, **kwargs: object) -> CliRun:
    return await adversary.run("run", *args, "--no-progress", **kwargs)  # type: ignore[arg-type]


def posts(adversary: Adversary) -> int:
    assert adversary.sandbox is not None
    return sum(1 for r in adversary.sandbox.state.request_log if r.method == "POST")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- --resume only where it can work ------------------------------------------------------


async def test_resume_with_no_journal_is_refused_and_sends_nothing(adversary: Adversary) -> None:
    pipeline = campaign(adversary)
    result = await run(adversary, str(pipeline), "--resume", "--no-journal")
    assert result.code == 2, result
    assert "--resume cannot work here" in result.stderr
    assert "--no-journal" in result.stderr
    assert adversary.messages_sent() == 0
    adversary.assert_clean(result)


async def test_resume_from_stdin_is_refused_and_sends_nothing(adversary: Adversary) -> None:
    pipeline = campaign(adversary)
    rows = "".join(json.dumps({"phone": p}) + "\n" for p in phones(3)).encode()
    args = [str(pipeline), "--input", "-", "--input-format", "jsonl", "--resume"]
    result = await run(adversary, *args, stdin=rows)
    assert result.code == 2, result
    assert "stdin" in result.stderr
    assert adversary.messages_sent() == 0


async def test_resume_of_a_dry_run_is_refused(adversary: Adversary) -> None:
    pipeline = campaign(adversary)
    result = await run(adversary, str(pipeline), "--dry-run", "--resume")
    assert result.code == 2, result
    assert "a dry run keeps no journal" in result.stderr
    assert not (adversary.root / "out.dry-run.jsonl").exists()


async def test_journal_and_no_journal_together_are_refused(adversary: Adversary) -> None:
    pipeline = campaign(adversary)
    result = await run(adversary, str(pipeline), "--journal", "j.sqlite", "--no-journal")
    assert result.code == 2, result
    assert "contradict" in result.stderr
    assert adversary.messages_sent() == 0


# --- no silent second campaign -------------------------------------------------------------


@pytest.mark.slow  # two or more runs of the CLI
async def test_a_rerun_over_a_finished_campaign_is_refused_and_says_what_was_sent(
    adversary: Adversary,
) -> None:
    pipeline = campaign(adversary, 4)
    first = await run(adversary, str(pipeline))
    assert first.code == 0, first
    output = (adversary.root / "out.jsonl").read_bytes()

    again = await run(adversary, str(pipeline))
    assert again.code == 2, again
    assert "records a finished run (started " in again.stderr
    assert ", finished " in again.stderr
    assert "4 items, 4 succeeded, 0 failed" in again.stderr
    assert "--restart" in again.stderr
    assert adversary.messages_sent() == 4
    adversary.assert_sent_at_most_once()
    assert (adversary.root / "out.jsonl").read_bytes() == output

    restarted = await run(adversary, str(pipeline), "--restart")
    assert restarted.code == 0, restarted
    assert adversary.messages_sent() == 8  # asked for explicitly
    adversary.assert_clean(first, again, restarted)


@pytest.mark.slow  # two or more runs of the CLI
async def test_no_journal_does_not_bypass_a_finished_campaigns_journal(
    adversary: Adversary,
) -> None:
    pipeline = campaign(adversary, 3)
    assert (await run(adversary, str(pipeline))).code == 0
    again = await run(adversary, str(pipeline), "--no-journal")
    assert again.code == 2, again
    assert JOURNAL in again.stderr
    assert adversary.messages_sent() == 3


@pytest.mark.slow  # two or more runs of the CLI
async def test_another_journal_for_the_same_output_does_not_bypass_it(
    adversary: Adversary,
) -> None:
    pipeline = campaign(adversary, 3)
    assert (await run(adversary, str(pipeline))).code == 0
    again = await run(adversary, str(pipeline), "--journal", "elsewhere.sqlite")
    assert again.code == 2, again
    assert "drop --journal" in again.stderr or "--restart" in again.stderr
    assert adversary.messages_sent() == 3
    assert not (adversary.root / "elsewhere.sqlite").exists()


@pytest.mark.slow  # two or more runs of the CLI
async def test_the_same_journal_with_another_output_is_refused(adversary: Adversary) -> None:
    pipeline = campaign(adversary, 3)
    assert (await run(adversary, str(pipeline))).code == 0
    again = await run(adversary, str(pipeline), "--output", "b.jsonl", "--journal", JOURNAL)
    assert again.code == 2, again
    assert "records a finished run" in again.stderr
    assert adversary.messages_sent() == 3
    assert not (adversary.root / "b.jsonl").exists()


@pytest.mark.slow  # two or more runs of the CLI
async def test_another_pipeline_over_the_same_output_is_refused(adversary: Adversary) -> None:
    pipeline = campaign(adversary, 3, message="first wording")
    assert (await run(adversary, str(pipeline))).code == 0
    campaign(adversary, 3, message="second wording")
    again = await run(adversary, str(pipeline))
    assert again.code == 2, again
    assert "finished run of another pipeline or input" in again.stderr
    assert adversary.messages_sent() == 3


@pytest.mark.slow  # two or more runs of the CLI
async def test_a_sandbox_try_out_does_not_overwrite_a_real_campaigns_record(
    adversary: Adversary,
) -> None:
    pipeline = campaign(adversary, 3)
    assert (await run(adversary, str(pipeline))).code == 0
    output = (adversary.root / "out.jsonl").read_bytes()
    tried = await run(adversary, str(pipeline), "--sandbox")
    assert tried.code == 2, tried
    assert "records a finished run" in tried.stderr
    assert (adversary.root / "out.jsonl").read_bytes() == output


# --- credentials checked once, before the first item --------------------------------------


async def test_a_wrong_token_fails_once_before_any_item_without_printing_it(
    adversary: Adversary,
) -> None:
    pipeline = campaign(adversary, 50)
    wrong = "wrong-Token_42$xyz"
    adversary.secrets.append(wrong)
    result = await run(adversary, str(pipeline), env=adversary.env(PLIVO_AUTH_TOKEN=wrong))
    assert result.code == 2, result
    assert "credentials check" in result.stderr
    assert "Authentication failed" in result.stderr
    assert result.stderr.count("Authentication failed") == 1  # not once per item
    assert posts(adversary) == 0
    assert not (adversary.root / "out.jsonl").exists()
    adversary.assert_clean(result)


async def test_a_dry_run_checks_the_credentials_too(adversary: Adversary) -> None:
    pipeline = campaign(adversary)
    env = adversary.env(PLIVO_AUTH_ID="MAWRONGACCOUNT000001")
    result = await run(adversary, str(pipeline), "--dry-run", env=env)
    assert result.code == 2, result
    assert "credentials check" in result.stderr
    adversary.assert_clean(result)


async def test_an_api_url_that_is_not_plivo_fails_before_any_item(adversary: Adversary) -> None:
    assert adversary.sandbox is not None
    pipeline = campaign(adversary, 20)
    env = adversary.env(PLIVO_API_URL=adversary.sandbox.url.rstrip("/") + "/not-the-api/")
    result = await run(adversary, str(pipeline), env=env)
    assert result.code == 2, result
    assert "nothing was sent" in result.stderr
    assert posts(adversary) == 0
    adversary.assert_clean(result)


@pytest.mark.slow  # the one read is retried with backoff, as every read is
async def test_an_unreachable_api_is_one_clear_error_not_one_per_item(offline: Adversary) -> None:
    pipeline = campaign(offline, 200)
    env = offline.env(
        PLIVO_AUTH_ID=AUTH_ID,
        PLIVO_AUTH_TOKEN=AUTH_TOKEN,
        PLIVO_API_URL=f"http://127.0.0.1:{closed_port()}/v1/",
    )
    result = await run(offline, str(pipeline), env=env)
    assert result.code == 2, result
    assert "Could not connect" in result.stderr
    assert "nothing was sent" in result.stderr
    assert "failed" not in result.stderr.split("credentials check")[0]
    assert not (offline.root / "out.jsonl").exists()
    offline.assert_clean(result)


# --- the sandbox only when nothing asks for a live account --------------------------------


async def test_unset_variables_of_a_credentials_block_are_named_not_replaced_by_the_sandbox(
    offline: Adversary,
) -> None:
    block = "credentials:\n  plivoApi: {authId: '${ACME_ID}', authToken: '${ACME_TOKEN}'}\n"
    pipeline = campaign(offline, credentials=block)
    result = await run(offline, str(pipeline))
    assert result.code == 2, result
    assert "ACME_ID" in result.stderr
    assert "ACME_TOKEN" in result.stderr
    assert "embedded sandbox" not in result.stderr
    assert not (offline.root / "out.jsonl").exists()


async def test_an_empty_token_variable_is_an_error_not_a_sandbox_run(offline: Adversary) -> None:
    # What `PLIVO_AUTH_TOKEN=$(cat /missing/file)` leaves in a cron job.
    pipeline = campaign(offline)
    env = offline.env(PLIVO_AUTH_ID=AUTH_ID, PLIVO_AUTH_TOKEN="")
    result = await run(offline, str(pipeline), env=env)
    assert result.code == 2, result
    assert "PLIVO_AUTH_TOKEN is empty" in result.stderr
    assert "embedded sandbox" not in result.stderr


async def test_a_sandbox_run_says_in_its_summary_that_nothing_reached_plivo(
    offline: Adversary,
) -> None:
    pipeline = campaign(offline, 2)
    result = await run(offline, str(pipeline))
    assert result.code == 0, result
    assert result.stderr.rstrip().endswith("sandbox: nothing was sent to Plivo")


# --- a dry run never touches a real run's files --------------------------------------------


@pytest.mark.slow  # two or more runs of the CLI
async def test_a_dry_run_leaves_the_real_runs_output_and_journal_alone(
    adversary: Adversary,
) -> None:
    pipeline = campaign(adversary, 3)
    assert (await run(adversary, str(pipeline))).code == 0
    output, journal = adversary.root / "out.jsonl", adversary.root / JOURNAL
    before = (output.read_bytes(), journal.read_bytes())

    dry = await run(adversary, str(pipeline), "--dry-run")
    assert dry.code == 0, dry
    assert (output.read_bytes(), journal.read_bytes()) == before
    preview = adversary.root / "out.dry-run.jsonl"
    lines = preview.read_text().splitlines()
    assert len(lines) == 3
    assert all(json.loads(line)["json"]["api_id"] == "dry-run" for line in lines)
    assert "output: out.dry-run.jsonl" in dry.stderr.replace(str(adversary.root) + "/", "")
    assert adversary.messages_sent() == 3


@pytest.mark.slow  # two or more runs of the CLI
@pytest.mark.parametrize("target", ["out.jsonl", JOURNAL])
async def test_a_dry_run_refuses_a_real_runs_file_as_its_output(
    adversary: Adversary, target: str
) -> None:
    pipeline = campaign(adversary, 3)
    assert (await run(adversary, str(pipeline))).code == 0
    before = (adversary.root / target).read_bytes()
    dry = await run(adversary, str(pipeline), "--dry-run", "--output", target)
    assert dry.code == 2, dry
    assert "never writes over a real run's files" in dry.stderr or "run journal" in dry.stderr
    assert (adversary.root / target).read_bytes() == before


@pytest.mark.slow  # two or more runs of the CLI
async def test_a_dry_run_first_does_not_block_the_real_run(adversary: Adversary) -> None:
    pipeline = campaign(adversary, 3)
    assert (await run(adversary, str(pipeline), "--dry-run")).code == 0
    real = await run(adversary, str(pipeline))
    assert real.code == 0, real
    assert adversary.messages_sent() == 3


async def test_an_output_that_is_the_input_is_refused_before_it_is_emptied(
    adversary: Adversary,
) -> None:
    pipeline = campaign(adversary, 3)
    contacts = (adversary.root / "contacts.csv").read_bytes()
    result = await run(adversary, str(pipeline), "--output", "contacts.csv")
    assert result.code == 2, result
    assert "is the run's input" in result.stderr
    assert (adversary.root / "contacts.csv").read_bytes() == contacts
    assert adversary.messages_sent() == 0


# --- a stop after the first request is exit 1, with honest advice --------------------------


def _file_size_limit(limit: int) -> Callable[[], None]:
    """For the child: files may not grow past ``limit`` bytes, as on a full disk (EFBIG)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of dying
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.slow  # two or more runs of the CLI
async def test_a_journal_that_fails_mid_run_is_exit_1_and_resume_sends_nothing_twice(
    adversary: Adversary,
) -> None:
    pipeline = campaign(adversary, 300)
    args = ("run", str(pipeline), "--no-progress")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "plivo_node.cli",
        *args,
        cwd=adversary.root,
        env=adversary.env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=_file_size_limit(96 * 1024),
    )
    stopped = await adversary.finish(process, args)
    assert_no_traceback(stopped)
    sent = adversary.messages_sent()
    assert 0 < sent < 300, stopped  # the journal filled up part-way
    assert stopped.code == 1, stopped  # requests went out: not "nothing was sent"
    assert "cannot write" in stopped.stderr
    assert "--resume" in stopped.stderr

    resumed = await run(adversary, str(pipeline), "--resume")
    assert resumed.code in (0, 1), resumed  # items left in flight are reported unknown
    adversary.assert_sent_at_most_once()
    assert adversary.messages_sent() >= sent
    adversary.assert_clean(stopped, resumed)


async def test_a_stop_part_way_from_stdin_does_not_advise_resume(adversary: Adversary) -> None:
    pipeline = campaign(adversary)
    rows = "".join(json.dumps({"phone": p}) + "\n" for p in phones(600)).encode()
    args = [str(pipeline), "--input", "-", "--input-format", "jsonl", "--output", "/dev/full"]
    result = await run(adversary, *args, "--journal", "j.sqlite", stdin=rows)
    assert result.code == 1, result  # the output could not be written after sends went out
    assert adversary.messages_sent() > 0
    assert "--resume" not in result.stderr
    assert "stdin" in result.stderr
    adversary.assert_sent_at_most_once()


async def test_a_stop_part_way_without_journal_does_not_advise_resume(
    adversary: Adversary,
) -> None:
    pipeline = campaign(adversary, 600)
    result = await run(adversary, str(pipeline), "--no-journal", "--output", "/dev/full")
    assert result.code == 1, result
    assert adversary.messages_sent() > 0
    assert "--resume" not in result.stderr
    assert "--no-journal" in result.stderr
