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
from plivo_node.context import Item
from plivo_node.cost import describe_mms, estimate_cost
from plivo_node.credentials import Credentials, resolve_credentials, test_credentials
from plivo_node.description import load_credential_type, load_node_description
from plivo_node.dry_run import DryRunClient
from plivo_node.engine import ItemResult, RunStop, Step
from plivo_node.errors import ConfigurationError, PlivoNodeError, RunAbortedError
from plivo_node.item_io import OutputWriter, count_items, read_items
from plivo_node.journal import RunJournal, compute_run_key, default_journal_path
from plivo_node.limiter import Pacer, RateLimiter
from plivo_node.pipeline import PipelineSpec, build_steps, load_pipeline
from plivo_node.progress import Progress
from plivo_node.redaction import redact
from plivo_node.retry import RetryPolicy
from plivo_node.runner import RunSummary, execute
from plivo_node.sandbox import Sandbox, SandboxConfig
from plivo_node.sandbox.command import add_arguments as add_sandbox_arguments
from plivo_node.sandbox.command import serve
from plivo_node.transport import PlivoClient

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


def _items(
    spec: PipelineSpec, options: RunOptions
) -> tuple[Iterator[Item], int | None, Path | None]:
    path = options.input or spec.input_path
    fmt = options.input_format or (spec.input_format if options.input is None else None)
    if path is None:
        # Like n8n's manual trigger: one empty item, so a step such as account.get runs once.
        return iter([Item(json={})]), 1, None
    if str(path) != "-" and not path.exists():
        raise ConfigurationError(
            f"input file {path} does not exist", hint="check --input or the pipeline's input"
        )
    return read_items(path, fmt), count_items(path, fmt), path


@contextlib.asynccontextmanager
async def _api_target(spec: PipelineSpec, mode: str) -> AsyncIterator[Credentials]:
    """Credentials to run with: configured ones (live), or an embedded sandbox's."""
    credentials = resolve_credentials(spec.credentials, os.environ)
    if mode == "live" and credentials is None:
        raise ConfigurationError(
            "--live needs credentials",
            hint="set PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN, or a credentials block in the pipeline",
        )
    if credentials is not None and mode != "sandbox":
        yield credentials
        return
    config = SandboxConfig()
    async with Sandbox(config) as sandbox:
        reason = "--sandbox given" if mode == "sandbox" else "no credentials configured"
        _err(f"plivo-node: {reason}: using the embedded sandbox at {sandbox.url} (nothing is sent)")
        yield Credentials(
            auth_id=config.auth_id, auth_token=config.auth_token, base_url=sandbox.url
        )


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
    recorded (see :class:`plivo_node.engine.RunStop`); the second signal abandons those too,
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


def _resume_obstacle(
    options: RunOptions, journal: RunJournal | None, input_path: Path | None
) -> str | None:
    """Why ``--resume`` could not continue this run, or None when it can."""
    if options.dry_run:
        return "a dry run sends nothing: run it again to check the rest"
    if journal is None:
        return "it kept no journal, so it cannot be resumed (the output lists what was done)"
    if input_path is not None and str(input_path) == "-":
        return "its input was stdin, so it cannot be resumed (the output lists what was done)"
    return None


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
    items, total, input_path = _items(spec, options)
    _tune_garbage_collector()
    output_path = options.output or spec.output_path or Path("-")
    journal: RunJournal | None = None
    if not options.no_journal and not options.dry_run:
        if options.resume and input_path is not None and str(input_path) == "-":
            raise ConfigurationError(
                "--resume cannot check that stdin holds the same items as the interrupted run",
                hint="give the input as a file to make the run resumable",
            )
        journal_path = options.journal or default_journal_path(output_path, options.pipeline)
        journal = RunJournal.open(
            journal_path,
            run_key=compute_run_key(options.pipeline.read_text(encoding="utf-8"), input_path),
            resume=options.resume,
            restart=options.restart,
        )
    interactive = sys.stderr.isatty() if options.progress is None else options.progress
    progress = Progress(sys.stderr, total=total, live=interactive)

    def on_result(step_index: int, result: ItemResult) -> None:
        if step_index == 0:
            progress.advance(failed=result.error is not None)

    finished = False
    try:
        async with (
            _api_target(spec, options.mode) as credentials,
            _client(credentials, spec, steps, retry_unknown=options.retry_unknown) as live_client,
        ):
            client = DryRunClient(live_client) if options.dry_run else live_client
            try:
                with OutputWriter(output_path) as writer:
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
            except ConfigurationError as exc:
                # Raised part-way (a bad input row, an unwritable output): items before it may
                # have been sent, so this is not "nothing was sent" (exit 2).
                raise RunAbortedError(
                    f"the run stopped part-way: {exc}",
                    hint="items already sent are in the journal: fix this, then run again "
                    "with --resume",
                ) from exc
            finished = summary.stopped is None and not summary.interrupted
            progress.close()
            if summary.segments_by_country and not signals.received:
                summary.estimated_cost = await estimate_cost(
                    live_client, summary.segments_by_country
                )
        _print_summary(summary, output_path, dry_run=options.dry_run)
    finally:
        progress.close()
        if journal is not None:
            await journal.close(finished=finished)
    if signals.received:
        obstacle = _resume_obstacle(options, journal, input_path)
        _err(signals.line(summary, total, obstacle))
        return signals.exit_code
    if summary.stopped is not None:
        _err(f"plivo-node: {summary.stopped}")
        return EXIT_ITEMS_FAILED
    return EXIT_ITEMS_FAILED if summary.failed else EXIT_OK


def _print_summary(summary: RunSummary, output_path: Path, *, dry_run: bool) -> None:
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
    for line in lines:
        _err(line)


# --- other commands ------------------------------------------------------------------------


def _validate(pipeline: Path) -> int:
    description = load_node_description()
    spec = load_pipeline(pipeline)
    steps = build_steps(spec, description)
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
    run.add_argument("--resume", action="store_true", help="continue an interrupted run")
    run.add_argument(
        "--restart", action="store_true", help="discard an interrupted run's journal and start over"
    )
    run.add_argument(
        "--retry-unknown",
        action="store_true",
        help="on --resume, send again items whose outcome is unknown",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="resolve and validate every item and estimate the cost; send nothing",
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
    cred_sub = credentials.add_subparsers(dest="credentials_command", required=True)
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
    return asyncio.run(_credentials_test(args.pipeline))


def main(argv: Sequence[str] | None = None) -> int:
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
