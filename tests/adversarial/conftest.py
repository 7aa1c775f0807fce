"""The adversarial suite: plivo-node driven through its command line only, as a user would.

Every case runs ``plivo-node`` in a subprocess against a sandbox the test owns (or none), then
checks what a user and an attacker care about:

- the exit code (2 means nothing was sent),
- no Python traceback on stdout or stderr,
- nothing sent twice (``sandbox.state.destination_counts``),
- no secret in any byte the run wrote: stdout, stderr, and every file under the test's
  directory (output, journal, logs), in clear, as ``id:token``, or as its base64.

Use the ``adversary`` fixture::

    async def test_x(adversary: Adversary) -> None:
        pipeline = adversary.write("p.yaml", PIPELINE)
        run = await adversary.run("run", str(pipeline), "--no-progress")
        assert run.code == 2
        adversary.assert_clean(run)
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from plivo_sandbox import Sandbox, SandboxConfig

AUTH_ID = "MAADVERSARY000000001"
AUTH_TOKEN = "adv-Token_9z$Qx/+w=s3cret"  # characters that need escaping


@dataclass(frozen=True)
class CliRun:
    """What one ``plivo-node`` invocation did."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"plivo-node {' '.join(self.args)} -> {self.code}\n{self.stderr[-4000:]}"


# The campaign most cases run: one personalised SMS per contact of contacts.csv.
SMS_SEND_STEPS = """
steps:
  - name: Send
    node: plivo
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{ $json.phone }}"
      message: "=Hi {{ $json.name }}"
"""
SMS_PIPELINE = "version: 1\ninput: contacts.csv\noutput: out.jsonl" + SMS_SEND_STEPS


def secret_forms(secret: str, auth_id: str = AUTH_ID) -> list[str]:
    """Every form in which ``secret`` must never be written."""
    pair = f"{auth_id}:{secret}"
    forms = [secret, pair, base64.b64encode(pair.encode()).decode()]
    forms.append(base64.b64encode(secret.encode()).decode())
    return forms


@dataclass
class Adversary:
    """A scratch directory, a sandbox (optional) and a way to run the CLI against it."""

    root: Path
    sandbox: Sandbox | None = None
    secrets: list[str] = field(default_factory=lambda: [AUTH_TOKEN])

    def write(self, name: str, text: str | bytes) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def env(self, **overrides: str | None) -> dict[str, str]:
        """The CLI's environment: the sandbox's credentials, unless overridden (None unsets)."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("PLIVO_") or k == "PLIVO_NODE_TEST_MODE"
        }
        if self.sandbox is not None:
            env["PLIVO_AUTH_ID"] = AUTH_ID
            env["PLIVO_AUTH_TOKEN"] = AUTH_TOKEN
            env["PLIVO_API_URL"] = self.sandbox.url
        for key, value in overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    async def start(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> asyncio.subprocess.Process:
        """Start ``plivo-node ARGS`` (cwd: the scratch directory) without waiting for it."""
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "plivo_node.cli",
            *args,
            cwd=self.root,
            env=dict(env) if env is not None else self.env(),
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def finish(
        self,
        process: asyncio.subprocess.Process,
        args: Iterable[str],
        *,
        stdin: bytes | None = None,
        limit_seconds: float = 120,
    ) -> CliRun:
        try:
            async with asyncio.timeout(limit_seconds):
                out, err = await process.communicate(stdin)
        except TimeoutError:
            process.send_signal(signal.SIGKILL)
            await process.wait()
            raise
        assert process.returncode is not None
        return CliRun(
            tuple(args),
            process.returncode,
            out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"),
        )

    async def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        limit_seconds: float = 120,
    ) -> CliRun:
        """Run ``plivo-node ARGS`` to completion and check it printed no traceback."""
        process = await self.start(*args, env=env, stdin=stdin)
        run = await self.finish(process, args, stdin=stdin, limit_seconds=limit_seconds)
        assert_no_traceback(run)
        return run

    def written_bytes(self) -> Iterable[tuple[Path, bytes]]:
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                yield path, path.read_bytes()

    def assert_clean(self, *runs: CliRun, extra_secrets: Iterable[str] = ()) -> None:
        """No traceback, and no secret (in any form) in any byte the runs printed or wrote."""
        forms = [f for s in [*self.secrets, *extra_secrets] for f in secret_forms(s)]
        for run in runs:
            assert_no_traceback(run)
            for form in forms:
                assert form not in run.stdout, f"secret in stdout of {run}"
                assert form not in run.stderr, f"secret in stderr of {run}"
        for path, data in self.written_bytes():
            if path.suffix in {".yaml", ".yml", ".csv", ".json"} and path.parent == self.root:
                continue  # the test's own inputs may hold the secret on purpose
            for form in forms:
                assert form.encode() not in data, f"secret written to {path}"

    def assert_sent_at_most_once(self) -> None:
        assert self.sandbox is not None
        twice = {d: n for d, n in self.sandbox.state.destination_counts.items() if n > 1}
        assert not twice, f"sent more than once: {twice}"

    def messages_sent(self) -> int:
        assert self.sandbox is not None
        return sum(self.sandbox.state.destination_counts.values())


def assert_no_traceback(run: CliRun) -> None:
    for stream in (run.stdout, run.stderr):
        assert "Traceback (most recent call last)" not in stream, str(run)


@pytest.fixture
async def adversary(tmp_path: Path) -> AsyncIterator[Adversary]:
    """A scratch directory and a running sandbox with this suite's credentials."""
    config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)
    async with Sandbox(config) as sandbox:
        yield Adversary(tmp_path, sandbox)


@pytest.fixture
def offline(tmp_path: Path) -> Adversary:
    """A scratch directory and no sandbox: the CLI's environment has no Plivo variables."""
    return Adversary(tmp_path)
