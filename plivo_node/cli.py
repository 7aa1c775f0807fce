"""The ``plivo-node`` command: its arguments, the ``run`` command and the small commands.

What commands print goes through :mod:`plivo_node.commands.console`; the setup a run shares
with ``serve`` and the queue's workers is :mod:`plivo_node.commands.run_setup`.

Exit codes: 0 every item succeeded; 1 some items failed, a stopWorkflow step stopped, or the
run stopped part-way; 2 usage or configuration error found before anything was sent;
130 / 143 the run was stopped by SIGINT / SIGTERM (128 + the signal's number).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import re
import signal
import sys
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plivo_node import __version__
from plivo_node.commands.console import err, load_pipeline, print_summary, warn
from plivo_node.commands.run_setup import (
    RunOptions,
    api_targets,
    client_nodes,
    client_options,
    credential_block_types,
    input_choice,
    input_items,
    open_run_scopes,
    run_options,
    tune_garbage_collector,
)
from plivo_node.core.api import NO_CLIENT, ApiClient
from plivo_node.core.errors import ConfigurationError, PlivoNodeError, RunAbortedError
from plivo_node.core.node import (
    ClientOptions,
    RunClient,
    RunSettings,
    RunTally,
)
from plivo_node.core.redaction import STRONG_SECRET_LENGTH, RedactingStream, redact, register_secret
from plivo_node.nodes import DEFAULT_NODE, SANDBOX_HELP, SANDBOX_MODULE

# Start-up time: only the light modules above are imported before the arguments are parsed
# (`--help` stays instant); each command imports what it needs when it runs. The run's
# modules pull in aiohttp, jsonschema, YAML, Jinja2 and the node types.
if TYPE_CHECKING:
    from plivo_node.run.engine import ItemResult, RunStop, Step
    from plivo_node.run.runner import RunSummary
    from plivo_node.run.send_window import WindowGate

EXIT_OK = 0
EXIT_ITEMS_FAILED = 1
EXIT_USAGE = 2
# Items were left for their send window (settings.sendWindow with outside: defer): run again
# with --resume once it opens. EX_TEMPFAIL: "try again later".
EXIT_DEFERRED = 75

# Environment variables whose values are masked from the start (see _redacted_stdio).
_SECRET_VARIABLE = re.compile(r"(TOKEN|SECRET|PASSWORD|API_KEY)$", re.IGNORECASE)


# --- run ----------------------------------------------------------------------------------


class _StopSignals:
    """SIGINT and SIGTERM during a run: the first stops it gracefully, the second at once.

    The graceful stop starts nothing new and lets requests being written finish and be
    recorded (see :class:`plivo_node.run.engine.RunStop`); the second signal abandons those too,
    or, when no step is running (a check before the first item, the cost estimate after the
    last), cancels the run where it stands.
    """

    def __init__(self, stop: RunStop) -> None:
        self.stop = stop
        import asyncio  # noqa: PLC0415

        self.received: list[signal.Signals] = []
        self._task = asyncio.current_task()
        self._loop = asyncio.get_running_loop()
        self._installed: list[signal.Signals] = []

    def __enter__(self) -> _StopSignals:
        loop = self._loop
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                # Not on Windows, nor outside the main thread: the defaults stay.
                loop.add_signal_handler(signum, self._handle, signum)
                self._installed.append(signum)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum in self._installed:
            self._loop.remove_signal_handler(signum)

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
    import asyncio  # noqa: PLC0415

    from plivo_node.run.engine import RunStop  # noqa: PLC0415

    stop = RunStop()
    with _StopSignals(stop) as signals:
        try:
            return await _run_in_windows(options, signals)
        except asyncio.CancelledError:
            if not signals.stop.forced:
                raise
            err(signals.line(None, None, None))
            return signals.exit_code


async def _run_in_windows(options: RunOptions, signals: _StopSignals) -> int:
    """The run, then (settings.sendWindow with outside: wait) a wait for the first send window
    to open and a resumed pass, again and again until no item is left outside its window."""
    import asyncio  # noqa: PLC0415
    import dataclasses  # noqa: PLC0415

    from plivo_node.run import send_window  # noqa: PLC0415

    gates: list[WindowGate] = []
    later_pass = False
    while True:
        try:
            code = await _run(options, signals, gates)
        except ConfigurationError as exc:
            if not later_pass:
                raise
            # An earlier pass sent items: this is not "nothing was sent" (exit 2).
            raise RunAbortedError(
                f"the run stopped between send windows, after items were sent: {exc}",
                hint="fix it, then run again with --resume to send the items still waiting",
            ) from exc
        held = [gate for gate in gates if gate.hold and gate.outside]
        if code != EXIT_DEFERRED or any(g.window.outside != send_window.WAIT for g in held):
            return code
        first = min(held, key=lambda gate: gate.next_open or send_window.CLOCK.now())
        waiting = sum(gate.outside for gate in held)
        err(
            f"plivo-node: {waiting} items wait for their send window; sending resumes at "
            f"{first.opening_text()} (SIGINT/SIGTERM stops; --resume continues later)"
        )
        stopped = asyncio.Event()
        signals.stop.subscribe(stopped.set)
        try:
            assert first.next_open is not None
            if await send_window.CLOCK.sleep_until(first.next_open, stopped):
                name = signals.received[0].name
                err(
                    f"plivo-node: stopped by {name} while {waiting} items waited for their send "
                    "window; run again with --resume to send them"
                )
                return signals.exit_code
        finally:
            signals.stop.unsubscribe(stopped.set)
        options = dataclasses.replace(options, resume=True, restart=False)
        later_pass = True


# PLR0915: the run's own imports below count as statements.
async def _run(  # noqa: PLR0915
    options: RunOptions, signals: _StopSignals, gates: list[WindowGate]
) -> int:
    # The run's modules, imported only when a run starts (see the imports at the top).
    from plivo_node.run.guards import RunRequest, plan_run  # noqa: PLC0415
    from plivo_node.run.item_io import OutputWriter  # noqa: PLC0415
    from plivo_node.run.journal import RunJournal, compute_run_key, continue_hint  # noqa: PLC0415
    from plivo_node.run.pipeline import build_steps, check_pipeline_input  # noqa: PLC0415
    from plivo_node.run.progress import Progress  # noqa: PLC0415
    from plivo_node.run.registry import NodeRegistry  # noqa: PLC0415
    from plivo_node.run.runner import execute  # noqa: PLC0415
    from plivo_node.run.send_window import CLOCK, DEFER  # noqa: PLC0415
    from plivo_node.serve.pipelines import refuse_webhook_pipeline  # noqa: PLC0415

    registry = NodeRegistry()
    spec = load_pipeline(options.pipeline, registry)
    steps = build_steps(spec, registry)
    refuse_webhook_pipeline(options.pipeline, steps, registry)
    warn(check_pipeline_input(spec, *input_choice(spec, options)))
    items, total, input_path = input_items(spec, options)
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
    gates[:] = list({id(s.send_window): s.send_window for s in steps if s.send_window}.values())
    for gate in gates:
        gate.reset()
        gate.hold = not options.dry_run  # a dry run runs every item and counts the outside ones
    if gates and not options.dry_run and plan.blocker is not None:
        raise ConfigurationError(
            "settings.sendWindow leaves items outside their window for a resumed pass, and "
            f"this run could not be resumed: {plan.blocker.reason}",
            hint="keep the journal and read the input from a file, or remove sendWindow",
        )
    tune_garbage_collector()
    nodes = client_nodes(steps, registry)
    tallies: dict[str, RunTally] = {
        name: node.type.tally()
        for name in dict.fromkeys(step.node for step in steps)
        if (node := registry.get(name)).type.tally is not None
    }

    async with (
        api_targets(spec, options.mode, nodes) as targets,
        contextlib.AsyncExitStack() as stack,
    ):
        live: dict[str, RunClient] = {}
        for target in targets:
            connection = target.factory.connect(
                target.fields,
                client_options(spec, steps, target.factory, retry_unknown=options.retry_unknown),
            )
            live[target.node.name] = await stack.enter_async_context(connection)
        try:
            scopes = open_run_scopes(
                stack,
                registry,
                steps,
                RunSettings(
                    spec.settings.suppression,
                    dry_run=options.dry_run,
                    timezone=spec.settings.timezone,
                ),
            )
            for target in targets:
                if not target.embedded_sandbox:
                    # One read per service: a wrong token fails here, before any item.
                    await target.factory.check(live[target.node.name], target.fields)
            journal = None
            if plan.journal is not None:
                journal = RunJournal.open(
                    plan.journal,
                    run_key=run_key,
                    resume=options.resume,
                    restart=options.restart,
                    blocker=plan.blocker,
                    sandbox=all(target.embedded_sandbox for target in targets),
                )
            clients: dict[str, ApiClient] = {
                target.node.name: (
                    target.factory.dry_run(live[target.node.name], target.fields)
                    if options.dry_run
                    else live[target.node.name]
                )
                for target in targets
            }
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

            def on_result(lane: int, result: ItemResult) -> None:
                if lane == 0:  # the first step's run over the input items
                    progress.advance(failed=result.error is not None)

            finished = False
            try:
                with OutputWriter(plan.output) as writer:
                    summary = await execute(
                        steps,
                        items,
                        clients,
                        writer.write_line,
                        graph=spec.graph,
                        tallies=tallies,
                        journal=journal,
                        retry_unknown=options.retry_unknown,
                        on_result=on_result,
                        stop=signals.stop,
                    )
                deferred = any(gate.hold and gate.outside for gate in gates)
                finished = summary.stopped is None and not summary.interrupted and not deferred
            finally:
                progress.close()
                if journal is not None:
                    await journal.close(finished=finished)
            # A stopped run skips the price lookups: the user asked it to end now.
            if spec.settings.cost_estimate and not signals.received:
                for name, tally in tallies.items():
                    await tally.complete(live.get(name, NO_CLIENT))
        except ConfigurationError as exc:
            if any(client.writes_started for client in live.values()):
                # Whatever stopped the run (a bad input row, an unwritable journal or output),
                # requests went out: this is not "nothing was sent" (exit 2).
                raise RunAbortedError(
                    f"the run stopped part-way, after requests were sent: {exc}",
                    hint=continue_hint(plan.blocker),
                ) from exc
            raise
    sandboxes = [t.factory.service for t in targets if t.embedded_sandbox]
    print_summary(
        summary,
        plan.output,
        dry_run=options.dry_run,
        sandboxes=sandboxes,
        scope_lines=[line for scope in scopes for line in scope.lines()]
        + [gate.line() for gate in gates if gate.outside],
    )
    if signals.received:
        obstacle = None if plan.blocker is None else f"it cannot be resumed: {plan.blocker.reason}"
        err(signals.line(summary, total, obstacle))
        return signals.exit_code
    if summary.stopped is not None:
        err(f"plivo-node: {summary.stopped}")
        return EXIT_ITEMS_FAILED
    held = [gate for gate in gates if gate.hold and gate.outside]
    if held:
        if all(gate.window.outside == DEFER for gate in held):
            first = min(held, key=lambda gate: gate.next_open or CLOCK.now())
            err(
                f"plivo-node: {sum(g.outside for g in held)} items were left for their send "
                f"window; run again with --resume after {first.opening_text()}"
            )
        return EXIT_DEFERRED
    return EXIT_ITEMS_FAILED if summary.failed else EXIT_OK


# --- other commands ------------------------------------------------------------------------


def _validate(pipeline: Path) -> int:
    from plivo_node.run.pipeline import build_steps, check_pipeline_input  # noqa: PLC0415
    from plivo_node.run.registry import NodeRegistry  # noqa: PLC0415

    registry = NodeRegistry()
    spec = load_pipeline(pipeline, registry)
    steps = build_steps(spec, registry)
    warn(check_pipeline_input(spec, spec.input_path, spec.input_format))
    names = ", ".join(f"{s.name} ({_operation_label(s)})" for s in steps)
    print(f"{pipeline}: valid ({len(steps)} steps: {names})")
    return EXIT_OK


def _operation_label(step: Step) -> str:
    parts = [part for part in (step.resource, step.operation) if part]
    return ".".join(parts) if parts else step.node


def _describe(node_name: str | None, *, credential: bool) -> int:
    from plivo_node.run.registry import NodeRegistry  # noqa: PLC0415

    node = NodeRegistry().get(node_name or DEFAULT_NODE)
    if not credential:
        print(json.dumps(node.description.to_n8n_json(), indent=2))
        return EXIT_OK
    if not node.credential_types:
        raise ConfigurationError(
            f"node type '{node.name}' has no credential types", hint="leave out --credential"
        )
    for described in node.credential_types:
        print(json.dumps(described.to_n8n_json(), indent=2))
    return EXIT_OK


def _convert(workflow_path: Path, output: Path | None) -> int:
    # Imported here: only this command reads n8n workflow files.
    from plivo_node.n8n.convert import convert_workflow, pipeline_yaml  # noqa: PLC0415
    from plivo_node.n8n.workflow import read_workflow  # noqa: PLC0415

    conversion = convert_workflow(read_workflow(workflow_path))
    warn(list(conversion.notices))
    text = pipeline_yaml(conversion, source=workflow_path.name)
    if output is None:
        sys.stdout.write(text)
        return EXIT_OK
    if output.resolve() == workflow_path.resolve():
        raise ConfigurationError(
            f"--output {output} is the workflow file itself", hint="write to another file"
        )
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write {output}: {exc.strerror or exc}", hint="check --output"
        ) from None
    err(f"plivo-node: wrote {output}")
    return EXIT_OK


async def _credentials_test(pipeline: Path | None, node_name: str | None) -> int:
    """One cheap read per credential-bearing node: the pipeline's, else ``--node`` (default)."""
    from plivo_node.run.credentials import resolve_fields  # noqa: PLC0415
    from plivo_node.run.registry import NodeRegistry  # noqa: PLC0415

    registry = NodeRegistry()
    block: Any = None
    if pipeline is not None and node_name is None:
        spec = load_pipeline(pipeline, registry)
        block = spec.credentials
        names = list(dict.fromkeys(step.node for step in spec.steps))
    else:
        if pipeline is not None:
            block = load_pipeline(pipeline, registry).credentials
        names = [node_name or DEFAULT_NODE]
    nodes = [node for node in map(registry.get, names) if node.type.client is not None]
    if not nodes:
        raise ConfigurationError(
            f"no node type with credentials among: {', '.join(names)}",
            hint="name a node that calls a service with --node",
        )
    block_types = credential_block_types(nodes)
    all_ok = True
    for node in nodes:
        factory = node.type.client
        assert factory is not None
        credential = node.credential_type(factory.credential_type)
        fields = resolve_fields(
            credential,
            block,
            os.environ,
            service=factory.service,
            other_types=block_types - {credential.name},
        )
        if fields is None:
            wanted = credential.required_variables()
            raise ConfigurationError(
                f"no credentials configured for node '{node.name}'",
                hint=f"set {wanted + ', or use ' if wanted else 'use '}--pipeline with credentials",
            )
        options = ClientOptions(concurrency=1, timeout=30.0, rate_limit=None)
        async with factory.connect(fields, options) as client:
            ok, message = await factory.test(client, fields)
        print(redact(message) if ok else f"Error: {redact(message)}")
        all_ok = all_ok and ok
    return EXIT_OK if all_ok else EXIT_ITEMS_FAILED


