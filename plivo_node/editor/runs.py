"""Runs from the editor: the pipeline the page holds, over the items it holds, through the
same code ``plivo-node run`` uses (pipeline checks, :func:`build_steps`, the runner, each node
type's client, sandbox and dry run), with every step's items recorded for the page.

A sandbox run is the default. A live run needs the credentials set in the editor and a
confirmation carrying the figures of a dry run of the same pipeline over the same items
(:class:`Confirmations`): the server refuses a live run without one, and each confirmation is
spent by the run it allows, so a double click cannot send a campaign twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from plivo_node.commands.run_setup import client_nodes, client_options, open_run_scopes
from plivo_node.core.api import NO_CLIENT, ApiClient
from plivo_node.core.errors import ConfigurationError
from plivo_node.core.items import Item
from plivo_node.core.node import ClientOptions, RunClient, RunSettings, RunTally
from plivo_node.core.redaction import redact_json
from plivo_node.run.credentials import Fields
from plivo_node.run.engine import ItemResult, Step
from plivo_node.run.graph import Graph
from plivo_node.run.pipeline import PipelineSpec, build_steps, pipeline_from_data
from plivo_node.run.registry import LoadedNode, NodeRegistry
from plivo_node.run.runner import RunSummary, execute

SOURCE = "the editor's workflow"
# Keys of a pipeline file that the editor supplies itself: items come from the page, results
# go back to it, and credentials are held by the server (never by the page).
_EDITOR_SUPPLIED = ("input", "output", "credentials")
CONFIRMATION_SECONDS = 600


def runnable_data(pipeline: Mapping[str, Any], up_to: str | None) -> dict[str, Any]:
    """The pipeline data to run: the page's, less what the editor supplies, and with
    ``up_to`` only that step and the steps whose items reach it."""
    data = {key: value for key, value in pipeline.items() if key not in _EDITOR_SUPPLIED}
    if up_to is None:
        return data
    steps = list(data.get("steps") or [])
    if up_to not in {step.get("name") for step in steps}:
        raise ConfigurationError(f"there is no node '{up_to}' to run up to", hint="select a node")
    graph = pipeline_from_data(data, source=SOURCE, base_dir=Path.cwd()).graph
    keep = [s.name for s in graph.steps if s.name == up_to or graph.is_upstream(s.name, up_to)]
    by_name = {step["name"]: step for step in steps}
    trimmed = []
    for name in keep:  # run order: every step after the steps it reads
        step = {key: value for key, value in by_name[name].items() if key != "input"}
        edges = graph.step(name).inputs
        if edges:
            step["input"] = [{"step": edge.source, "output": edge.output} for edge in edges]
        trimmed.append(step)
    return {**data, "steps": trimmed}


def prepare(
    registry: NodeRegistry, pipeline: Mapping[str, Any], up_to: str | None, base_dir: Path
) -> tuple[PipelineSpec, list[Step]]:
    """The spec and runnable steps, checked exactly as ``validate`` checks a file."""
    data = runnable_data(pipeline, up_to)
    spec = pipeline_from_data(data, source=SOURCE, base_dir=base_dir, registry=registry)
    return spec, build_steps(spec, registry)


@dataclass
class StepRecorder:
    """Every step's results, as ``on_result`` reports them, paired with their input items."""

    graph: Graph
    inputs: Sequence[Mapping[str, Any]]
    results: dict[int, list[ItemResult]] = field(default_factory=dict)

    def __call__(self, lane: int, result: ItemResult) -> None:
        self.results.setdefault(lane, []).append(result)

    def rows(self, output_names: Mapping[str, Sequence[str]]) -> dict[str, list[dict[str, Any]]]:
        """Step name → one row per input item: its input json and what it produced."""
        produced: dict[tuple[int, int], list[Mapping[str, Any]]] = {}
        by_step: dict[str, list[dict[str, Any]]] = {step.name: [] for step in self.graph.steps}
        for lane in self.graph.lanes:
            results = sorted(self.results.get(lane.number, []), key=lambda r: r.index)
            source = (
                self.inputs if lane.source is None else produced.get((lane.source, lane.output), [])
            )
            names = list(output_names.get(lane.step, ("main",)))
            for result in results:
                outputs = []
                for out in result.outputs:
                    produced.setdefault((lane.number, out.output), []).append(out.json)
                    label = names[out.output] if out.output < len(names) else "error"
                    entry: dict[str, Any] = {"json": out.json, "output": label}
                    if out.error is not None:
                        entry["error"] = dict(out.error)
                    outputs.append(entry)
                row: dict[str, Any] = {
                    "lane": lane.number,
                    "index": result.index,
                    "input": source[result.index] if result.index < len(source) else None,
                    "outputs": outputs,
                }
                if result.error is not None:
                    row["error"] = str(result.error)
                by_step[lane.step].append(row)
        return by_step


@dataclass(frozen=True)
class RunReport:
    """What the page shows after a run: the summary, and every step's rows."""

    mode: str  # "sandbox", "live" or "dry-run"
    summary: dict[str, Any]
    steps: dict[str, list[dict[str, Any]]]

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "summary": self.summary, "steps": redact_json(self.steps)}


def _options(
    spec: PipelineSpec, steps: Sequence[Step], node: LoadedNode, *, sandbox: bool
) -> ClientOptions:
    """The run's limits, as ``run`` sets them. The embedded sandbox is this process's own:
    there is no service limit to respect, so its requests are not paced."""
    factory = node.type.client
    assert factory is not None
    options = client_options(spec, steps, factory, retry_unknown=False)
    return replace(options, rate_limit=None, messages_per_second=None) if sandbox else options


