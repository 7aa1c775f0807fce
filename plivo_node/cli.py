"""The ``plivo-node`` command: the only module that prints.

Exit codes: 0 every item succeeded; 1 some items failed, a stopWorkflow step stopped, or the
run stopped part-way; 2 usage or configuration error found before anything was sent;
130 / 143 the run was stopped by SIGINT / SIGTERM (128 + the signal's number).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plivo_node import __version__
from plivo_node.core.errors import ConfigurationError, PlivoNodeError, RunAbortedError
from plivo_node.core.items import Item
from plivo_node.core.redaction import RedactingStream, redact, register_secret
from plivo_node.description import load_credential_type, load_node_description
from plivo_node.http.limiter import Pacer, RateLimiter
from plivo_node.http.retry import RetryPolicy
from plivo_node.http.transport import PlivoClient
from plivo_node.nodes.plivo.cost import describe_mms, estimate_cost
from plivo_node.nodes.plivo.credentials import (
    ENV_AUTH_ID,
    ENV_AUTH_TOKEN,
    MIN_TOKEN_LENGTH,
    Credentials,
    check_credentials,
    resolve_credentials,
    test_credentials,
)
from plivo_node.nodes.plivo.dry_run import DryRunClient
from plivo_node.run.engine import ItemResult, RunStop, Step
from plivo_node.run.guards import RunRequest, plan_run
from plivo_node.run.item_io import OutputWriter, open_input
from plivo_node.run.journal import RunJournal, compute_run_key, continue_hint
from plivo_node.run.pipeline import PipelineSpec, build_steps, check_pipeline_input, load_pipeline
from plivo_node.run.progress import Progress
from plivo_node.run.runner import RunSummary, execute
from plivo_sandbox import Sandbox, SandboxConfig
from plivo_sandbox.command import add_arguments as add_sandbox_arguments
from plivo_sandbox.command import serve

EXIT_OK = 0
EXIT_ITEMS_FAILED = 1
EXIT_USAGE = 2


def _tune_garbage_collector() -> None:
    """Make the cyclic GC cheap for a batch run: a large throughput win, little memory.

    After start-up, the node description, templates and phone metadata are long-lived:
    freezing them keeps every later collection from walking them again. Items themselves are
    freed by reference counting, so collecting the young generation less often (every 50,000
    allocations instead of 700) costs little memory and saves about a fifth of the CPU per item.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _err(message: str) -> None:
    print(redact(message), file=sys.stderr)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        _err(f"plivo-node: warning: {warning}")


# --- run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOptions:
    pipeline: Path
    input: Path | None
    input_format: str | None
    output: Path | None
    mode: str  # "auto", "sandbox" or "live"
    resume: bool
    restart: bool
    retry_unknown: bool
    dry_run: bool
    journal: Path | None
    no_journal: bool
    progress: bool | None


def _input_choice(spec: PipelineSpec, options: RunOptions) -> tuple[Path | None, str | None]:
    """The input the run reads and its format: --input wins over the pipeline's input."""
    path = options.input or spec.input_path
    fmt = options.input_format or (spec.input_format if options.input is None else None)
    return path, fmt


def _items(
    spec: PipelineSpec, options: RunOptions
) -> tuple[Iterator[Item], int | None, Path | None]:
    path, fmt = _input_choice(spec, options)
    if path is None:
        # Like n8n's manual trigger: one empty item, so a step such as account.get runs once.
        return iter([Item(json={})]), 1, None
    # Everything that can be checked before the first send is checked now (exit 2).
    items, total = open_input(path, fmt)
    return items, total, path


@dataclass(frozen=True)
class ApiTarget:
    credentials: Credentials
    embedded_sandbox: bool  # True: the run talks to a sandbox in this process, not to Plivo


