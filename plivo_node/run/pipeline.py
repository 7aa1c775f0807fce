"""Pipeline files: YAML → schema validation → typed spec → runnable steps.

A pipeline file names its input, output, credentials, run settings and a list of steps; each
step names its node type (any installed one, see :mod:`plivo_node.run.registry`), and its output
items are the next step's input unless the step says where its input comes from (``input``, see
:mod:`plivo_node.run.graph`). Every problem in the file is collected and reported in one
:class:`PipelineError`, each with its location.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from plivo_node.core.errors import (
    ConfigurationError,
    PipelineError,
    PlivoNodeError,
    ProblemListError,
)
from plivo_node.core.local_zone import is_zone
from plivo_node.core.redaction import SECRET_NAME
from plivo_node.core.text_files import read_text_file
from plivo_node.description import validate_once
from plivo_node.description.parameters import ParameterResolver
from plivo_node.description.yaml_cache import cached_yaml_data, keep_yaml_data
from plivo_node.run.credentials import block_problems
from plivo_node.run.graph import DeclaredStep, Graph, output_problems, resolve_graph
from plivo_node.run.pipeline_checks import StepView, check_input, step_problems
from plivo_node.run.registry import LoadedNode, NodeRegistry
from plivo_node.run.send_window import SendWindow, WindowGate, parse_send_window
from plivo_node.run.step import OnError, Step

DEFAULT_CONCURRENCY = 50


@dataclass(frozen=True)
class Settings:
    """Run settings from the pipeline's ``settings`` block."""

    concurrency: int = DEFAULT_CONCURRENCY
    # Requests per seconds; None: each node's service's documented rate; False: no limit.
    rate_limit: tuple[int, float] | Literal[False] | None = None
    timeout_seconds: float = 30.0
    messages_per_second: float | None = None
    cost_estimate: bool = True  # let nodes look up prices for the summary
    # Let nodes skip recipients on their suppression list (opted out); off for 2FA codes.
    suppression: bool = True
    # Hours the steps that message someone may send in (settings.sendWindow), or None.
    send_window: SendWindow | None = None
    # The IANA zone a schedule trigger runs in (settings.timezone); None: this machine's.
    timezone: str | None = None


@dataclass(frozen=True)
class StepSpec:
    name: str
    node: str
    parameters: Mapping[str, Any]
    on_error: OnError = OnError.STOP_WORKFLOW
    bulk: bool = False
    concurrency: int | None = None
    type_version: float | None = None  # the node type's version the parameters were saved for


@dataclass(frozen=True)
class PipelineSpec:
    source: str
    base_dir: Path
    steps: tuple[StepSpec, ...]  # in file order; ``graph`` says how they connect and run
    graph: Graph
    name: str | None = None
    input_path: Path | None = None
    input_format: str | None = None
    output_path: Path | None = None
    credentials: Mapping[str, Any] | None = None
    settings: Settings = field(default_factory=Settings)


def parse_pipeline(
    text: str, *, source: str, base_dir: Path, registry: NodeRegistry | None = None
) -> PipelineSpec:
    """Parse and validate pipeline YAML text."""
    found, data = cached_yaml_data(text, source)
    if not found:
        # Imported here: a pipeline read before needs no YAML parser (see yaml_cache).
        from plivo_node.description.yaml_source import read_yaml_text  # noqa: PLC0415

        data, problems = read_yaml_text(text)
        if problems:
            raise PipelineError(source, problems)
    registry = registry if registry is not None else NodeRegistry()
    spec = pipeline_from_data(data, source=source, base_dir=base_dir, registry=registry)
    if not found and not _may_hold_secrets(data, registry):
        keep_yaml_data(text, source, data)
    return spec


_ENVIRONMENT_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


