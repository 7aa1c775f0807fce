"""``plivo-node run PIPELINE --queue redis://...``: the run's items executed by workers.

The run does here what it does in one process up to the first item: load and check the
pipeline and the input (exit 2, nothing sent), choose the output. Then it splits the input
into chunks, queues them (:mod:`plivo_node.queue.submit`), and writes the workers' results
in input order with the usual summary and exit codes. The send journal is the queue's shared
one (in Redis), so ``--journal``/``--no-journal``/``--dry-run``/``--retry-unknown`` do not
apply; ``--resume`` collects a run whose collection was stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from plivo_node.core.errors import ConfigurationError, RunAbortedError

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from plivo_node.core.node import RunTally
    from plivo_node.queue.submit import Collected
    from plivo_node.run.engine import Step
    from plivo_node.run.pipeline import PipelineSpec
    from plivo_node.run.registry import NodeRegistry

EXIT_OK = 0
EXIT_ITEMS_FAILED = 1


def add_options(run_parser: argparse.ArgumentParser) -> None:
    """The options ``run`` takes for queue mode."""
    run_parser.add_argument(
        "--queue", help="run on the workers of this queue: redis://HOST:PORT/DB (queue mode)"
    )
    run_parser.add_argument(
        "--chunk-size", type=int, default=None, help="items per queued chunk (default 100)"
    )


def _refuse_options(args: argparse.Namespace) -> None:
    for flag, given in (
        ("--dry-run", args.dry_run),
        ("--retry-unknown", args.retry_unknown),
        ("--journal", args.journal is not None),
        ("--no-journal", args.no_journal),
    ):
        if given:
            raise ConfigurationError(
                f"{flag} does not apply to a queued run: its send journal is the queue's",
                hint=f"drop {flag}, or drop --queue to run in this process",
            )
    if args.chunk_size is not None and args.chunk_size < 1:
        raise ConfigurationError(
            f"--chunk-size {args.chunk_size} is out of range", hint="give 1 or more"
        )


def run(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415  (imported when the command runs: --help stays light)

    _refuse_options(args)
    return asyncio.run(_queue_run(args))


async def _queue_run(args: argparse.Namespace) -> int:  # noqa: PLR0915
    import asyncio  # noqa: PLC0415

    from plivo_node.commands.console import err, load_pipeline, warn  # noqa: PLC0415
    from plivo_node.commands.run_setup import input_choice, input_items, run_options  # noqa: PLC0415
    from plivo_node.queue.chunks import ChunkResult, RunState  # noqa: PLC0415
    from plivo_node.queue.engine import ChunkQueue  # noqa: PLC0415
    from plivo_node.queue.redis_url import check_server, connect, parse_queue_url  # noqa: PLC0415
    from plivo_node.queue.refusals import refuse_several_inputs  # noqa: PLC0415
    from plivo_node.queue.submit import (  # noqa: PLC0415
        DEFAULT_CHUNK_SIZE,
        Ordered,
        cancel,
        chunk_texts,
        collect,
        create_run,
        existing_run,
        forget_inputs,
        refuse_existing,
        resume,
        run_id_for,
        settle,
    )
    from plivo_node.run.engine import OnError  # noqa: PLC0415
    from plivo_node.run.guards import RunRequest, plan_run  # noqa: PLC0415
    from plivo_node.run.item_io import OutputWriter  # noqa: PLC0415
    from plivo_node.run.journal import compute_run_key  # noqa: PLC0415
    from plivo_node.run.pipeline import build_steps, check_pipeline_input  # noqa: PLC0415
    from plivo_node.run.progress import Progress  # noqa: PLC0415
    from plivo_node.run.registry import NodeRegistry  # noqa: PLC0415

    started = time.monotonic()
    address = parse_queue_url(args.queue)
    # The journal is the queue's (in Redis): the run keeps none of its own.
    options = dataclasses.replace(run_options(args), journal=None, no_journal=True)
    registry = NodeRegistry()
    spec = load_pipeline(options.pipeline, registry)
    steps = build_steps(spec, registry)
    if spec.settings.send_window is not None:
        raise ConfigurationError(
            "settings.sendWindow holds items back for a later pass, which queued chunks do not "
            "make",
            hint="drop --queue to run a pipeline with a send window in this process",
        )
    refuse_several_inputs(spec, where="", instead="drop --queue to run it in this process")
    for step in steps:
        if step.never_repeat and step.on_error is OnError.STOP_WORKFLOW:
            raise ConfigurationError(
                f"step '{step.name}' stops the run on the first failure (onError: "
                "stopWorkflow), but queued chunks run side by side, so items after a failing "
                "one may already be sending",
                hint=f"set onError: continueRegularOutput (or continueErrorOutput) on step "
                f"'{step.name}', or drop --queue",
            )
    warn(check_pipeline_input(spec, *input_choice(spec, options)))
    items, total, input_path = input_items(spec, options)
    pipeline_text = options.pipeline.read_text(encoding="utf-8")
    run_key = compute_run_key(pipeline_text, input_path)
    plan = plan_run(
        RunRequest(
            pipeline=options.pipeline,
            run_key=run_key,
            input=input_path,
            output=options.output,
            pipeline_output=spec.output_path,
            journal=None,
            no_journal=True,
            dry_run=False,
            resume=False,
            restart=False,
        )
    )
    output = plan.output
    if str(output) == "-":
        raise ConfigurationError(
            "a queued run needs an output file (its identity in the queue)",
            hint="pass --output FILE or set the pipeline's output",
        )
    redis = connect(address)
    queue: ChunkQueue | None = None
    try:
        await check_server(redis, address)
        queue = await ChunkQueue.open(address)
        state = RunState(redis, run_id_for(run_key, Path(output)))
        existing = await existing_run(state)
        if existing is not None and args.restart:
            await state.delete(existing.chunks)
            existing = None
        if existing is not None and (not args.resume or existing.finished_at is not None):
            raise refuse_existing(existing)
        if args.resume and existing is None:
            raise ConfigurationError(
                "the queue holds no run of this pipeline, input and output to resume",
                hint="run without --resume to start it",
            )
        if existing is None:
            size = args.chunk_size or DEFAULT_CHUNK_SIZE
            texts = list(chunk_texts(items, size))
            total_chunks = len(texts)
            await create_run(
                state,
                queue,
                pipeline_text=pipeline_text,
                pipeline_file=options.pipeline.name,
                mode=options.mode,
                chunks=texts,
            )
            err(
                f"plivo-node: queued {total_chunks} chunks of up to {size} items on "
                f"{address.shown} (run {state.run_id})"
            )
        else:
            total_chunks = existing.chunks
            await resume(state, queue)
            err(f"plivo-node: collecting queued run {state.run_id} ({existing.done} chunks done)")

        stop = asyncio.Event()
        received: list[int] = []

        def on_signal(signum: int) -> None:
            received.append(signum)
            stop.set()

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum)
        progress = Progress(
            sys.stderr,
            total=total,
            live=sys.stderr.isatty() if args.progress is None else args.progress,
            enabled=args.progress is not False,
        )
        with OutputWriter(output) as writer:
            ordered = Ordered(writer.write_line, spec.graph.terminal)

            def on_written(result: ChunkResult) -> None:
                for name, items, _succeeded, failed in result.payload["steps"]:
                    if name == steps[0].name:  # the first step's items: the input's
                        for position in range(items):
                            progress.advance(failed=position < failed)

            try:
                await collect(state, queue, ordered, total_chunks, on_written=on_written, stop=stop)
            finally:
                progress.close()
        collected = ordered.collected
        if received:
            await cancel(state)
            name = signal.Signals(received[0]).name
            err(
                f"plivo-node: stopped by {name} after {ordered.next_chunk} of {total_chunks} "
                "chunks: no new chunk starts (those being run finish on the workers); run the "
                "same command with --resume to send the rest (nothing is sent twice)"
            )
            return 128 + received[0]
        if collected.error is not None or collected.stopped is not None:
            await cancel(state)
            await settle(state, ordered)
            reason = collected.error or collected.stopped
            if collected.claimed == 0 and not collected.claims_unknown:
                raise ConfigurationError(
                    f"a queued chunk could not run: {reason}",
                    hint="nothing was sent; fix the cause, then run again with --restart",
                )
            raise RunAbortedError(
                f"the queued run stopped part-way, after requests were sent: {reason}",
                hint="fix the cause, then run the same command with --resume "
                "(nothing is sent twice)",
            )
        await forget_inputs(state, total_chunks)
        tallies = await _merged_tallies(
            collected, spec, steps, registry, redis, mode=options.mode, owner=f"run:{state.run_id}"
        )
    finally:
        if queue is not None:
            await queue.close()
        await redis.aclose()
    _print_queue_summary(collected, tallies, spec.graph.terminal, output, started)
    failed = sum(counts[2] for counts in collected.steps.values())
    return EXIT_ITEMS_FAILED if failed else EXIT_OK


async def _merged_tallies(
    collected: Collected,
    spec: PipelineSpec,
    steps: list[Step],
    registry: NodeRegistry,
    redis: aioredis.Redis,
    *,
    mode: str,
    owner: str,
) -> dict[str, RunTally]:
    """The node types' tallies as one process would have counted them (the chunks' counts
    merged), completed as ``run`` completes them: prices looked up once, through clients
    that share the account's limits with the workers."""
    from plivo_node.core.api import NO_CLIENT  # noqa: PLC0415
    from plivo_node.queue.clients import open_shared_clients  # noqa: PLC0415

    tallies: dict[str, RunTally] = {}
    for name in dict.fromkeys(step.node for step in steps):
        make = registry.get(name).type.tally
        if make is not None:
            tallies[name] = tally = make()
            for counts in collected.tallies.get(name, []):
                tally.merge(counts)
    if not spec.settings.cost_estimate or not tallies:
        return tallies
    nodes = [registry.get(name) for name in tallies]
    nodes = [node for node in nodes if node.type.client is not None]
    async with contextlib.AsyncExitStack() as stack:
        try:
            opened = await open_shared_clients(
                stack, redis, spec, steps, nodes, mode=mode, owner=owner
            )
        except ConfigurationError:
            opened = []  # no credentials here: the estimate says it is unavailable
        clients = {shared.target.node.name: shared.client for shared in opened}
        for name, tally in tallies.items():
            await tally.complete(clients.get(name, NO_CLIENT))
    return tallies


def _print_queue_summary(
    collected: Collected,
    tallies: dict[str, RunTally],
    terminal: tuple[str, ...],
    output: Path,
    started: float,
) -> None:
    from plivo_node.commands.console import err, print_summary  # noqa: PLC0415
    from plivo_node.run.runner import RunSummary, StepCounts  # noqa: PLC0415

    summary = RunSummary(
        steps=[StepCounts(name, *counts) for name, counts in collected.steps.items()],
        terminal=terminal,
        by_code=Counter(collected.by_code),
        outputs=collected.outputs,
        started=started,
        tallies=tallies,
    )
    print_summary(summary, output, dry_run=False, sandboxes=[], scope_lines=[])
    err(f"  queue: {collected.chunks} chunks run by the workers")