@contextlib.asynccontextmanager
async def _api_target(spec: PipelineSpec, mode: str) -> AsyncIterator[ApiTarget]:
    """Credentials to run with: configured ones (live), or an embedded sandbox's.

    The sandbox stands in only when nothing asks for a live account (``resolve_credentials``
    refuses a half-configured one) or when ``--sandbox`` says so.
    """
    if mode != "sandbox":
        credentials = resolve_credentials(spec.credentials, os.environ)
        if credentials is not None:
            yield ApiTarget(credentials, embedded_sandbox=False)
            return
        if mode == "live":
            raise ConfigurationError(
                "--live needs credentials",
                hint="set PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN, or a credentials block in the "
                "pipeline",
            )
    config = SandboxConfig()
    async with Sandbox(config) as sandbox:
        reason = "--sandbox given" if mode == "sandbox" else "no credentials configured"
        _err(f"plivo-node: {reason}: using the embedded sandbox at {sandbox.url} (nothing is sent)")
        credentials = Credentials(config.auth_id, config.auth_token, base_url=sandbox.url)
        yield ApiTarget(credentials, embedded_sandbox=True)


def _client(
    credentials: Credentials, spec: PipelineSpec, steps: list[Step], *, retry_unknown: bool
) -> PlivoClient:
    """The one API client of a run, with the pipeline's limits and retry choices."""
    settings = spec.settings
    return PlivoClient(
        credentials,
        # Enough pooled connections for the busiest step.
        concurrency=max([settings.concurrency, *(step.concurrency for step in steps)]),
        timeout=settings.timeout_seconds,
        rate_limiter=RateLimiter(settings.rate_limit) if settings.rate_limit else None,
        retry_policy=RetryPolicy(retry_unknown_sends=retry_unknown),
        pacer=Pacer(settings.messages_per_second) if settings.messages_per_second else None,
    )


class _StopSignals:
    """SIGINT and SIGTERM during a run: the first stops it gracefully, the second at once.

    The graceful stop starts nothing new and lets requests being written finish and be
    recorded (see :class:`plivo_node.run.engine.RunStop`); the second signal abandons those too,
    or, when no step is running (a check before the first item, the cost estimate after the
    last), cancels the run where it stands.
    """

    def __init__(self, stop: RunStop) -> None:
        self.stop = stop
        self.received: list[signal.Signals] = []
        self._task = asyncio.current_task()
        self._installed: list[signal.Signals] = []

    def __enter__(self) -> _StopSignals:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                # Not on Windows, nor outside the main thread: the defaults stay.
                loop.add_signal_handler(signum, self._handle, signum)
                self._installed.append(signum)
        return self

    def __exit__(self, *exc_info: object) -> None:
        loop = asyncio.get_running_loop()
        for signum in self._installed:
            loop.remove_signal_handler(signum)

    @property
    def exit_code(self) -> int:
        return 128 + int(self.received[0])

    def _handle(self, signum: signal.Signals) -> None:
        self.received.append(signum)
        if len(self.received) == 1:
            self.stop.request()
        elif len(self.received) == 2 and not self.stop.force() and self._task is not None:
            self._task.cancel()

    def line(self, summary: RunSummary | None, total: int | None, obstacle: str | None) -> str:
        """The one line a stopped run prints: what was done and how to go on.

        ``summary`` is None when the run was cancelled outside its steps (nothing in flight).
        """
        name = self.received[0].name
        how = f"at once by a second {name}" if self.stop.forced else f"by {name}"
        if summary is None:
            return f"plivo-node: stopped {how} while no item was being sent"
        done = f" after {summary.items}" + (f" of {total}" if total is not None else "")
        done += " items"
        if not summary.interrupted and not self.stop.forced:
            return f"plivo-node: stopped {how}{done}: every item had run"
        if obstacle is not None:
            return f"plivo-node: stopped {how}{done}; {obstacle}"
        unknown = (
            " (requests that were in flight are reported as unknown_outcome)"
            if self.stop.forced
            else ""
        )
        return f"plivo-node: stopped {how}{done}; run again with --resume to send the rest{unknown}"


