"""An n8n workflow as a pipeline: the same steps, parameters and connections, or why it cannot be.

Each node becomes a step with the node's name (so ``$('Node')`` expressions keep working), its
node type without the ``n8n-nodes-base.`` prefix, its ``typeVersion``, its ``onError`` when it
is not the default, and its ``parameters`` exactly as n8n saved them (defaults left out: the
node types fill them in, as n8n does). Connections become ``input``, left out where it is the
default (the main output of the step just before). Steps are in run order: the trigger first,
then each branch to its end before the next, branches taken by output and then top to bottom
on the canvas, as n8n's execution order v1 takes them.

What n8n would do differently is never passed over quietly. It is an error (all of them listed
at once, nothing is run):

- a node type this runtime does not have (every such node, by name and type);
- node settings that change what a run does and are not supported: Execute Once, Retry On Fail
  (n8n re-runs the whole node, sending every message again; this runtime retries transient
  failures per item by itself), Always Output Data; pinned data (n8n would use it instead of
  running the node); settings this runtime does not know;
- no Manual Trigger, or more than one trigger (n8n starts a run from one);
- connections this runtime cannot follow (AI connection types, a second input, into a
  trigger, from a disabled node's other outputs), and everything the pipeline graph refuses
  (cycles, outputs a node does not have).

Handled as n8n does, each with a notice: a disabled node passes its items through (a ``noOp``
step); a node not connected to the trigger never runs (left out); sticky notes are canvas
annotations (left out silently). Workflow settings this runtime does not apply (time zone,
error workflow, timeout) are noticed.

Which n8n node types can run, which start a run and which credential types each uses come
from the installed node types (:mod:`.catalog`); nothing here names a particular node.

Credentials are referenced by type (``{"<type>": {"id", "name"}}``): the reference must be a
credential type of the node's type, and nothing else of it is read. No ``credentials`` block
is written: a run resolves the node's credentials the way it does for any pipeline without a
block, from the environment variables its credential type declares, and with none of them set
uses the node's embedded sandbox. (A block naming those variables would do the same with them
set, but turn "nothing set" into an error, so a workflow file would no longer run on the
sandbox as a pipeline does.)
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import yaml

from plivo_node.core.errors import PipelineError, WorkflowError
from plivo_node.description.schema import bounded_problems
from plivo_node.n8n.catalog import NodeCatalog, catalog_from
from plivo_node.n8n.workflow import Connection, Workflow, WorkflowNode
from plivo_node.run.graph import DeclaredStep, resolve_graph
from plivo_node.run.registry import NodeRegistry

N8N_PACKAGE: Final = "n8n-nodes-base."
STICKY_NOTE: Final = "n8n-nodes-base.stickyNote"
DISABLED_NODE: Final = "noOp"  # what a disabled node becomes: its input items, unchanged

# Workflow settings that change nothing about the items a run produces or what it sends.
_QUIET_SETTINGS: Final = frozenset(
    {"executionOrder", "saveManualExecutions", "saveDataErrorExecution",
     "saveDataSuccessExecution", "saveExecutionProgress", "callerPolicy", "callerIds",
     "timeSavedPerExecution", "availableInMCP"}
)  # fmt: skip
# Workflow settings this runtime applies: carried into the pipeline's settings as they are
# (the pipeline schema checks them). n8n ignores settings it does not know, so a workflow may
# carry them and still import into n8n.
CARRIED_SETTINGS: Final = ("suppression", "sendWindow", "timezone")


@dataclass(frozen=True)
class Conversion:
    """The pipeline (plain data, as a pipeline file holds it) and the notices about it."""

    data: dict[str, Any]
    notices: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()  # names of nodes that are not steps (n8n never runs them)


@dataclass(frozen=True)
class _Step:
    node: WorkflowNode
    type: str  # our node type
    disabled: bool


def convert_workflow(
    workflow: Workflow,
    *,
    catalog: NodeCatalog | None = None,
    outputs_of: Callable[[str], int] | None = None,
) -> Conversion:
    """The pipeline that runs ``workflow`` as n8n would, or :class:`WorkflowError` listing every
    reason it cannot be. ``catalog`` defaults to the installed node types; ``outputs_of(node
    type)`` to the catalog's outputs."""
    catalog = catalog if catalog is not None else catalog_from(NodeRegistry())
    problems: list[str] = []
    notices: list[str] = []
    steps = _steps(workflow, catalog, problems, notices)
    triggers = [
        name for name, step in steps.items() if step.type in catalog.triggers and not step.disabled
    ]
    disabled = [name for name, step in steps.items() if step.disabled]
    if not triggers:
        off = [n for n in disabled if catalog.node_for(workflow.node(n).type) in catalog.triggers]
        problems.append(
            f"the trigger '{off[0]}' is disabled: n8n cannot start the workflow from it; enable it"
            if off
            else "the workflow has no Manual Trigger: n8n runs a workflow from its trigger; add a "
            f"Manual Trigger ({N8N_PACKAGE}manualTrigger) before the first node"
        )
    elif len(triggers) > 1:
        problems.append(
            f"the workflow has {len(triggers)} triggers ("
            + ", ".join(f"'{name}'" for name in triggers)
            + "): n8n starts a run from one of them; keep one"
        )
    connections = _connections(workflow, steps, catalog, problems)
    if problems:
        raise WorkflowError(workflow.source, bounded_problems(problems))
    kept = _reachable(triggers, connections)
    left_out = tuple(name for name in steps if name not in kept)
    notices.extend(
        f"node '{name}' is not connected to the trigger: n8n never runs it, so it is left out"
        for name in left_out
    )
    order = _run_order(workflow, [name for name in steps if name in kept], connections)
    data = _pipeline_data(workflow, [steps[name] for name in order], connections)
    _check_graph(workflow, data, catalog, outputs_of or catalog.outputs_of)
    notices.extend(_setting_notices(workflow.settings))
    return Conversion(data=data, notices=tuple(notices), left_out=left_out)


