"""``plivo-node serve PIPELINE.yaml [...]``: one HTTP server for pipelines that start with a
webhook trigger (``plivoTrigger``); each accepted request runs its pipeline once. Pipelines that
start with a schedule trigger (``scheduleTrigger``) run in the same process on their timetable:
each tick is one event in the same queue (see :mod:`plivo_node.serve.schedule`).

Start-up, in order, every check before the server listens (exit 2, nothing sent or served):
each pipeline loads and starts with a webhook trigger, webhook paths are distinct, the state
directory and its event queue open (one ``serve`` per state directory), every pipeline's
credentials resolve and pass one read of the account (or the embedded sandbox is used, as
``run`` does). Then events left queued by an earlier ``serve`` (killed, or stopped with
events still waiting) run first, and the server listens. Then what a killed serve left
attached is restored and each ``--attach`` target is pointed at the webhooks (the trigger's
attach hook, :mod:`plivo_node.serve.attach`; its refusals are exit 2 before any change).

With ``--queue redis://...`` serve still accepts, checks and commits each event, and the
workers of that queue (``plivo-node worker``) run it (:mod:`plivo_node.serve.forward`).

SIGINT / SIGTERM: attached targets are put back as they were, the server stops accepting,
running events finish what they have in flight, waiting events stay queued for the next
start; exit 0.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from plivo_node.core.errors import ConfigurationError

if TYPE_CHECKING:
    import asyncio

    from aiohttp.web import AppRunner

    from plivo_node.core.api import ApiClient
    from plivo_node.core.node import AttachRequest, ScheduleTrigger, WebhookTrigger
    from plivo_node.run.engine import Step
    from plivo_node.run.pipeline import PipelineSpec
    from plivo_node.run.registry import NodeRegistry
    from plivo_node.serve.app import WebhookApp
    from plivo_node.serve.dispatch import OrderedDispatcher
    from plivo_node.serve.forward import EventForwarder
    from plivo_node.serve.pipelines import ServedPipeline, WebhookSettings
    from plivo_node.serve.queue import EventQueue, QueuedEvent
    from plivo_node.serve.schedule import ScheduleSettings, Ticker

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5678  # n8n's port
# Allocations between two collections of the young generation (Python's default: 700; a
# batch run's 50,000). A burst's queued events survive young collections, so each walks many
# objects: at 50,000 one paused the event loop for 83 ms in a 3,000-event bench, at 10,000
# the longest pause was 16 ms, for about the same total collection time (0.2-0.3 s).
SERVE_GC_YOUNG_THRESHOLD = 10_000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="serve pipelines that start with a webhook trigger (plivoTrigger) or run on a "
        "timetable (scheduleTrigger)",
    )
    serve.add_argument("pipelines", type=Path, nargs="+", metavar="PIPELINE")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"default: {DEFAULT_HOST}")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"default: {DEFAULT_PORT}; 0: any free port"
    )
    serve.add_argument(
        "--public-url",
        help="the base URL callers use (e.g. a tunnel, https://abc.ngrok.app); signatures are "
        "checked against it. Default: http://HOST:PORT",
    )
    serve.add_argument(
        "--attach",
        action="append",
        default=[],
        metavar="NUMBER[=PIPELINE]",
        help="while serving, point this number's messages and calls at the served webhooks "
        "(a new application linked to it); its previous application comes back when serve "
        "stops. Needs --public-url, except on a local sandbox. Repeatable",
    )
    serve.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="write each pipeline's output (JSON Lines, one file per webhook) here; default: "
        "the state directory's serve/output",
    )
    serve.add_argument(
        "--queue",
        metavar="URL",
        help="accept and queue events here, run them on this queue's workers "
        "(plivo-node worker): redis://HOST:PORT/DB",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415

    return asyncio.run(_serve(args))


def _output_name(webhook: str) -> str:
    return webhook.replace("/", "_") + ".jsonl"


def _check_public_url(url: str | None) -> None:
    from urllib.parse import urlsplit  # noqa: PLC0415

    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise ConfigurationError(
            f"--public-url {url!r} is not a base URL",
            hint="give the scheme and host Plivo calls, e.g. https://abc.ngrok.app",
        )


def _say(line: str) -> None:
    print(line, flush=True)


@dataclass(frozen=True)
class _Loaded:
    file: Path
    spec: PipelineSpec
    steps: list[Step]
    trigger: WebhookTrigger | None
    settings: WebhookSettings
    # The timetable of a pipeline that starts with a schedule trigger (then trigger is None).
    schedule: tuple[ScheduleTrigger, ScheduleSettings] | None = None


def _load(files: list[Path], registry: NodeRegistry) -> list[_Loaded]:
    """Every pipeline, checked: it starts with a webhook trigger, its path is its own."""
    from plivo_node.commands.console import load_pipeline  # noqa: PLC0415
    from plivo_node.run.pipeline import build_steps  # noqa: PLC0415
    from plivo_node.serve.pipelines import (  # noqa: PLC0415
        WebhookSettings,
        webhook_settings,
        webhook_trigger_of,
    )
    from plivo_node.serve.schedule import TICK  # noqa: PLC0415

    loaded: list[_Loaded] = []
    paths: dict[str, Path] = {}
    for file in files:
        spec = load_pipeline(file, registry)
        # Each event is a run of one item: a step needs one worker, not a pool (the pipeline's
        # concurrency bounds how many events run at once instead, see OrderedDispatcher).
        steps = [replace(step, concurrency=1) for step in build_steps(spec, registry)]
        trigger = webhook_trigger_of(steps, registry)
        schedule = _schedule_of(file, spec, steps, registry)
        if trigger is None and schedule is None:
            first = f"'{steps[0].name}' ({steps[0].node})" if steps else "nothing"
            raise ConfigurationError(
                f"{file}: its first step {first} is not a webhook or schedule trigger, so serve "
                "has nothing to run it on",
                hint="start it with a plivoTrigger or scheduleTrigger step, or run it with "
                f"`plivo-node run {file}`",
            )
        if spec.settings.send_window is not None:
            # An event outside its window would be held for a --resume that serve never makes.
            raise ConfigurationError(
                f"{file}: settings.sendWindow holds items for a later --resume, which serve "
                "does not make",
                hint="remove sendWindow from a pipeline that serve runs (an If step on "
                "$now can route out-of-hours events instead)",
            )
        if schedule is not None:
            settings = WebhookSettings(path=schedule[1].key, events=frozenset({TICK}))
        else:
            assert trigger is not None
            settings = webhook_settings(file, steps[0], trigger)
        if settings.path in paths:
            raise ConfigurationError(
                f"{file} and {paths[settings.path]} both use the webhook path '{settings.path}'",
                hint="give one of their trigger steps another `path`",
            )
        paths[settings.path] = file
        loaded.append(_Loaded(file, spec, steps, trigger, settings, schedule))
    return loaded


def _schedule_of(
    file: Path, spec: PipelineSpec, steps: list[Step], registry: NodeRegistry
) -> tuple[ScheduleTrigger, ScheduleSettings] | None:
    from plivo_node.serve.schedule import schedule_settings, schedule_trigger_of  # noqa: PLC0415

    trigger = schedule_trigger_of(steps, registry)
    if trigger is None:
        return None
    return trigger, schedule_settings(file, spec, steps[0], trigger)


async def _open(
    pipeline: _Loaded,
    registry: NodeRegistry,
    stack: contextlib.AsyncExitStack,
    state: Path,
    output_dir: Path,
) -> ServedPipeline:
    """The pipeline's clients (checked with one read, or the embedded sandbox) and output."""
    from plivo_node.commands.run_setup import (  # noqa: PLC0415
        api_targets,
        client_nodes,
        client_options,
        open_run_scopes,
    )
    from plivo_node.core.node import RunSettings  # noqa: PLC0415
    from plivo_node.run.item_io import OutputWriter  # noqa: PLC0415
    from plivo_node.serve.event_journal import check_lanes  # noqa: PLC0415
    from plivo_node.serve.pipelines import ServedPipeline, open_journal  # noqa: PLC0415
    from plivo_node.serve.trigger_credentials import trigger_fields  # noqa: PLC0415

    spec, steps = pipeline.spec, pipeline.steps
    check_lanes(len(spec.graph.lanes), str(pipeline.file))
    nodes = client_nodes(steps, registry)
    targets = await stack.enter_async_context(api_targets(spec, "auto", nodes))
    clients: dict[str, ApiClient] = {}
    for target in targets:
        options = client_options(spec, steps, target.factory, retry_unknown=False)
        client = await stack.enter_async_context(target.factory.connect(target.fields, options))
        if not target.embedded_sandbox:
            await target.factory.check(client, target.fields)  # a wrong token: exit 2 now
        clients[target.node.name] = client
    # The suppression list screens every event's sends too (a STOP just heard included).
    open_run_scopes(
        stack,
        registry,
        steps,
        RunSettings(spec.settings.suppression, timezone=spec.settings.timezone),
    )
    output = stack.enter_context(
        OutputWriter(output_dir / _output_name(pipeline.settings.path), append=True)
    )
    sandbox = any(target.embedded_sandbox for target in targets)
    journal = open_journal(state / "journals", pipeline.settings.path, sandbox=sandbox)
    stack.push_async_callback(journal.close)
    return ServedPipeline(
        file=pipeline.file,
        spec=spec,
        steps=steps,
        trigger=pipeline.trigger,
        settings=pipeline.settings,
        fields=(
            {}
            if pipeline.trigger is None
            else trigger_fields(spec, registry.get(steps[0].node), pipeline.trigger, targets)
        ),
        clients=clients,
        output=output,
        journal=journal,
    )