def _sandbox(arguments: list[str]) -> int:
    """The bundled sandbox's own command line, imported only when this command runs."""
    command = importlib.import_module(SANDBOX_MODULE)
    return int(command.main(arguments, prog="plivo-node sandbox"))


# --- argument parsing ----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plivo-node",
        description="Run n8n-style workflow pipelines with installed node types.",
        epilog="Exit codes: 0 all items succeeded, 1 some items failed, 2 usage or configuration, "
        "130 / 143 a run stopped by SIGINT / SIGTERM.",
    )
    parser.add_argument("--version", action="version", version=f"plivo-node {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a pipeline file or an n8n workflow file")
    run.add_argument("pipeline", type=Path, help="a pipeline (YAML) or an n8n workflow (JSON)")
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
    importlib.import_module("plivo_node.commands.queue_run").add_options(run)
    for command in ("worker", "queue_status"):
        importlib.import_module(f"plivo_node.commands.{command}").register(sub)

    validate = sub.add_parser(
        "validate", help="check a pipeline or n8n workflow file without running it"
    )
    validate.add_argument("pipeline", type=Path)

    describe = sub.add_parser("describe", help="print a node's description as n8n JSON")
    describe.add_argument(
        "--node", help=f"the node type (default: {DEFAULT_NODE}); see `describe --list`"
    )
    describe.add_argument(
        "--credential", action="store_true", help="print the node's credential types instead"
    )
    describe.add_argument("--list", action="store_true", help="list the installed node types")

    convert = sub.add_parser(
        "convert", help="print the pipeline YAML equivalent to an n8n workflow file"
    )
    convert.add_argument("workflow", type=Path, help="a workflow exported from n8n (JSON)")
    convert.add_argument("--output", type=Path, help="write the YAML here (default: stdout)")

    from plivo_node.commands import editor  # noqa: PLC0415 - light: argparse only

    editor.register(sub)

    # Its options are the sandbox's own: they are passed to it as they are (see _sandbox).
    sub.add_parser("sandbox", help=SANDBOX_HELP, add_help=False)

    credentials = sub.add_parser("credentials", help="credential commands")
    # Not required: without a subcommand, the group's help is printed (see _dispatch).
    cred_sub = credentials.add_subparsers(dest="credentials_command", metavar="{test}")
    credentials.set_defaults(group_parser=credentials)
    cred_test = cred_sub.add_parser("test", help="check the configured credentials against the API")
    cred_test.add_argument(
        "--pipeline",
        type=Path,
        help="take credentials from this pipeline or n8n workflow file",
    )
    cred_test.add_argument(
        "--node",
        help=f"the node type whose credentials to test (default: {DEFAULT_NODE}, or "
        "every node of --pipeline)",
    )
    from plivo_node.commands import suppression  # noqa: PLC0415  (argparse and csv only)

    suppression.register(sub)

    from plivo_node.commands import status  # noqa: PLC0415

    status.register(sub)
    from plivo_node.commands import serve  # noqa: PLC0415  (light: imports only argparse)

    serve.register(sub)
    return parser