def _steps(
    workflow: Workflow, catalog: NodeCatalog, problems: list[str], notices: list[str]
) -> dict[str, _Step]:
    """The nodes that become steps, by name, in file order; their problems go to ``problems``."""
    steps: dict[str, _Step] = {}
    unsupported: list[str] = []
    for node in workflow.nodes:
        if node.type == STICKY_NOTE:
            continue
        node_type = catalog.node_for(node.type)
        if node.disabled:
            notices.append(
                f"node '{node.name}' is disabled: as in n8n, it passes its input items through "
                f"unchanged (a {DISABLED_NODE} step)"
            )
            steps[node.name] = _Step(node, node_type or DISABLED_NODE, disabled=True)
            continue
        if node_type is None:
            unsupported.append(f"'{node.name}' ({node.type})")
            continue
        problems.extend(_setting_problems(node, catalog))
        steps[node.name] = _Step(node, node_type, disabled=False)
    if unsupported:
        known = ", ".join(sorted(catalog.nodes))
        noun = "node has a type" if len(unsupported) == 1 else "nodes have types"
        problems.insert(
            0,
            f"{len(unsupported)} {noun} this runtime does not have: {', '.join(unsupported)}; "
            f"the supported node types are {known} (remove or replace the others in n8n)",
        )
    pinned = [name for name in workflow.pinned if name in steps and not steps[name].disabled]
    if pinned:
        problems.append(
            "pinData: n8n uses pinned data instead of running "
            + ", ".join(f"'{name}'" for name in pinned)
            + "; unpin the data in n8n (or remove pinData) so that the file says what to run"
        )
    return steps


