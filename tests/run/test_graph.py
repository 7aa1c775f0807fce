"""Pipelines as graphs: ``input`` on steps, the resolved graph, and every way it can be wrong."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from plivo_node.core.errors import PipelineError
from plivo_node.run.graph import DeclaredStep, Edge, Graph, Lane, linear_graph, resolve_graph
from plivo_node.run.pipeline import build_steps, parse_pipeline

OUTPUTS = {"if": 2, "noOp": 1, "plivo": 1, "manualTrigger": 1, "set": 1}


def step(name: str, node: str = "noOp", input: Any = None, **extra: Any) -> DeclaredStep:
    return DeclaredStep(name, node, input, **extra)


def resolve(*steps: DeclaredStep, outputs: bool = False) -> Graph:
    return resolve_graph(
        steps,
        source="p.yaml",
        is_trigger=lambda node: node == "manualTrigger",
        outputs_of=OUTPUTS.__getitem__ if outputs else None,
    )


def problems_of(*steps: DeclaredStep, outputs: bool = True) -> list[str]:
    with pytest.raises(PipelineError) as caught:
        resolve(*steps, outputs=outputs)
    assert "Traceback" not in str(caught.value)
    return caught.value.problems


def order(graph: Graph) -> list[str]:
    return [s.name for s in graph.steps]


def test_without_input_a_pipeline_is_the_straight_line_it_always_was() -> None:
    graph = resolve(step("A"), step("B"), step("C"))
    assert graph.is_linear
    assert order(graph) == ["A", "B", "C"]
    assert [s.inputs for s in graph.steps] == [(), (Edge("A"),), (Edge("B"),)]
    assert graph.roots == ("A",)
    assert graph.terminal == ("C",)
    assert graph.is_upstream("A", "C")
    assert not graph.is_upstream("C", "A")


def test_the_three_forms_of_input_and_an_output_feeding_several_steps() -> None:
    graph = resolve(
        step("Trigger", "manualTrigger"),
        step("Opted in?", "if"),
        step("Send", "plivo"),  # default: the previous step's main output (If's true branch)
        step("Skip", input={"step": "Opted in?", "output": 1}),
        step("Log", input="Opted in?"),
        step("Both", input=["Send", {"step": "Skip", "output": 0}]),
        outputs=True,
    )
    assert not graph.is_linear
    assert order(graph) == ["Trigger", "Opted in?", "Send", "Skip", "Log", "Both"]
    inputs = {s.name: s.inputs for s in graph.steps}
    assert inputs["Send"] == (Edge("Opted in?", 0),)
    assert inputs["Skip"] == (Edge("Opted in?", 1),)
    assert inputs["Log"] == (Edge("Opted in?", 0),)
    assert inputs["Both"] == (Edge("Send"), Edge("Skip"))
    assert graph.successors["Opted in?"] == (("Send", 0), ("Skip", 1), ("Log", 0))
    assert graph.terminal == ("Log", "Both")
    assert graph.roots == ("Trigger",)
    assert graph.is_upstream("Trigger", "Both")
    assert not graph.is_upstream("Log", "Both")  # a sibling branch


def test_the_run_order_puts_sources_first_and_otherwise_keeps_the_file_order() -> None:
    graph = resolve(
        step("Late", input="Middle"),
        step("First"),  # no input, but not the first step: reads 'Late', the step before it
        step("Other", input="Start"),
        step("Start", "manualTrigger"),
        step("Middle", input="Start"),
    )
    assert order(graph) == ["Start", "Other", "Middle", "Late", "First"]
    assert graph.step("First").inputs == (Edge("Late"),)
    assert graph.step("Start").inputs == ()  # a trigger gets no default input
    assert [graph.run_index(name) for name in ("Start", "First")] == [0, 4]


def test_unknown_and_self_references_name_the_step_and_the_fix() -> None:
    assert problems_of(step("Send"), step("Skip", input=["Sendd", "Skip"])) == [
        "step 'Skip': input: there is no step named 'Sendd'; did you mean 'Send'?",
        "step 'Skip': input: a step cannot read its own output; name the step its items come from",
    ]


def test_a_cycle_is_named_in_the_direction_items_flow() -> None:
    [problem] = problems_of(
        step("Start", "manualTrigger"),
        step("A", input=["Start", "C"]),
        step("B", input="A"),
        step("C", input="B"),
        step("After", input="C"),  # stuck behind the cycle, not a cycle of its own
    )
    assert problem == (
        "steps 'A' → 'B' → 'C' → 'A' form a cycle: a step's items cannot come from its own "
        "output, even through other steps; remove one of these inputs"
    )


def test_two_separate_cycles_are_both_reported() -> None:
    problems = problems_of(
        step("A", input="B"), step("B", input="A"), step("C", input="D"), step("D", input="C")
    )
    assert [p.split(" form")[0] for p in problems] == [
        "steps 'A' → 'B' → 'A'",
        "steps 'C' → 'D' → 'C'",
    ]


def test_output_indexes_are_checked_against_the_node_types_outputs() -> None:
    problems = problems_of(
        step("Check", "if"),
        step("Neg", input={"step": "Check", "output": -1}),
        step("Third", input={"step": "Check", "output": 2}),
        step("Error", input={"step": "Neg", "output": 1}),
    )
    error_output_hint = "; an error output exists only with onError: continueErrorOutput"
    assert problems == [
        (
            "step 'Neg': input: output -1 of 'Check' does not exist; outputs are numbered from 0 "
            "(an If step's are 0 true, 1 false)"
        ),
        (
            "step 'Third': input: 'Check' has 2 outputs (0 to 1; node type 'if'), so there is "
            "no output 2" + error_output_hint
        ),
        (
            "step 'Error': input: 'Neg' has 1 output (0; node type 'noOp'), so there is no "
            "output 1" + error_output_hint
        ),
    ]


def test_an_error_output_comes_after_the_node_types_own_outputs() -> None:
    graph = resolve(
        step("Send", "plivo", error_output=True),
        step("Failed", input={"step": "Send", "output": 1}),
        outputs=True,
    )
    assert graph.step("Failed").inputs == (Edge("Send", 1),)
    [problem] = problems_of(
        step("Send", "plivo", error_output=True), step("X", input={"step": "Send", "output": 2})
    )
    assert problem == (
        "step 'X': input: 'Send' has 2 outputs (0 to 1; node type 'plivo'), so there is no output 2"
    )


def test_a_trigger_takes_no_input_and_a_source_is_listed_once() -> None:
    assert problems_of(
        step("A"), step("Start", "manualTrigger", input="A"), step("B", input=["A", "A"])
    ) == [
        (
            "step 'Start': input: 'manualTrigger' is a trigger: it starts the run and takes no "
            "input; remove input"
        ),
        "step 'B': input: 'A' is listed twice; list it once",
    ]


def test_deep_graphs_resolve_without_recursion_and_in_near_linear_time() -> None:
    count = 20_000
    # Written last step first: every step must be moved, through the heap.
    reversed_chain = [step(f"s{n}", input=f"s{n - 1}" if n else None) for n in range(count)][::-1]
    reversed_chain[-1] = step("s0", "manualTrigger")
    started = time.perf_counter()
    graph = resolve(*reversed_chain)
    assert order(graph)[:3] == ["s0", "s1", "s2"]
    assert graph.is_upstream("s0", f"s{count - 1}")
    [cycle] = problems_of(*[step(f"c{n}", input=f"c{(n - 1) % count}") for n in range(count)])
    assert cycle.startswith("steps 'c0' → 'c1' → 'c2'")
    assert time.perf_counter() - started < 5


# --- in pipeline files --------------------------------------------------------------------------

SMS = "{from: '+14155550100', to: '+14155550101', message: hi}"


def pipeline(steps: str) -> str:
    return f"version: 1\nsteps:\n{steps}"


def parse(text: str) -> Any:
    return parse_pipeline(text, source="p.yaml", base_dir=Path())


def test_a_pipeline_file_declares_inputs_and_type_versions() -> None:
    spec = parse(
        pipeline(
            f"  - {{name: A, node: plivo, typeVersion: 1, onError: continueErrorOutput, "
            f"parameters: {SMS}}}\n"
            f"  - {{name: Failed, node: plivo, input: {{step: A, output: 1}}, parameters: {SMS}}}\n"
            f"  - {{name: B, node: plivo, input: [A], parameters: {SMS}}}\n"
        )
    )
    assert spec.steps[0].type_version == 1
    assert spec.steps[1].type_version is None
    assert [s.inputs for s in spec.graph.steps] == [(), (Edge("A", 1),), (Edge("A"),)]
    assert spec.graph.step("A").error_output
    assert spec.graph.terminal == ("Failed", "B")


def test_graph_problems_of_a_file_are_reported_with_the_file() -> None:
    with pytest.raises(PipelineError) as caught:
        parse(
            pipeline(
                f"  - {{name: A, node: plivo, input: B, parameters: {SMS}}}\n"
                f"  - {{name: B, node: plivo, parameters: {SMS}}}\n"
            )
        )
    assert str(caught.value).startswith("p.yaml: 1 problem:\n  - steps 'A' → 'B' → 'A' form")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("{step: A, outptu: 1}", "steps[1].input: matches no accepted form"),
        ("[]", "steps[1].input: matches no accepted form"),
        ("{step: A, output: first}", "steps[1].input: matches no accepted form"),
        ("7", "steps[1].input: matches no accepted form"),
    ],
)
def test_the_shape_of_input_is_checked_by_the_schema(value: str, problem: str) -> None:
    text = pipeline(
        f"  - {{name: A, node: plivo, parameters: {SMS}}}\n"
        f"  - {{name: B, node: plivo, input: {value}, parameters: {SMS}}}\n"
    )
    with pytest.raises(PipelineError) as caught:
        parse(text)
    [found] = caught.value.problems
    assert found.startswith(problem)


def test_an_input_equal_to_the_default_keeps_the_line() -> None:
    spec = parse(
        pipeline(
            f"  - {{name: A, node: plivo, parameters: {SMS}}}\n"
            f"  - {{name: B, node: plivo, input: A, parameters: {SMS}}}\n"
        )
    )
    assert spec.graph.is_linear
    assert len(build_steps(spec)) == 2


def test_step_references_must_come_from_upstream_in_a_graph() -> None:
    reads = "message: \"={{ $('B').item.json.message_uuid }} {{ $('A').item.json.api_id }}\""
    spec = parse(
        pipeline(
            f"  - {{name: A, node: plivo, parameters: {SMS}}}\n"
            f"  - {{name: B, node: plivo, parameters: {SMS}}}\n"
            f"  - name: C\n    node: plivo\n    input: A\n    parameters: "
            f"{{from: '+14155550100', to: '+14155550101', {reads}}}\n"
        )
    )
    with pytest.raises(PipelineError) as caught:
        build_steps(spec)
    problems = caught.value.problems
    # 'A' feeds C: fine. 'B' is on another branch.
    assert problems[0] == (
        "step 'C': parameters.message: $('B'): 'B' does not feed this step, directly or through "
        "other steps; a step reads only the steps its input comes from: read one of those, or "
        "make 'B' part of this step's input"
    )


def test_a_graph_with_an_error_branch_builds_and_has_its_lanes() -> None:
    spec = parse(
        pipeline(
            f"  - {{name: A, node: plivo, onError: continueErrorOutput, parameters: {SMS}}}\n"
            f"  - {{name: B, node: plivo, parameters: {SMS}}}\n"
            f"  - {{name: Failed, node: plivo, input: {{step: A, output: 1}}, parameters: {SMS}}}\n"
        )
    )
    assert [step.name for step in build_steps(spec)] == ["A", "B", "Failed"]
    assert spec.graph.terminal == ("B", "Failed")
    assert spec.graph.lanes == (Lane(0, "A", None), Lane(1, "B", 0, 0), Lane(2, "Failed", 0, 1))


def test_a_straight_line_has_one_lane_per_step_numbered_as_the_steps() -> None:
    graph = linear_graph(["A", "B", "C"])
    assert graph.lanes == (Lane(0, "A", None), Lane(1, "B", 0), Lane(2, "C", 1))


def test_a_step_with_several_inputs_runs_once_per_lane_of_each_input() -> None:
    """n8n runs a node once per incoming connection's data: a diamond's join has two lanes,
    and a step after it two more (one per run of the join), numbered by the graph alone."""
    graph = resolve(
        step("A"),
        step("B", input="A"),
        step("C", input="A"),
        step("D", input=["B", "C"]),
        step("E"),
    )
    assert graph.lanes == (
        Lane(0, "A", None),
        Lane(1, "B", 0),
        Lane(2, "C", 0),
        Lane(3, "D", 1),
        Lane(4, "D", 2),
        Lane(5, "E", 3),
        Lane(6, "E", 4),
    )


def test_several_roots_each_have_a_lane_of_the_input_items() -> None:
    graph = resolve(step("A"), step("B", "manualTrigger"), step("C", input=["A", "B"]))
    assert [lane.source for lane in graph.lanes] == [None, None, 0, 1]


def test_loading_checks_output_indexes_against_the_registered_node_types() -> None:
    with pytest.raises(PipelineError) as caught:
        parse(
            pipeline(
                f"  - {{name: A, node: plivo, parameters: {SMS}}}\n"
                f"  - {{name: B, node: plivo, input: {{step: A, output: 1}}, parameters: {SMS}}}\n"
            )
        )
    assert caught.value.problems == [
        (
            "step 'B': input: 'A' has 1 output (0; node type 'plivo'), so there is no output 1; "
            "an error output exists only with onError: continueErrorOutput"
        )
    ]
