"""A pipeline's steps as a graph: which step's items each step reads, and in what order they run.

A step may say where its input comes from with ``input``; without it, a step reads the main
output (output 0) of the step before it in the file, and the first step reads the run's input
items. A trigger step (a node type that starts a run, such as ``manualTrigger``) takes no input
at all: it is never given a default one, and an explicit ``input`` on it is an error.

    input: Opted in?                       # a step name: its output 0
    input: {step: Opted in?, output: 1}    # another output (If: 0 true, 1 false)
    input: [A, {step: B, output: 1}]       # several sources: run once on each one's items

:func:`resolve_graph` checks the declarations (unknown steps, a step feeding itself, cycles,
output indexes, inputs on triggers) and returns a :class:`Graph`: the steps in an order where
every step comes after the steps it reads (the file's order wherever the file allows it), each
with its edges, and the lanes the executor runs (:attr:`Graph.lanes`: a step with several
inputs runs once per input, as n8n does, never on the inputs merged into one batch). A file
without any ``input`` is the straight line it always was: :attr:`Graph.is_linear`.

How many outputs a node type has is not known here (it is the node type's business), so the
upper bound of output indexes is checked by :func:`output_problems` when a caller can say
(``outputs_of``). A step with ``onError: continueErrorOutput`` has one more output, after its
node type's own: its error output, as in n8n.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from plivo_node.core.errors import PipelineError
from plivo_node.core.words import did_you_mean

MAIN_OUTPUT = 0


@dataclass(frozen=True)
class Edge:
    """Items flow from ``source``'s output ``output`` into the step that has this edge."""

    source: str
    output: int = MAIN_OUTPUT


@dataclass(frozen=True)
class DeclaredStep:
    """A step as the file declares it: what graph resolution needs of it.

    ``input`` is the raw ``input`` value (already of the schema's shape), or None when the
    step has none. ``error_output`` is True when the step has an error output after its node
    type's outputs (``onError: continueErrorOutput``).
    """

    name: str
    node: str
    input: Any = None
    error_output: bool = False


@dataclass(frozen=True)
class GraphStep:
    """One step of a resolved graph.

    ``inputs`` are the edges it reads, in the order written; empty for a step that reads the
    run's input items (the first step of a file, a trigger). ``position`` is its index in the
    file (0-based).
    """

    name: str
    node: str
    inputs: tuple[Edge, ...]
    position: int
    error_output: bool = False


@dataclass(frozen=True)
class Lane:
    """One stream of items a step runs over, with its own item positions from 0.

    ``source`` is the lane whose step's output ``output`` feeds it, or None for a root step's
    lane (the run's input items). Lane numbers are fixed by the graph, never by timing, so
    ``(lane, position)`` names an item deterministically: that is the journal's key.
    """

    number: int
    step: str
    source: int | None
    output: int = MAIN_OUTPUT