async def _run_stoppable(options: RunOptions) -> int:
    stop = RunStop()
    with _StopSignals(stop) as signals:
        try:
            return await _run(options, signals)
        except asyncio.CancelledError:
            if not signals.stop.forced:
                raise
            _err(signals.line(None, None, None))
            return signals.exit_code


async def _run(options: RunOptions, signals: _StopSignals) -> int:
    description = load_node_description()
    spec = load_pipeline(options.pipeline)
    steps = build_steps(spec, description)
    _warn(check_pipeline_input(spec, *_input_choice(spec, options)))
    items, total, input_path = _items(spec, options)
    run_key = compute_run_key(options.pipeline.read_text(encoding="utf-8"), input_path)
    plan = plan_run(
        RunRequest(
            pipeline=options.pipeline,
            run_key=run_key,
            input=input_path,
            output=options.output,
            pipeline_output=spec.output_path,
            journal=options.journal,
            no_journal=options.no_journal,
            dry_run=options.dry_run,
            resume=options.resume,
            restart=options.restart,
        )
    )
    _tune_garbage_collector()

    async with (
        _api_target(spec, options.mode) as target,
        _client(
            target.credentials, spec, steps, retry_unknown=options.retry_unknown
        ) as live_client,
    ):
        try:
            if not target.embedded_sandbox:
                await check_credentials(live_client)  # one read: a wrong token fails here
            journal = None
            if plan.journal is not None:
                journal = RunJournal.open(
                    plan.journal,
                    run_key=run_key,
                    resume=options.resume,
                    restart=options.restart,
                    blocker=plan.blocker,
                    sandbox=target.embedded_sandbox,
                )
            client = DryRunClient(live_client) if options.dry_run else live_client
            progress = Progress(
                sys.stderr,
                total=total,
                # --progress: the live bar; --no-progress: nothing; neither: the bar on a
                # terminal, a periodic line in logs.
                live=sys.stderr.isatty() if options.progress is None else options.progress,
                enabled=options.progress is not False,
                # The ETA is this run's own rate: items replayed from the journal do not count.
                resumed=journal.recorded(step=0) if journal is not None and options.resume else 0,
            )

            def on_result(step_index: int, result: ItemResult) -> None:
                if step_index == 0:
                    progress.advance(failed=result.error is not None)

            finished = False
            try:
                with OutputWriter(plan.output) as writer:
                    summary = await execute(
                        steps,
                        items,
                        client,
                        writer.write_line,
                        journal=journal,
                        retry_unknown=options.retry_unknown,
                        on_result=on_result,
                        stop=signals.stop,
                    )
                finished = summary.stopped is None and not summary.interrupted
            finally:
                progress.close()
                if journal is not None:
                    await journal.close(finished=finished)
            # A stopped run skips the price lookup: the user asked it to end now.
            if summary.segments_by_country and spec.settings.cost_estimate and not signals.received:
                summary.estimated_cost = await estimate_cost(
                    live_client, summary.segments_by_country
                )
        except ConfigurationError as exc:
            if live_client.writes_started:
                # Whatever stopped the run (a bad input row, an unwritable journal or output),
                # requests went out: this is not "nothing was sent" (exit 2).
                raise RunAbortedError(
                    f"the run stopped part-way, after requests were sent: {exc}",
                    hint=continue_hint(plan.blocker),
                ) from exc
            raise
    _print_summary(summary, plan.output, dry_run=options.dry_run, sandbox=target.embedded_sandbox)
    if signals.received:
        obstacle = None if plan.blocker is None else f"it cannot be resumed: {plan.blocker.reason}"
        _err(signals.line(summary, total, obstacle))
        return signals.exit_code
    if summary.stopped is not None:
        _err(f"plivo-node: {summary.stopped}")
        return EXIT_ITEMS_FAILED
    return EXIT_ITEMS_FAILED if summary.failed else EXIT_OK