def _setting_problems(node: WorkflowNode, catalog: NodeCatalog) -> list[str]:
    where = f"node '{node.name}'"
    problems = [
        f"{where}: {setting} is not supported ({why}); turn it off in the node's settings"
        for setting, on, why in (
            ("Execute Once (executeOnce)", node.execute_once, "n8n runs it on the first item only"),
            (
                "Retry On Fail (retryOnFail)",
                node.retry_on_fail,
                (
                    "n8n re-runs the whole node, sending every message again; this runtime "
                    "retries transient failures of each item by itself"
                ),
            ),
            (
                "Always Output Data (alwaysOutputData)",
                node.always_output_data,
                "n8n outputs an empty item when the node outputs none",
            ),
        )
        if on
    ]
    problems.extend(
        f"{where}: the setting '{key}' is not known to this runtime, which cannot tell what it "
        "would change; remove it"
        for key in node.unknown_keys
    )
    node_type = catalog.node_for(node.type) or ""
    uses = sorted(catalog.credentials.get(node_type, ()))
    problems.extend(
        f"{where}: credential type '{kind}' is not supported by node type '{node_type}' ("
        + (f"it uses {', '.join(uses)})" if uses else "it uses no credentials); remove it")
        for kind in node.credential_types
        if kind not in uses
    )
    return problems


def _connections(
    workflow: Workflow, steps: Mapping[str, _Step], catalog: NodeCatalog, problems: list[str]
) -> list[Connection]:
    """The connections between steps; those this runtime cannot follow go to ``problems``."""
    kept: list[Connection] = []
    for connection in workflow.connections:
        source, target = steps.get(connection.source), steps.get(connection.target)
        if source is None or target is None:
            continue  # to or from a node already reported (unsupported) or a sticky note
        where = f"connection '{connection.source}' → '{connection.target}'"
        if connection.kind != "main":
            problems.append(
                f"{where}: '{connection.kind}' connections are not supported, only main ones"
            )
        elif connection.input != 0:
            problems.append(
                f"{where}: it goes to input {connection.input}, but '{connection.target}' has one "
                "input (0)"
            )
        elif target.type in catalog.triggers and not target.disabled:
            problems.append(f"{where}: '{connection.target}' is a trigger, which takes no input")
        elif source.disabled and connection.output != 0:
            problems.append(
                f"{where}: '{connection.source}' is disabled, so n8n sends nothing from its output "
                f"{connection.output}; enable the node, or remove the connection"
            )
        else:
            kept.append(connection)
    return kept


def _reachable(triggers: Sequence[str], connections: Sequence[Connection]) -> set[str]:
    reached = set(triggers)
    stack = list(triggers)
    targets: dict[str, list[str]] = {}
    for connection in connections:
        targets.setdefault(connection.source, []).append(connection.target)
    while stack:
        for target in targets.get(stack.pop(), ()):
            if target not in reached:
                reached.add(target)
                stack.append(target)
    return reached


def _run_order(
    workflow: Workflow, names: Sequence[str], connections: Sequence[Connection]
) -> list[str]:
    """``names`` in n8n's v1 order where the graph allows it: depth first from the roots, each
    node's outputs in order, the targets of one output top to bottom, left to right.

    A node joined by several branches comes after all of them; a cycle is left in file order
    for the graph check to report.
    """
    node = {n: workflow.node(n) for n in names}
    children: dict[str, list[tuple[int, float, float, int, str]]] = {n: [] for n in names}
    sources: dict[str, set[str]] = {n: set() for n in names}
    for c in connections:
        if c.source in node and c.target in node:
            target = node[c.target]
            children[c.source].append((c.output, target.position[1], target.position[0],
                                       target.index, c.target))  # fmt: skip
            sources[c.target].add(c.source)
    roots = sorted(
        (n for n in names if not sources[n]),
        key=lambda n: (node[n].position[0], node[n].position[1], node[n].index),
    )
    rank: dict[str, int] = {}
    stack = list(reversed(roots))
    while stack:  # preorder, without recursion
        current = stack.pop()
        if current in rank:
            continue
        rank[current] = len(rank)
        stack.extend(child[-1] for child in sorted(children[current], reverse=True))
    for n in names:  # unreachable from a root: only inside a cycle
        rank.setdefault(n, len(rank))
    waiting = {n: len(sources[n]) for n in names}
    ready = [(rank[n], n) for n in names if not waiting[n]]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, current = heapq.heappop(ready)
        order.append(current)
        for child in dict.fromkeys(child[-1] for child in children[current]):
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, (rank[child], child))
    order.extend(sorted((n for n in names if n not in order), key=rank.__getitem__))
    return order