def _dispatch(args: argparse.Namespace, extra: list[str]) -> int:
    commands = {"worker": "worker", "queue": "queue_status"}
    if args.command in commands or (args.command == "run" and args.queue):
        module = commands.get(args.command, "queue_run")
        return int(importlib.import_module(f"plivo_node.commands.{module}").run(args))
    if args.command == "run":
        return _run_async(_run_stoppable(run_options(args)))
    if args.command == "validate":
        return _validate(args.pipeline)
    if args.command == "describe":
        if args.list:
            from plivo_node.run.registry import NodeRegistry  # noqa: PLC0415

            print("\n".join(NodeRegistry().names()))
            return EXIT_OK
        return _describe(args.node, credential=args.credential)
    if args.command == "convert":
        return _convert(args.workflow, args.output)
    if args.command == "sandbox":
        return _sandbox(extra)
    if args.command == "suppression":
        from plivo_node.commands import suppression  # noqa: PLC0415

        return suppression.run(args)
    if args.command == "status":
        from plivo_node.commands import status  # noqa: PLC0415

        return status.run(args)
    if args.command == "serve":
        from plivo_node.commands import serve  # noqa: PLC0415

        return serve.run(args)
    if args.command == "editor":
        from plivo_node.commands import editor  # noqa: PLC0415

        return editor.run(args)
    if args.credentials_command is None:
        # Like `git remote add` without its arguments: the usage, on stderr, and a usage exit
        # code, so a script that forgot the subcommand does not pass for a success.
        args.group_parser.print_help(sys.stderr)
        return EXIT_USAGE
    return _run_async(_credentials_test(args.pipeline, args.node))