def _print_summary(summary: RunSummary, output_path: Path, *, dry_run: bool, sandbox: bool) -> None:
    label = "dry run" if dry_run else "run"
    label += " stopped" if summary.interrupted else " finished"
    headline = (
        f"plivo-node: {label} in {summary.elapsed:.1f}s: {summary.items} items, "
        f"{summary.succeeded} succeeded, {summary.failed} failed"
    )
    lines = [headline]
    if summary.outputs != summary.succeeded + summary.steps[-1].failed:
        lines.append(f"  output items: {summary.outputs}")
    if len(summary.steps) > 1:
        lines.extend(
            f"  step '{s.name}': {s.items} items, {s.succeeded} succeeded, {s.failed} failed"
            for s in summary.steps
        )
    if summary.by_code:
        codes = ", ".join(f"{code}: {n}" for code, n in summary.by_code.most_common())
        lines.append(f"  failures by code: {codes}")
    if summary.resumed:
        lines.append(f"  resumed: {summary.resumed} items taken from the journal, not re-sent")
    if summary.segments:
        lines.append(f"  SMS segments: {summary.segments}")
    if summary.mms:
        lines.append(f"  {describe_mms(summary.mms)}")
    if summary.estimated_cost is not None:
        lines.append(f"  estimated cost: {summary.estimated_cost}")
    if str(output_path) != "-":
        lines.append(f"  output: {output_path}")
    if sandbox:
        lines.append("  sandbox: nothing was sent to Plivo")
    for line in lines:
        _err(line)


# --- other commands ------------------------------------------------------------------------


def _validate(pipeline: Path) -> int:
    description = load_node_description()
    spec = load_pipeline(pipeline)
    steps = build_steps(spec, description)
    _warn(check_pipeline_input(spec, spec.input_path, spec.input_format))
    names = ", ".join(f"{s.name} ({s.resource}.{s.operation})" for s in steps)
    print(f"{pipeline}: valid ({len(steps)} steps: {names})")
    return EXIT_OK


def _describe(*, credential: bool) -> int:
    described = load_credential_type() if credential else load_node_description()
    print(json.dumps(described.to_n8n_json(), indent=2))
    return EXIT_OK


async def _credentials_test(pipeline: Path | None) -> int:
    block: Any = None
    if pipeline is not None:
        block = load_pipeline(pipeline).credentials
    credentials = resolve_credentials(block, os.environ)
    if credentials is None:
        raise ConfigurationError(
            "no credentials configured",
            hint="set PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN, or use --pipeline with credentials",
        )
    async with PlivoClient(credentials) as client:
        ok, message = await test_credentials(client)
    print(redact(message) if ok else f"Error: {redact(message)}")
    return EXIT_OK if ok else EXIT_ITEMS_FAILED


def _sandbox(args: argparse.Namespace) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        serve(args)
    return EXIT_OK