def _pipeline_data(
    workflow: Workflow,
    steps: Sequence[_Step],
    connections: Sequence[Connection],
) -> dict[str, Any]:
    place = {step.node.name: index for index, step in enumerate(steps)}
    inputs: dict[str, list[Connection]] = {step.node.name: [] for step in steps}
    for connection in connections:
        if connection.source in place and connection.target in place:
            inputs[connection.target].append(connection)
    data: dict[str, Any] = {"version": 1}
    if workflow.name:
        data["name"] = workflow.name
    carried = {
        k: workflow.settings[k]
        for k in CARRIED_SETTINGS
        # n8n writes "DEFAULT" for the instance's zone: this machine's, here too.
        if k in workflow.settings and workflow.settings[k] not in (None, "", "DEFAULT")
    }
    if carried:
        data["settings"] = carried
    data["steps"] = [
        _step_data(
            step,
            sorted(inputs[step.node.name], key=lambda c: (place[c.source], c.output)),
            steps[index - 1].node.name if index else None,
        )
        for index, step in enumerate(steps)
    ]
    return data


def _step_data(step: _Step, inputs: Sequence[Connection], previous: str | None) -> dict[str, Any]:
    node = step.node
    data: dict[str, Any] = {"name": node.name}
    if step.disabled:
        data["node"] = DISABLED_NODE
    else:
        data["node"] = step.type
        data["typeVersion"] = node.type_version
    sources = [(c.source, c.output) for c in inputs]
    if sources and sources != [(previous, 0)]:
        written = [name if out == 0 else {"step": name, "output": out} for name, out in sources]
        data["input"] = written[0] if len(written) == 1 else written
    # continueOnFail is the setting onError replaced: n8n reads it only when onError is absent.
    on_error = node.on_error or ("continueRegularOutput" if node.continue_on_fail else None)
    if on_error not in (None, "stopWorkflow") and not step.disabled:
        data["onError"] = on_error
    data["parameters"] = {} if step.disabled else dict(node.parameters)
    return data


def _check_graph(
    workflow: Workflow,
    data: Mapping[str, Any],
    catalog: NodeCatalog,
    outputs_of: Callable[[str], int] | None,
) -> None:
    """The pipeline's graph must resolve: the same check a pipeline file goes through."""
    declared = [
        DeclaredStep(
            name=step["name"],
            node=step["node"],
            input=step.get("input"),
            error_output=step.get("onError") == "continueErrorOutput",
        )
        for step in data["steps"]
    ]
    try:
        resolve_graph(
            declared,
            source=workflow.source,
            is_trigger=catalog.triggers.__contains__,
            outputs_of=outputs_of,
        )
    except PipelineError as exc:
        raise WorkflowError(workflow.source, exc.problems) from None


def _setting_notices(settings: Mapping[str, Any]) -> list[str]:
    notices: list[str] = []
    for key, value in settings.items():
        if key == "timezone" and value not in (None, "", "DEFAULT"):
            notices.append(
                f"settings.timezone is '{value}': the Schedule Trigger's rules use it; $now and "
                "$today use this machine's time zone"
            )
            continue
        if key in _QUIET_SETTINGS or key in CARRIED_SETTINGS or value in (None, "", -1):
            continue
        if key == "errorWorkflow":
            notices.append("settings.errorWorkflow: no error workflow runs when this run fails")
        elif key == "executionTimeout":
            notices.append(f"settings.executionTimeout ({value} s) is not applied")
        else:
            notices.append(f"settings.{key} is not applied by this runtime")
    return notices


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as the example pipelines are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:  # noqa: ARG002
        # PyYAML writes a block list flush with its key ("steps:" then "- name:"); indent it.
        super().increase_indent(flow, indentless=False)


def pipeline_yaml(conversion: Conversion, *, source: str) -> str:
    """The pipeline as YAML text, headed by where it came from."""
    body = yaml.dump(
        conversion.data,
        Dumper=_IndentedDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1000,  # long messages stay on one line
    )
    return f"# Converted from the n8n workflow {source} by plivo-node convert.\n{body}"


__all__ = [
    "Conversion",
    "NodeCatalog",
    "convert_workflow",
    "pipeline_yaml",
]