def _resume(queue: EventQueue, served: Mapping[str, object], dispatcher: OrderedDispatcher) -> None:
    """Events an earlier serve accepted and did not finish run first, in their order."""
    left = queue.waiting()
    resumed = [event for event in left if event.webhook in served]
    for event in resumed:
        dispatcher.submit(event)
    if resumed:
        _say(f"plivo-node: running {len(resumed)} events queued before this start")
    if len(left) > len(resumed):
        _say(
            f"plivo-node: {len(left) - len(resumed)} queued events belong to webhooks not "
            "served now; they wait for a serve of their pipeline"
        )


def _warn_unsigned(pipeline: ServedPipeline) -> None:
    if not pipeline.settings.options.signatures_required:
        print(
            f"plivo-node: warning: {pipeline.file}: validateSignature is false: requests "
            f"without a signature to {pipeline.webhook} are accepted, so anyone who can reach "
            "it can run the pipeline (a wrong signature is still refused)",
            file=sys.stderr,
        )


async def _listen(args: argparse.Namespace, app: WebhookApp, runner: AppRunner) -> str:
    """Start the HTTP server; returns its local URL (``app.base`` is set)."""
    from aiohttp import web  # noqa: PLC0415

    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    try:
        await site.start()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            hint="choose another --port, or stop what is using it",
        ) from exc
    port = int(runner.addresses[0][1]) if runner.addresses else args.port
    host = f"[{args.host}]" if ":" in args.host else args.host
    local = f"http://{host}:{port}"
    app.base = args.public_url or local
    return local


