"""A run's setup, shared by ``run``, ``serve`` and the queue's workers: which input it reads,
where each node type's requests go (credentials or the embedded sandbox), what each client is
asked for, and the node types' run scopes.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plivo_node.commands.console import err
from plivo_node.core.errors import ConfigurationError
from plivo_node.core.items import Item
from plivo_node.core.node import ClientFactory, ClientOptions, RunScope, RunSettings

if TYPE_CHECKING:
    from plivo_node.run.credentials import Fields
    from plivo_node.run.engine import Step
    from plivo_node.run.pipeline import PipelineSpec
    from plivo_node.run.registry import LoadedNode, NodeRegistry


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


def run_options(args: argparse.Namespace) -> RunOptions:
    """The `run` command's options, as parsed (a queued run refuses some before using them)."""
    return RunOptions(
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


def input_choice(spec: PipelineSpec, options: RunOptions) -> tuple[Path | None, str | None]:
    """The input the run reads and its format: --input wins over the pipeline's input."""
    path = options.input or spec.input_path
    fmt = options.input_format or (spec.input_format if options.input is None else None)
    return path, fmt


def input_items(
    spec: PipelineSpec, options: RunOptions
) -> tuple[Iterator[Item], int | None, Path | None]:
    path, fmt = input_choice(spec, options)
    if path is None:
        # Like n8n's manual trigger: one empty item, so a step such as account.get runs once.
        return iter([Item(json={})]), 1, None
    from plivo_node.run.item_io import open_input  # noqa: PLC0415

    # Everything that can be checked before the first send is checked now (exit 2).
    items, total = open_input(path, fmt)
    return items, total, path


@dataclass(frozen=True)
class ApiTarget:
    """Where one node type's requests go in this run, and the credentials it uses there."""

    node: LoadedNode
    factory: ClientFactory
    fields: Fields
    embedded_sandbox: bool  # True: a sandbox in this process, not the service itself


def client_nodes(steps: Sequence[Step], registry: NodeRegistry) -> list[LoadedNode]:
    """The run's node types that talk to a service, in order of first use."""
    names = dict.fromkeys(step.node for step in steps)
    return [node for node in map(registry.get, names) if node.type.client is not None]


def credential_block_types(nodes: list[LoadedNode]) -> set[str]:
    return {node.type.client.credential_type for node in nodes if node.type.client is not None}


@contextlib.asynccontextmanager
async def api_targets(
    spec: PipelineSpec, mode: str, nodes: list[LoadedNode]
) -> AsyncIterator[list[ApiTarget]]:
    """Each node type's credentials: configured ones (live), or its embedded sandbox's.

    A sandbox stands in only when nothing asks for a live account (``resolve_fields``
    refuses a half-configured one) or when ``--sandbox`` says so.
    """
    from plivo_node.run.credentials import resolve_fields  # noqa: PLC0415

    targets: list[ApiTarget] = []
    block_types = credential_block_types(nodes)
    async with contextlib.AsyncExitStack() as stack:
        for node in nodes:
            factory = node.type.client
            assert factory is not None
            credential = node.credential_type(factory.credential_type)
            if mode != "sandbox":
                fields = resolve_fields(
                    credential,
                    spec.credentials,
                    os.environ,
                    service=factory.service,
                    other_types=block_types - {credential.name},
                )
                if fields is not None:
                    targets.append(ApiTarget(node, factory, fields, embedded_sandbox=False))
                    continue
            sandbox = factory.sandbox()
            if mode == "live" or sandbox is None:
                wanted = credential.required_variables()
                why = "--live needs credentials" if mode == "live" else "no credentials configured"
                has_none = "" if sandbox is not None else f" and node '{node.name}' has no sandbox"
                raise ConfigurationError(
                    f"{why} for node '{node.name}'{has_none}",
                    hint=f"set {wanted + ', or ' if wanted else ''}a credentials block "
                    f"({credential.name}) in the pipeline",
                )
            session = await stack.enter_async_context(sandbox)
            reason = "--sandbox given" if mode == "sandbox" else "no credentials configured"
            err(
                f"plivo-node: {reason}: using the embedded sandbox at {session.url} "
                "(nothing is sent)"
            )
            targets.append(ApiTarget(node, factory, dict(session.fields), embedded_sandbox=True))
        yield targets


def open_run_scopes(
    stack: contextlib.AsyncExitStack[Any],
    registry: NodeRegistry,
    steps: Sequence[Step],
    settings: RunSettings,
) -> list[RunScope]:
    """Each node type's run-wide state (a suppression list loaded once), open until the last
    item is done; one that cannot be opened refuses the run (exit 2). Batch runs and serve's
    event runs both open them: a send is screened however it was started."""
    return [
        stack.enter_context(open_scope()) for open_scope in run_scopes(registry, steps, settings)
    ]


def run_scopes(
    registry: NodeRegistry, steps: Sequence[Step], settings: RunSettings
) -> list[Callable[[], AbstractContextManager[RunScope]]]:
    """Openers of the run scopes of the steps' node types, each node type once."""
    return [
        functools.partial(open_scope, settings)
        for name in dict.fromkeys(step.node for step in steps)
        if (open_scope := registry.get(name).type.run_scope) is not None
    ]


def client_options(
    spec: PipelineSpec, steps: Sequence[Step], factory: ClientFactory, *, retry_unknown: bool
) -> ClientOptions:
    """What the run asks of one node's client: the pipeline's limits and retry choices."""
    settings = spec.settings
    rate_limit = settings.rate_limit
    return ClientOptions(
        # Enough pooled connections for the busiest step.
        concurrency=max([settings.concurrency, *(step.concurrency for step in steps)]),
        timeout=settings.timeout_seconds,
        rate_limit=factory.default_rate_limit if rate_limit is None else (rate_limit or None),
        messages_per_second=settings.messages_per_second,
        retry_unknown=retry_unknown,
    )


def tune_garbage_collector(young: int = 50_000) -> None:
    """Make the cyclic GC cheap for a run: a large throughput win, little memory.

    After start-up, the node description, templates and phone metadata are long-lived:
    freezing them keeps every later collection from walking them again. Items themselves are
    freed by reference counting, so collecting the young generation less often (every
    ``young`` allocations instead of 700; 50,000 for a batch run) costs little memory and saves
    about a fifth of the CPU per item.
    """
    import gc  # noqa: PLC0415

    gc.freeze()
    gc.set_threshold(young, 20, 100)