def _run_async(command: Coroutine[Any, Any, int]) -> int:
    import asyncio  # noqa: PLC0415  (only the commands that talk to a service need it)

    return asyncio.run(command)


@contextlib.contextmanager
def _redacted_stdio() -> Iterator[None]:
    """Every byte this process prints, tracebacks and argparse's messages included, is masked.

    Secrets in the environment are known from the start: every variable whose name says it
    holds one (``*_TOKEN``, ``*_SECRET``, ``*_PASSWORD``, ``*_API_KEY``). Short values are not
    registered here: a credential check refuses them (they are never used), and masking them
    everywhere before then would garble innocent text (see plivo_node/core/redaction.py).
    """
    for name, value in os.environ.items():
        secret = value.strip()
        if _SECRET_VARIABLE.search(name) and len(secret) >= STRONG_SECRET_LENGTH:
            register_secret(secret)
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
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "sandbox":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return _dispatch(args, extra)
    except ConfigurationError as exc:
        err(f"plivo-node: {exc}")
        return EXIT_USAGE
    except PlivoNodeError as exc:
        err(f"plivo-node: {exc}")
        return EXIT_ITEMS_FAILED
    except KeyboardInterrupt:
        # Outside a run's own signal handling (which prints how to go on), e.g. while loading.
        err("plivo-node: interrupted")
        return 128 + signal.SIGINT


if __name__ == "__main__":
    sys.exit(main())