@dataclass(frozen=True)
class Graph:
    """The resolved graph: :attr:`steps` in run order, every step after the steps it reads."""

    steps: tuple[GraphStep, ...]
    _by_name: dict[str, GraphStep] = field(init=False, repr=False, compare=False)
    _order: dict[str, int] = field(init=False, repr=False, compare=False)
    _ancestors_of: dict[str, frozenset[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {step.name: step for step in self.steps})
        object.__setattr__(self, "_order", {step.name: i for i, step in enumerate(self.steps)})

    def step(self, name: str) -> GraphStep:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def run_index(self, name: str) -> int:
        """The step's place in :attr:`steps` (0-based)."""
        return self._order[name]

    @cached_property
    def successors(self) -> Mapping[str, tuple[tuple[str, int], ...]]:
        """Step name → the ``(target step, source output)`` pairs its outputs feed, in run order."""
        found: dict[str, list[tuple[str, int]]] = {step.name: [] for step in self.steps}
        for step in self.steps:
            for edge in step.inputs:
                found[edge.source].append((step.name, edge.output))
        return {name: tuple(targets) for name, targets in found.items()}

    @cached_property
    def terminal(self) -> tuple[str, ...]:
        """The steps no step reads, in run order: their items go to the output file."""
        return tuple(step.name for step in self.steps if not self.successors[step.name])

    @cached_property
    def roots(self) -> tuple[str, ...]:
        """The steps that read the run's input items (no input edges), in run order."""
        return tuple(step.name for step in self.steps if not step.inputs)

    @cached_property
    def lanes(self) -> tuple[Lane, ...]:
        """Every lane of the run, numbered in run order (see :class:`Lane`).

        A root step has one lane, the run's input items. A step with input edges has one
        lane per edge and per lane of that edge's source step, in the order the edges are
        written: n8n runs a node once per incoming connection's data, and each such run's
        output is its own data for the steps after it. A straight line therefore has exactly
        one lane per step, numbered as its steps (what the journal of a linear run keys on).
        """
        found: list[Lane] = []
        of_step: dict[str, list[int]] = {}
        for step in self.steps:
            numbers = of_step[step.name] = []
            sources: list[tuple[Edge | None, int | None]] = [
                (edge, lane) for edge in step.inputs for lane in of_step[edge.source]
            ]
            for edge, lane in sources or [(None, None)]:
                numbers.append(len(found))
                output = edge.output if edge is not None else MAIN_OUTPUT
                found.append(Lane(len(found), step.name, lane, output))
        return tuple(found)

    @cached_property
    def is_linear(self) -> bool:
        """Whether this is the straight line of a file without ``input``: file order, each step
        reading the main output of the one before it."""
        return all(
            step.position == index
            and step.inputs == ((Edge(self.steps[index - 1].name),) if index else ())
            for index, step in enumerate(self.steps)
        )

    def is_upstream(self, source: str, target: str) -> bool:
        """Whether ``source``'s items reach ``target``, directly or through other steps."""
        if self.is_linear:
            return self._order[source] < self._order[target]
        return source in self._ancestors(target)

    def _ancestors(self, name: str) -> frozenset[str]:
        # Computed per step when asked (a $('Step') check), so a large graph costs nothing
        # unless it is queried; each walk is linear in the size of the graph.
        cache = self._ancestors_of
        if name not in cache:
            seen: set[str] = set()
            stack = [edge.source for edge in self._by_name[name].inputs]
            while stack:
                current = stack.pop()
                if current not in seen:
                    seen.add(current)
                    stack.extend(edge.source for edge in self._by_name[current].inputs)
            cache[name] = frozenset(seen)
        return cache[name]


def parse_input(raw: Any) -> tuple[Edge, ...]:
    """The edges of a schema-valid ``input`` value: a name, ``{step, output}``, or a list."""
    entries = raw if isinstance(raw, list) else [raw]
    return tuple(
        Edge(entry) if isinstance(entry, str) else Edge(entry["step"], entry.get("output", 0))
        for entry in entries
    )


def _describe(edge: Edge) -> str:
    return (
        f"'{edge.source}'"
        if edge.output == MAIN_OUTPUT
        else f"'{edge.source}' output {edge.output}"
    )


def _unknown(name: str, known: Iterable[str]) -> str:
    return f"there is no step named '{name}'{did_you_mean(name, known)}"


def resolve_graph(
    declared: Sequence[DeclaredStep],
    *,
    source: str,
    is_trigger: Callable[[str], bool] | None = None,
    outputs_of: Callable[[str], int] | None = None,
) -> Graph:
    """The graph of ``declared`` (file order, names unique), or :class:`PipelineError` listing
    every problem, each naming its step and the fix.

    ``is_trigger(node)`` says which node types start a run and take no input (none, when not
    given); ``outputs_of(node)`` how many outputs a node type has, to check output indexes
    against (see :func:`output_problems`; only that they are not negative, when not given).
    """
    names = {step.name for step in declared}
    problems: list[str] = []
    inputs: list[tuple[Edge, ...]] = []
    for position, step in enumerate(declared):
        where = f"step '{step.name}': input"
        trigger = is_trigger is not None and is_trigger(step.node)
        if step.input is None:
            default = () if trigger or position == 0 else (Edge(declared[position - 1].name),)
            inputs.append(default)
            continue
        if trigger:
            problems.append(
                f"{where}: '{step.node}' is a trigger: it starts the run and takes no input; "
                "remove input"
            )
            inputs.append(())
            continue
        edges: list[Edge] = []
        for edge in parse_input(step.input):
            if edge.source == step.name:
                problems.append(
                    f"{where}: a step cannot read its own output; name the step its items come from"
                )
            elif edge.source not in names:
                problems.append(f"{where}: {_unknown(edge.source, names)}")
            elif edge.output < 0:
                problems.append(
                    f"{where}: output {edge.output} of '{edge.source}' does not exist; outputs "
                    "are numbered from 0 (an If step's are 0 true, 1 false)"
                )
            elif edge in edges:
                problems.append(f"{where}: {_describe(edge)} is listed twice; list it once")
            else:
                edges.append(edge)
        inputs.append(tuple(edges))
    steps = [
        GraphStep(step.name, step.node, edges, position, step.error_output)
        for position, (step, edges) in enumerate(zip(declared, inputs, strict=True))
    ]
    ordered, cycles = _topological(steps)
    problems.extend(
        "steps " + " → ".join(f"'{name}'" for name in (*cycle, cycle[0])) + " form a cycle: a "
        "step's items cannot come from its own output, even through other steps; remove one "
        "of these inputs"
        for cycle in cycles
    )
    graph = Graph(tuple(ordered)) if not cycles else None
    if graph is not None and outputs_of is not None:
        problems.extend(output_problems(graph, outputs_of))
    if problems or graph is None:
        raise PipelineError(source, problems)
    return graph


def output_problems(graph: Graph, outputs_of: Callable[[str], int]) -> list[str]:
    """Edges that read an output their source step does not have.

    ``outputs_of(node)`` is the node type's number of outputs; a step with an error output has
    one more.
    """
    problems: list[str] = []
    for step in graph.steps:
        for edge in step.inputs:
            source = graph.step(edge.source)
            count = outputs_of(source.node) + (1 if source.error_output else 0)
            if edge.output < count:
                continue
            numbers = "0" if count == 1 else f"0 to {count - 1}"
            noun = "output" if count == 1 else "outputs"
            hint = (
                "; an error output exists only with onError: continueErrorOutput"
                if edge.output == count and not source.error_output
                else ""
            )
            problems.append(
                f"step '{step.name}': input: '{edge.source}' has {count} {noun} ({numbers}; node "
                f"type '{source.node}'), so there is no output {edge.output}{hint}"
            )
    return problems


def _topological(steps: Sequence[GraphStep]) -> tuple[list[GraphStep], list[tuple[str, ...]]]:
    """The steps in an order where each comes after its sources, taking the earliest step in
    the file whenever several could come next (so a file already in order keeps it); and the
    cycles that keep the rest from being ordered."""
    by_name = {step.name: step for step in steps}
    waiting = {step.name: len({edge.source for edge in step.inputs}) for step in steps}
    readers: dict[str, list[str]] = {step.name: [] for step in steps}
    for step in steps:
        for source in dict.fromkeys(edge.source for edge in step.inputs):
            readers[source].append(step.name)
    ready = [step.position for step in steps if waiting[step.name] == 0]
    heapq.heapify(ready)
    ordered: list[GraphStep] = []
    while ready:
        step = steps[heapq.heappop(ready)]
        ordered.append(step)
        for reader in readers[step.name]:
            waiting[reader] -= 1
            if waiting[reader] == 0:
                heapq.heappush(ready, by_name[reader].position)
    if len(ordered) == len(steps):
        return ordered, []
    return ordered, _cycles(steps, {name for name, count in waiting.items() if count > 0})


def _cycles(steps: Sequence[GraphStep], stuck: set[str]) -> list[tuple[str, ...]]:
    """One cycle through each group of steps that could not be ordered, in file order.

    Every stuck step reads at least one other stuck step, so walking back along inputs among
    them must come round to a step already walked: that loop is a cycle.
    """
    by_name = {step.name: step for step in steps}
    in_cycle: set[str] = set()
    cycles: list[tuple[str, ...]] = []
    for step in steps:
        if step.name not in stuck or step.name in in_cycle:
            continue
        walk: list[str] = []
        seen: dict[str, int] = {}
        current = step.name
        while current not in seen and current not in in_cycle:
            seen[current] = len(walk)
            walk.append(current)
            current = next(e.source for e in by_name[current].inputs if e.source in stuck)
        if current in in_cycle:
            continue  # downstream of a cycle already reported, not a cycle of its own
        loop = walk[seen[current] :]
        loop.reverse()  # walked backwards along inputs: reverse to read in the flow's direction
        start = min(range(len(loop)), key=lambda i: by_name[loop[i]].position)
        cycles.append(tuple(loop[start:] + loop[:start]))
        in_cycle.update(loop)
    return cycles


def linear_graph(names: Sequence[str]) -> Graph:
    """The straight line through ``names`` (unique), each step reading the one before it."""
    return Graph(
        tuple(
            GraphStep(name, "", (Edge(names[i - 1]),) if i else (), i)
            for i, name in enumerate(names)
        )
    )


__all__ = [
    "MAIN_OUTPUT",
    "DeclaredStep",
    "Edge",
    "Graph",
    "GraphStep",
    "Lane",
    "linear_graph",
    "output_problems",
    "parse_input",
    "resolve_graph",
]