def _may_hold_secrets(data: Mapping[str, Any], registry: NodeRegistry) -> bool:
    """Whether the pipeline may hold a secret, so that its data must not be kept anywhere.

    Conservative: a credentials block with any value other than a ``${NAME}`` reference; a
    parameter (at any depth) that its node type marks as a password, or whose name says it
    holds a secret; a step whose node type cannot be loaded (its secrets are not known).
    """
    block = data.get("credentials")
    if block is not None and not all(
        isinstance(value, str) and _ENVIRONMENT_REFERENCE.fullmatch(value)
        for value in _leaves(block)
    ):
        return True
    for step in data["steps"]:
        try:
            node = registry.get(str(step["node"]))
        except ConfigurationError:
            return True
        secret = {
            prop.name
            for top in node.description.properties
            for prop in (top, *top.fields())
            if prop.is_secret
        }
        if any(
            isinstance(name, str) and (name in secret or SECRET_NAME.search(name))
            for name in _keys(step.get("parameters") or {})
        ):
            return True
    return False


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, Mapping):
        for member in value.values():
            yield from _leaves(member)
    elif isinstance(value, list):
        for member in value:
            yield from _leaves(member)
    else:
        yield value


def _keys(value: Any) -> Iterator[object]:
    if isinstance(value, Mapping):
        for key, member in value.items():
            yield key
            yield from _keys(member)
    elif isinstance(value, list):
        for member in value:
            yield from _keys(member)


def pipeline_from_data(
    data: Any, *, source: str, base_dir: Path, registry: NodeRegistry | None = None
) -> PipelineSpec:
    """Validate pipeline data (as read from YAML, or converted from an n8n workflow).

    Which steps are triggers and how many outputs each has come from the node types
    (``registry``, by default the installed ones); a node type that is not installed is
    reported by :func:`build_steps`.
    """
    # A pipeline that passed before (same text, same schema) is not checked again: see
    # plivo_node.description.cache.
    problems = validate_once(data, "pipeline", source)
    if problems:
        raise PipelineError(source, problems)
    duplicates = repeated_names(s["name"] for s in data["steps"])
    if duplicates:
        raise PipelineError(
            source,
            [f"steps: step names must be unique; repeated: {', '.join(duplicates)}"],
        )
    is_trigger, outputs_of = _graph_facts(
        registry if registry is not None else NodeRegistry(), data["steps"]
    )
    graph = resolve_graph(
        [
            DeclaredStep(
                name=s["name"],
                node=s["node"],
                input=s.get("input"),
                error_output=s.get("onError") == OnError.CONTINUE_ERROR_OUTPUT.value,
            )
            for s in data["steps"]
        ],
        source=source,
        is_trigger=is_trigger,
        outputs_of=outputs_of,
    )
    return _spec_from_data(data, source=source, base_dir=base_dir, graph=graph)


def _graph_facts(
    registry: NodeRegistry, steps: list[Mapping[str, Any]]
) -> tuple[Callable[[str], bool], Callable[[str], int] | None]:
    """``is_trigger`` and ``outputs_of`` for :func:`resolve_graph`, from the node types the
    steps name; ``outputs_of`` only when every one of them loads (the others are reported,
    with the reason, when the steps are built)."""
    named = dict.fromkeys(str(step["node"]) for step in steps)
    loaded: dict[str, LoadedNode] = {}
    for name in named:
        with contextlib.suppress(ConfigurationError):
            loaded[name] = registry.get(name)

    def is_trigger(node: str) -> bool:
        return node in loaded and loaded[node].type.trigger

    def outputs_of(node: str) -> int:
        return len(loaded[node].type.outputs)

    return is_trigger, outputs_of if len(loaded) == len(named) else None


def repeated_names(names: Iterable[str]) -> list[str]:
    """The names given more than once, sorted: counted in one pass (names.count() per step
    made a 20,000-step file take seconds)."""
    return sorted(name for name, count in Counter(names).items() if count > 1)


def _resolve_path(base_dir: Path, value: str) -> Path:
    if "\0" in value:
        raise ConfigurationError(
            f"the pipeline's path {value!r} contains a NUL character", hint="remove it"
        )
    try:
        path = Path(value).expanduser()
    except RuntimeError:  # "~name/..." for a user this system does not know
        user = value[1:].split("/", 1)[0]
        unknown = f"there is no user {user!r}" if user else "the home directory is not known"
        raise ConfigurationError(
            f"the pipeline's path {value!r} starts with ~{user}, but {unknown}",
            hint="write the path out in full, or use ~/ for your own home directory",
        ) from None
    if path.is_absolute() or value == "-":
        return path
    return Path(os.path.normpath(base_dir / path))