# --- argument parsing ----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plivo-node",
        description="Run Plivo workflow pipelines (SMS, MMS, calls, account management).",
        epilog="Exit codes: 0 all items succeeded, 1 some items failed, 2 usage or configuration, "
        "130 / 143 a run stopped by SIGINT / SIGTERM.",
    )
    parser.add_argument("--version", action="version", version=f"plivo-node {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a pipeline file")
    run.add_argument("pipeline", type=Path)
    run.add_argument(
        "--input", type=Path, help="CSV, JSON Lines (.jsonl) or JSON array file; - = stdin"
    )
    run.add_argument("--input-format", choices=["csv", "jsonl", "json"])
    run.add_argument("--output", type=Path, help="JSON Lines output file (default: stdout)")
    target = run.add_mutually_exclusive_group()
    target.add_argument(
        "--sandbox",
        dest="mode",
        action="store_const",
        const="sandbox",
        help="use the embedded sandbox even when credentials are set",
    )
    target.add_argument(
        "--live",
        dest="mode",
        action="store_const",
        const="live",
        help="require credentials and call the configured API",
    )
    run.add_argument(
        "--resume", action="store_true", help="continue an interrupted run from its journal"
    )
    run.add_argument(
        "--restart",
        action="store_true",
        help="discard the journal of an earlier run over this output (finished or not) and "
        "send every item again",
    )
    run.add_argument(
        "--retry-unknown",
        action="store_true",
        help="on --resume, send again items whose outcome is unknown",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="resolve and validate every item and estimate the cost; send nothing, keep no "
        "journal, write to <output>.dry-run.jsonl (or stdout), never over a real run's files",
    )
    run.add_argument("--journal", type=Path, help="journal file (default: next to the output)")
    run.add_argument("--no-journal", action="store_true", help="keep no journal (no --resume)")
    progress = run.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_const", const=True)
    progress.add_argument("--no-progress", dest="progress", action="store_const", const=False)
    run.set_defaults(mode="auto", progress=None)

    validate = sub.add_parser("validate", help="check a pipeline file without running it")
    validate.add_argument("pipeline", type=Path)

    describe = sub.add_parser("describe", help="print the node description as n8n JSON")
    describe.add_argument(
        "--credential", action="store_true", help="print the plivoApi credential type instead"
    )

    sandbox = sub.add_parser("sandbox", help="run the Plivo-compatible sandbox server")
    add_sandbox_arguments(sandbox)

    credentials = sub.add_parser("credentials", help="credential commands")
    # Not required: without a subcommand, the group's help is printed (see _dispatch).
    cred_sub = credentials.add_subparsers(dest="credentials_command", metavar="{test}")
    credentials.set_defaults(group_parser=credentials)
    cred_test = cred_sub.add_parser("test", help="check the configured credentials against the API")
    cred_test.add_argument("--pipeline", type=Path, help="take credentials from this pipeline file")
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        options = RunOptions(
            pipeline=args.pipeline,
            input=args.input,
            input_format=args.input_format,
            output=args.output,
            mode=args.mode,
            resume=args.resume,
            restart=args.restart,
            retry_unknown=args.retry_unknown,
            dry_run=args.dry_run,
            journal=args.journal,
            no_journal=args.no_journal,
            progress=args.progress,
        )
        return asyncio.run(_run_stoppable(options))
    if args.command == "validate":
        return _validate(args.pipeline)
    if args.command == "describe":
        return _describe(credential=args.credential)
    if args.command == "sandbox":
        return _sandbox(args)
    if args.credentials_command is None:
        # Like `git remote add` without its arguments: the usage, on stderr, and a usage exit
        # code, so a script that forgot the subcommand does not pass for a success.
        args.group_parser.print_help(sys.stderr)
        return EXIT_USAGE
    return asyncio.run(_credentials_test(args.pipeline))


@contextlib.contextmanager
def _redacted_stdio() -> Iterator[None]:
    """Every byte this process prints, tracebacks and argparse's messages included, is masked.

    The environment's token is known from the start. A short one is not registered here: it
    is refused when credentials are read (never used), and masking it everywhere before then
    would garble innocent text (see plivo_node/core/redaction.py).
    """
    token = os.environ.get(ENV_AUTH_TOKEN, "").strip()
    if len(token) >= MIN_TOKEN_LENGTH:
        register_secret(token, auth_id=os.environ.get(ENV_AUTH_ID, "").strip() or None)
    streams = sys.stdout, sys.stderr
    stdout, stderr = RedactingStream(sys.stdout), RedactingStream(sys.stderr)
    sys.stdout, sys.stderr = stdout, stderr
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            stdout.flush()
            stderr.flush()
        sys.stdout, sys.stderr = streams


def main(argv: Sequence[str] | None = None) -> int:
    with _redacted_stdio():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigurationError as exc:
        _err(f"plivo-node: {exc}")
        return EXIT_USAGE
    except PlivoNodeError as exc:
        _err(f"plivo-node: {exc}")
        return EXIT_ITEMS_FAILED
    except KeyboardInterrupt:
        # Outside a run's own signal handling (which prints how to go on), e.g. while loading.
        _err("plivo-node: interrupted")
        return 128 + signal.SIGINT


if __name__ == "__main__":
    sys.exit(main())
