"""The static-check pass: what it finds in expressions, and that its work grows linearly."""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from plivo_node.core.errors import ConfigurationError, PipelineError
from plivo_node.run.pipeline import (
    build_steps,
    check_pipeline_input,
    parse_pipeline,
    repeated_names,
)
from plivo_node.run.pipeline_checks import StepView, step_problems
from plivo_node.run.registry import NodeRegistry


def steps_yaml(count: int) -> str:
    """``count`` SMS steps, each after the first reading the one before it."""
    step = (
        "  - name: s{n}\n    node: plivo\n    parameters:\n      resource: sms\n"
        "      operation: send\n      from: '+14155550100'\n"
        '      to: "={{{{ $json.phone }}}}"\n      message: "=Hi {{{{ {read} }}}}"\n'
    )
    return "version: 1\nsteps:\n" + "".join(
        step.format(n=n, read=f"$('s{n - 1}').item.json.x" if n else "$json.name")
        for n in range(count)
    )


def view(name: str, **parameters: Any) -> StepView:
    return StepView(name, ("sms", "send"), parameters)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("={{ $('B').item.json.x }}", "$('B'): 'B' is step 2, after this one (step 1)"),
        ('={{ $node["B"].json.x }}', "$node[\"B\"]: 'B' is step 2"),
        ("={{ $node.B.json.x }}", "$node[\"B\"]: 'B' is step 2"),
        ('=a {{ 1 }} b {{ $("Nope").item.json.x }}', "there is no step named 'Nope'"),
        ("={{ $('A').item.json.x }}", "'A' is this step itself"),
        ("={{ $('Bx') }}", "there is no step named 'Bx'; did you mean 'B'?"),
    ],
)
def test_step_references_that_cannot_be_read(source: str, problem: str) -> None:
    [found] = step_problems([view("A", message=source), view("B")])
    assert found.startswith("step 'A': parameters.message: ")
    assert problem in found


@pytest.mark.parametrize(
    "source",
    [
        "={{ $('A').item.json.x }}",  # an earlier step
        "={{ $($json.step).item.json.x }}",  # a name computed per item: not judged
        "={{ '$(\"Nope\")' }}",  # inside a string: not a reference
        "={{ $json.a ",  # does not parse: the resolver reports it, with its position
    ],
)
def test_what_is_not_a_wrong_reference(source: str) -> None:
    assert step_problems([view("A"), view("B", message=source)]) == []


@pytest.mark.parametrize(
    ("value", "flagged"),
    [("Hi {{ $json.name }}", True), ("{{x}}", True), ("a {{ b", False), ("}} {{", False)],
)
def test_a_template_needs_its_equals_sign(value: str, flagged: bool) -> None:
    problems = step_problems([view("A", additionalFields={"dlt_entity_id": value})])
    assert bool(problems) is flagged
    if flagged:
        assert problems[0].startswith("step 'A': parameters.additionalFields.dlt_entity_id: ")
        assert "start the value with =" in problems[0]


def test_the_csv_header_is_read_from_the_input_the_run_reads(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("\ufeffphone,name\n+14155550101,A\n", encoding="utf-8")
    (tmp_path / "in.jsonl").write_text("{}\n", encoding="utf-8")
    spec = parse_pipeline(
        steps_yaml(1).replace("$json.name", "$json?.name + $json['nam']"),
        source="p.yaml",
        base_dir=tmp_path,
    )
    [warning] = check_pipeline_input(spec, tmp_path / "in.csv", None)
    assert "reads $json.nam, but in.csv has no column 'nam' (its columns: phone, name)" in warning
    assert check_pipeline_input(spec, tmp_path / "in.jsonl", None) == []  # no header to check
    assert check_pipeline_input(spec, Path("-"), "csv") == []  # stdin: not read ahead
    with pytest.raises(ConfigurationError, match=r"gone\.csv does not exist"):
        check_pipeline_input(spec, tmp_path / "gone.csv", None)


def test_repeated_step_names_are_found_in_one_pass() -> None:
    """names.count() per step compared every name with every other: 49 s for 20,000 steps."""
    comparisons = 0

    class Name(str):
        __slots__ = ()

        def __eq__(self, other: object) -> bool:
            nonlocal comparisons
            comparisons += 1
            return str.__eq__(self, other)

        __hash__ = str.__hash__

    names = [Name(f"step {n}") for n in range(4000)] + [Name("step 7")]
    assert repeated_names(names) == ["step 7"]
    assert comparisons < 100  # quadratic: 16 million


def _calls_to_build(count: int) -> int:
    """Python function calls made to parse, build and check a pipeline of ``count`` steps."""
    registry = NodeRegistry()
    registry.get("plivo")  # loaded before counting: the description is loaded once per process
    text = steps_yaml(count)
    calls = 0

    def profiler(_frame: FrameType, event: str, _arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(profiler)
    try:
        spec = parse_pipeline(text, source="p.yaml", base_dir=Path())
        build_steps(spec, registry)
    finally:
        sys.setprofile(None)
    return calls


def test_validation_work_grows_linearly_with_the_number_of_steps() -> None:
    """Counted work, not time: four times the steps may cost at most ~four times the calls."""
    _calls_to_build(5)  # warm the caches (manifest, compiled expressions)
    small, large = _calls_to_build(50), _calls_to_build(200)
    assert large <= 4.4 * small, (small, large)


def test_problems_of_every_step_are_reported_together() -> None:
    text = steps_yaml(2).replace("'+14155550100'", "'+1 bad'")
    with pytest.raises(PipelineError) as caught:
        build_steps(parse_pipeline(text, source="p.yaml", base_dir=Path()))
    assert [p.split(":")[0] for p in caught.value.problems] == ["step 's0'", "step 's1'"]
    assert all("parameters.from: '+1 bad'" in p for p in caught.value.problems)