def _spec_from_data(
    data: Mapping[str, Any], *, source: str, base_dir: Path, graph: Graph
) -> PipelineSpec:
    raw_input = data.get("input")
    input_path: Path | None = None
    input_format: str | None = None
    if isinstance(raw_input, str):
        input_path = _resolve_path(base_dir, raw_input)
    elif isinstance(raw_input, Mapping):
        input_path = _resolve_path(base_dir, raw_input["path"])
        input_format = raw_input.get("format")
    output = data.get("output")
    steps = tuple(
        StepSpec(
            name=s["name"],
            node=s["node"],
            parameters=dict(s.get("parameters", {})),
            on_error=OnError(s.get("onError", OnError.STOP_WORKFLOW.value)),
            bulk=bool(s.get("bulk", False)),
            concurrency=s.get("concurrency"),
            type_version=s.get("typeVersion"),
        )
        for s in data["steps"]
    )
    return PipelineSpec(
        source=source,
        base_dir=base_dir,
        steps=steps,
        graph=graph,
        name=data.get("name"),
        input_path=input_path,
        input_format=input_format,
        output_path=_resolve_path(base_dir, output) if isinstance(output, str) else None,
        credentials=data.get("credentials"),
        settings=_settings_from(data.get("settings") or {}, source),
    )


def _settings_from(raw: Mapping[str, Any], source: str) -> Settings:
    send_window, problems = parse_send_window(raw.get("sendWindow"))
    timezone = raw.get("timezone")
    if timezone is not None and not is_zone(str(timezone)):
        problems = [
            *problems,
            (
                f"settings.timezone: {timezone!r} is not a time zone (use an IANA name such as "
                "Europe/Berlin or America/New_York)"
            ),
        ]
    if problems:
        raise PipelineError(source, problems)
    rate_limit: tuple[int, float] | Literal[False] | None = None
    if "rateLimit" in raw:
        limit = raw["rateLimit"]
        rate_limit = (
            False if limit is False else (int(limit["requests"]), float(limit["perSeconds"]))
        )
    return Settings(
        concurrency=int(raw.get("concurrency", DEFAULT_CONCURRENCY)),
        rate_limit=rate_limit,
        timeout_seconds=float(raw.get("timeoutSeconds", 30.0)),
        messages_per_second=raw.get("messagesPerSecond"),
        cost_estimate=bool(raw.get("costEstimate", True)),
        suppression=bool(raw.get("suppression", True)),
        send_window=send_window,
        timezone=None if timezone is None else str(timezone),
    )


def load_pipeline(path: Path, registry: NodeRegistry | None = None) -> PipelineSpec:
    """Read, parse and validate a pipeline file."""
    source = str(path)
    text = read_text_file(path, PipelineError)
    return parse_pipeline(text, source=source, base_dir=path.resolve().parent, registry=registry)


def build_steps(spec: PipelineSpec, registry: NodeRegistry | None = None) -> list[Step]:
    """Runnable steps for a spec; every step's problems are reported together.

    ``registry`` defaults to the installed node types; only those the steps name are loaded.
    """
    registry = registry if registry is not None else NodeRegistry()
    steps: list[Step] = []
    problems: list[str] = []
    views: list[StepView] = []
    # One gate per run, shared by the steps that message someone.
    gates: dict[str, WindowGate] = {}
    nodes: dict[str, LoadedNode] = {}
    for position, step_spec in enumerate(spec.steps):
        view = StepView(step_spec.name, None, step_spec.parameters)
        views.append(view)
        try:
            node = nodes[step_spec.node] = registry.get(step_spec.node)
        except ConfigurationError as exc:
            problems.append(f"step '{step_spec.name}': {exc}")
            continue
        type_version, problem = _type_version(node, step_spec.type_version)
        if problem is not None:
            problems.append(f"step '{step_spec.name}': {problem}")
            continue
        try:
            resolver = ParameterResolver(
                node.description,
                step_spec.parameters,
                step_name=step_spec.name,
                type_version=type_version,
            )
        except ProblemListError as exc:
            problems.extend(f"{exc.source}: {problem}" for problem in exc.problems)
            continue
        except PlivoNodeError as exc:
            problems.append(f"step '{step_spec.name}': {exc}")
            continue
        operation = (resolver.resource, resolver.operation)
        views[-1] = replace(view, operation=operation, check_constants=node.type.check_constants)
        problem = _node_problem(node, step_spec, operation, position)
        if problem is not None:
            problems.append(f"step '{step_spec.name}': {problem}")
            continue
        client = node.type.client
        gate, problem = _window_gate(spec, node, step_spec.name, operation, gates)
        if problem is not None:
            problems.append(f"step '{step_spec.name}': {problem}")
            continue
        steps.append(
            Step(
                name=step_spec.name,
                resolver=resolver,
                handler=node.type.handlers[operation],
                node=node.name,
                on_error=step_spec.on_error,
                concurrency=step_spec.concurrency or spec.settings.concurrency,
                bulk=node.type.bulk[operation] if step_spec.bulk else None,
                raw_parameters=step_spec.parameters,
                secret_fields=resolver.secret_input_fields,
                secret_parameters=resolver.has_secret_parameters,
                outputs=node.type.outputs,
                never_repeat=operation in node.type.never_repeat,
                service=client.service if client is not None else node.description.displayName,
                type_version=type_version,
                send_window=gate,
            )
        )
    problems.extend(step_problems(views, spec.graph))
    if len(nodes) == len({step.node for step in spec.steps}):
        # Every node type is known: so are their outputs and the credential types the block
        # may hold.
        problems.extend(output_problems(spec.graph, lambda name: len(nodes[name].type.outputs)))
        credential_types = [c for node in nodes.values() for c in node.credential_types]
        problems.extend(block_problems(spec.credentials, credential_types))
    if problems:
        raise PipelineError(spec.source, problems)
    return steps