def _stop_signal() -> asyncio.Event:
    """Set by SIGINT or SIGTERM from now on (installed before anything is attached or
    announced, so a signal at any later point stops serve the orderly way)."""
    import asyncio  # noqa: PLC0415
    import signal  # noqa: PLC0415

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    return stopping


def _announce(
    served: Mapping[str, ServedPipeline], tickers: list[tuple[Path, Ticker]], base: str
) -> None:
    """Each webhook's URL, each schedule's next tick."""
    from plivo_node.serve.schedule import describe_next  # noqa: PLC0415

    for pipeline in served.values():
        if pipeline.trigger is not None:
            kinds = ", ".join(sorted(pipeline.settings.events))
            _say(f"plivo-node: {pipeline.file}: {pipeline.url(base)} ({kinds})")
            _warn_unsigned(pipeline)
    for file, ticker in tickers:
        _say(f"plivo-node: {file}: {describe_next(ticker.settings, ticker.next_fire())}")
    if tickers:
        _say("plivo-node: ticks that fall while serve is not running are not caught up later")


def _tickers(
    loaded: list[_Loaded], queue: EventQueue, dispatcher: OrderedDispatcher, state: Path
) -> list[tuple[Path, Ticker]]:
    """A ticker for each pipeline that runs on a timetable; its ticks go to the dispatcher."""
    from plivo_node.serve.schedule import Ticker, TickMemory  # noqa: PLC0415

    return [
        (
            each.file,
            Ticker(
                trigger=trigger,
                settings=settings,
                memory=TickMemory.open(state / "schedules", settings.key),
                queue=queue,
                submit=dispatcher.submit,
                waiting=dispatcher.waiting,
            ),
        )
        for each in loaded
        if each.schedule is not None
        for trigger, settings in [each.schedule]
    ]


def _stopped_line(accepted: int, tickers: list[tuple[Path, Ticker]], waiting: int) -> str:
    ticks = sum(ticker.fired for _, ticker in tickers)
    skipped = sum(ticker.skipped for _, ticker in tickers)
    return (
        f"plivo-node: stopped: {accepted} events accepted"
        + (f", {ticks} ticks fired" if tickers else "")
        + (f" ({skipped} skipped while one waited)" if skipped else "")
        + f"; {waiting} queued for the next start"
    )