@contextlib.asynccontextmanager
async def _clients(
    spec: PipelineSpec,
    steps: Sequence[Step],
    registry: NodeRegistry,
    live_fields: Mapping[str, Fields] | None,
) -> AsyncIterator[dict[str, tuple[RunClient, Mapping[str, str]]]]:
    """Each node type's client and the fields it uses: on its embedded sandbox, or
    (``live_fields``, by credential type) on the configured account, checked with one read
    before any item runs."""
    clients: dict[str, tuple[RunClient, Mapping[str, str]]] = {}
    async with contextlib.AsyncExitStack() as stack:
        for node in client_nodes(steps, registry):
            factory = node.type.client
            assert factory is not None
            if live_fields is None:
                sandbox = factory.sandbox()
                if sandbox is None:
                    raise ConfigurationError(
                        f"node '{node.name}' has no sandbox",
                        hint="set its credentials and run live",
                    )
                session = await stack.enter_async_context(sandbox)
                options = _options(spec, steps, node, sandbox=True)
                fields: Mapping[str, str] = session.fields
                client = await stack.enter_async_context(factory.connect(fields, options))
            else:
                given = live_fields.get(factory.credential_type)
                if given is None:
                    raise ConfigurationError(
                        f"no {factory.credential_type} credentials are set for node '{node.name}'",
                        hint="fill in the Credentials form before running live",
                    )
                fields = given
                options = _options(spec, steps, node, sandbox=False)
                client = await stack.enter_async_context(factory.connect(fields, options))
                await factory.check(client, fields)
            clients[node.name] = (client, fields)
        yield clients


async def run_items(
    registry: NodeRegistry,
    spec: PipelineSpec,
    steps: list[Step],
    items: Sequence[Mapping[str, Any]],
    *,
    live_fields: Mapping[str, Fields] | None = None,
    dry_run: bool = False,
) -> RunReport:
    """Run ``steps`` over ``items`` (sandbox unless ``live_fields``) and record every step."""
    recorder = StepRecorder(spec.graph, items)
    tallies: dict[str, RunTally] = {
        name: node.type.tally()
        for name in dict.fromkeys(step.node for step in steps)
        if (node := registry.get(name)).type.tally is not None
    }
    lines: list[str] = []
    settings = RunSettings(
        spec.settings.suppression, dry_run=dry_run, timezone=spec.settings.timezone
    )
    async with (
        _clients(spec, steps, registry, live_fields) as opened,
        contextlib.AsyncExitStack() as stack,
    ):
        # As in `run`: the suppression list screens the sends, the dry run counts the skips.
        scopes = open_run_scopes(stack, registry, steps, settings)
        live = {name: client for name, (client, _) in opened.items()}
        clients: dict[str, ApiClient] = dict(live)
        if dry_run:  # the node's own stand-in: reads go through, writes are simulated
            for name, (client, fields) in opened.items():
                factory = registry.get(name).type.client
                assert factory is not None
                clients[name] = factory.dry_run(client, fields)
        summary = await execute(
            steps,
            (Item(json=dict(item)) for item in items),
            clients,
            lines.append,
            graph=spec.graph,
            tallies=tallies,
            on_result=recorder,
        )
        if spec.settings.cost_estimate:
            for name, tally in tallies.items():
                await tally.complete(live.get(name, NO_CLIENT))
    outputs = {step.name: step.outputs for step in steps}
    mode = "dry-run" if dry_run else ("sandbox" if live_fields is None else "live")
    report = summary_json(summary)
    report["lines"] += [line for scope in scopes for line in scope.lines()]
    return RunReport(mode, report, recorder.rows(outputs))


def summary_json(summary: RunSummary) -> dict[str, Any]:
    return {
        "items": summary.items,
        "succeeded": summary.succeeded,
        "failed": summary.failed,
        "stopped": str(summary.stopped) if summary.stopped is not None else None,
        "byCode": dict(summary.by_code),
        "steps": [
            {"name": s.name, "items": s.items, "succeeded": s.succeeded, "failed": s.failed}
            for s in summary.steps
        ],
        "lines": [line for tally in summary.tallies.values() for line in tally.lines()],
        "seconds": round(summary.elapsed, 3),
    }


def run_digest(pipeline: Mapping[str, Any], up_to: str | None, items: Sequence[Any]) -> str:
    """What a confirmation is for: this pipeline, up to this node, over these items."""
    text = json.dumps([runnable_data(pipeline, None), up_to, list(items)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Confirmations:
    """Dry runs the page showed, each good for one live run of exactly what it measured."""

    pending: dict[str, tuple[str, float]] = field(default_factory=dict)

    def issue(self, digest: str) -> str:
        token = secrets.token_urlsafe(16)
        self.pending[token] = (digest, time.monotonic() + CONFIRMATION_SECONDS)
        return token

    def spend(self, token: str | None, digest: str) -> None:
        """Accept ``token`` for ``digest`` once, or refuse the live run (nothing is sent)."""
        if not token or token not in self.pending:
            raise ConfigurationError(
                "a live run needs the confirmation of a dry run of this workflow",
                hint="press Run live: the editor shows the dry run's messages and cost to confirm",
            )
        wanted, expires = self.pending.pop(token)
        if wanted != digest:
            raise ConfigurationError(
                "the workflow or its items changed since the dry run that was confirmed",
                hint="run the dry run again and confirm its figures",
            )
        if time.monotonic() > expires:
            raise ConfigurationError(
                "the dry run's confirmation expired", hint="run the dry run again and confirm it"
            )