def _window_gate(
    spec: PipelineSpec,
    node: LoadedNode,
    step_name: str,
    operation: tuple[str, str],
    gates: dict[str, WindowGate],
) -> tuple[WindowGate | None, str | None]:
    """The send window's gate for a step that messages someone (and why it cannot have one)."""
    window, messaging = spec.settings.send_window, node.type.messaging
    if window is None or messaging is None or operation not in messaging.destinations:
        return None, None
    if step_name not in spec.graph.terminal:
        return None, (
            "settings.sendWindow holds this step's items until their window opens, so its "
            "output must end the run; move the steps after it into another pipeline that "
            "reads this one's output"
        )
    if node.name not in gates:
        gates[node.name] = WindowGate(window, messaging.destinations, messaging.time_zones)
    return gates[node.name], None


def _type_version(node: LoadedNode, wanted: float | None) -> tuple[float, str | None]:
    """The step's typeVersion (the newest the node offers when the step gives none), or why
    the node type does not have the one given: its parameters may mean something else."""
    version = node.description.version
    offered = version if isinstance(version, tuple) else (version,)
    if wanted is None:
        return max(offered), None
    if wanted in offered:
        return wanted, None
    listed = ", ".join(f"{v:g}" for v in offered)
    return wanted, (
        f"typeVersion {wanted:g} is not a version of node '{node.name}' (it has {listed}); "
        f"set typeVersion to one of them (open an n8n workflow in n8n to upgrade the node)"
    )


def _node_problem(
    node: LoadedNode, step: StepSpec, operation: tuple[str, str], position: int
) -> str | None:
    """Why the node type cannot run this step as configured, or None when it can."""
    shown = ".".join(part for part in operation if part) or node.name
    if step.bulk and operation not in node.type.bulk:
        supported = ", ".join(f"{r}.{o}" for r, o in sorted(node.type.bulk))
        if not supported:
            return f"bulk: true is not supported by node '{node.name}'; remove it"
        return f"bulk: true is supported for {supported} only, not {shown}; remove it"
    if operation not in node.type.handlers:
        return f"{shown} has no handler in node '{node.name}'"
    if node.type.trigger and position > 0:
        return (
            f"node '{node.name}' is a trigger: it starts a workflow, so it must be the first step"
        )
    return None


def check_pipeline_input(
    spec: PipelineSpec, input_path: Path | None, input_format: str | None
) -> list[str]:
    """The input checks of the static pass (see :mod:`plivo_node.run.pipeline_checks`): warnings.

    ``input_path``/``input_format`` are what the run reads (``--input`` wins over the file's
    ``input``); a missing file raises :class:`ConfigurationError`.
    """
    first = spec.steps[0]
    return check_input(StepView(first.name, None, first.parameters), input_path, input_format)