async def _accept_until_stopped(
    args: argparse.Namespace,
    app: WebhookApp,
    runner: AppRunner,
    *,
    served: Mapping[str, ServedPipeline],
    tickers: list[tuple[Path, Ticker]],
    requests: list[AttachRequest],
    state: Path,
    stopping: asyncio.Event,
) -> None:
    """Listen, attach, tick, until SIGINT or SIGTERM; then nothing new is accepted or queued
    and attached targets are put back."""
    import asyncio  # noqa: PLC0415

    from plivo_node.serve.attach import attached  # noqa: PLC0415

    ticking: list[asyncio.Task[None]] = []
    try:
        local = await _listen(args, app, runner)
        _announce(served, tickers, app.base)
        # Targets attached now are put back on the way out (before the server stops).
        async with attached(
            requests,
            list(served.values()),
            app.base,
            public=args.public_url is not None,
            state=state,
        ) as lines:
            for line in lines:
                _say(line)
            ticking = [asyncio.create_task(ticker.run()) for _, ticker in tickers]
            _say(f"plivo-node: listening on {local} (Ctrl-C stops)")
            await stopping.wait()
    finally:
        for task in ticking:  # no new tick is queued
            task.cancel()
        await asyncio.gather(*ticking, return_exceptions=True)
        await runner.cleanup()  # nothing new is accepted


async def _forwarder(
    url: str | None,
    loaded: list[_Loaded],
    queue: EventQueue,
    stack: contextlib.AsyncExitStack[bool | None],
) -> EventForwarder | None:
    """With --queue: what hands each event to the workers (checked before serve listens).
    Either way, events a serve forwarded to a queue's workers are not run here."""
    from plivo_node.serve.queue_choice import check_queue_choice  # noqa: PLC0415

    state = queue.path.parent
    waiting = queue.counts().get("queued", 0)
    if url is None:
        check_queue_choice(state, None, waiting)
        return None
    from plivo_node.queue.redis_url import parse_queue_url  # noqa: PLC0415
    from plivo_node.serve.forward import open_forwarder  # noqa: PLC0415

    check_queue_choice(state, parse_queue_url(url).shown, waiting)

    forwarder = await open_forwarder(url, [(each.file, each.spec) for each in loaded], state)
    stack.push_async_callback(forwarder.close)
    return forwarder


async def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web  # noqa: PLC0415

    from plivo_node.commands.run_setup import tune_garbage_collector  # noqa: PLC0415
    from plivo_node.core.state_dir import ensure_state_dir  # noqa: PLC0415
    from plivo_node.run.registry import NodeRegistry  # noqa: PLC0415
    from plivo_node.serve.app import WebhookApp  # noqa: PLC0415
    from plivo_node.serve.attach import attach_requests  # noqa: PLC0415
    from plivo_node.serve.dispatch import OrderedDispatcher  # noqa: PLC0415
    from plivo_node.serve.queue import EventQueue  # noqa: PLC0415

    _check_public_url(args.public_url)
    registry = NodeRegistry()
    loaded = _load(args.pipelines, registry)
    requests = attach_requests(
        args.attach, [(p.file, p.settings.path) for p in loaded if p.trigger is not None]
    )
    state = ensure_state_dir() / "serve"
    queue = EventQueue.open(state)
    served: dict[str, ServedPipeline] = {}
    forwarder: EventForwarder | None = None  # --queue: the workers run the events

    async def run_event(event: QueuedEvent) -> None:
        if forwarder is not None:
            await forwarder.run_event(event, queue)
        else:
            await served[event.webhook].run_event(event, queue)

    try:
        async with contextlib.AsyncExitStack() as stack:
            output_dir = args.output if args.output is not None else state / "output"
            forwarder = await _forwarder(args.queue, loaded, queue, stack)
            for each in loaded:
                served[each.settings.path] = await _open(each, registry, stack, state, output_dir)
            if forwarder is not None:
                forwarder.attach(served)
            concurrency = max(p.spec.settings.concurrency for p in served.values())
            dispatcher = OrderedDispatcher(run_event, concurrency=concurrency)
            # On the way out, first: nothing runs once clients and journals are closed.
            stack.push_async_callback(dispatcher.cancel)
            # As for a batch run, start-up's objects are frozen and young collections come
            # far apart, but not as far: a batch run wants throughput, serve short pauses.
            tune_garbage_collector(young=SERVE_GC_YOUNG_THRESHOLD)
            _resume(queue, served, dispatcher)
            app = WebhookApp(served, queue, dispatcher, base="")
            runner = web.AppRunner(app.application(), access_log=None, handle_signals=False)
            stopping = _stop_signal()
            tickers = _tickers(loaded, queue, dispatcher, state)
            await _accept_until_stopped(
                args,
                app,
                runner,
                served=served,
                tickers=tickers,
                requests=requests,
                state=state,
                stopping=stopping,
            )
            # Running events finish what is in flight (their clients are still open); the
            # others stay queued.
            for pipeline in served.values():
                pipeline.stop()
            if forwarder is not None:
                forwarder.stop()
            await dispatcher.wait_idle()
            waiting = queue.counts().get("queued", 0)
            print(_stopped_line(app.accepted, tickers, waiting), file=sys.stderr)
    finally:
        queue.close()
    return 0
