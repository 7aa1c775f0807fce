"""The static-check pass: what can be known about a pipeline before anything is sent.

``validate`` and ``run`` both go through it (the step checks from
:func:`plivo_node.run.pipeline.build_steps`, the input checks from :func:`check_input`), so a
mistake that would otherwise surface only after earlier steps had created resources is
reported up front, each naming the step, the parameter and the fix:

- ``$('Step')`` / ``$node["Step"]`` naming a step that does not exist, the step itself, or one
  whose items do not reach it (a later one; in a graph, one on another branch);
- ``{{ … }}`` in a value that does not start with ``=`` (it would be sent literally);
- constant values the step's node type checks itself (its ``check_constants`` hook: phone
  numbers, URLs and ids checked with the validators its handlers use at run time);
- a missing input file (an error), and ``$json.field`` of the first step that the CSV input's
  header does not have (a warning: the field may be meant to be empty).

Every check is one walk over each step's parameters, with step names looked up in a dict, so
the pass is linear in the size of the pipeline.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.node import ConstantCheck, OperationKey
from plivo_node.core.words import did_you_mean
from plivo_node.expressions import is_expression
from plivo_node.expressions.template import split_template
from plivo_node.expressions.tokens import SyntaxProblemError, Token, decode_string, tokenize
from plivo_node.run.graph import Graph, linear_graph
from plivo_node.run.item_io import is_stdio, resolve_format

# --- walking a step's parameters ------------------------------------------------------------------


def parameter_values(parameters: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) of a step's parameters, collections' fields included."""
    for name, value in parameters.items():
        path = f"{prefix}{name}"
        if isinstance(value, Mapping):
            yield from parameter_values(value, f"{path}.")
        elif isinstance(value, list | tuple):
            for index, entry in enumerate(value):
                if isinstance(entry, Mapping):
                    yield from parameter_values(entry, f"{path}[{index}].")
                else:
                    yield f"{path}[{index}]", entry
        else:
            yield path, value


# --- what an expression reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Reads:
    steps: tuple[tuple[str, str], ...]  # (name, as written): $('…') and $node[…]
    fields: tuple[str, ...]  # $json.<field> of the current item


def _is(token: Token, text: str) -> bool:
    return token.kind == "punct" and token.text == text


def _key_at(tokens: Sequence[Token], index: int) -> str | None:
    """The key read at ``tokens[index]``: ``.name``, ``?.name`` or ``["name"]``; else None."""
    if index + 1 >= len(tokens):
        return None
    first, second = tokens[index], tokens[index + 1]
    if first.kind == "punct" and first.text in (".", "?.") and second.kind == "name":
        return second.text
    if (
        _is(first, "[")
        and second.kind == "string"
        and index + 2 < len(tokens)
        and _is(tokens[index + 2], "]")
    ):
        return decode_string(second.text, second.position)
    return None


def _reads(source: str) -> _Reads:
    """The steps and item fields an ``=…`` value reads (nothing when it does not parse)."""
    steps: list[tuple[str, str]] = []
    fields: list[str] = []
    try:
        _, segments = split_template(source[1:])
        for segment, _offset in segments:
            tokens = tokenize(segment)
            for index, token in enumerate(tokens):
                if token.kind != "name":
                    continue
                after = tokens[index + 1 : index + 4]
                if (
                    token.text == "$"
                    and len(after) == 3
                    and _is(after[0], "(")
                    and after[1].kind == "string"
                    and _is(after[2], ")")
                ):
                    name = decode_string(after[1].text, after[1].position)
                    steps.append((name, f"$('{name}')"))
                elif token.text == "$node" and (key := _key_at(tokens, index + 1)) is not None:
                    steps.append((key, f'$node["{key}"]'))
                elif token.text == "$json" and (key := _key_at(tokens, index + 1)) is not None:
                    fields.append(key)
    except SyntaxProblemError:
        pass  # the resolver reports the syntax problem itself, with its position
    return _Reads(tuple(steps), tuple(fields))


def looks_like_template(value: str) -> bool:
    """A literal with ``{{ … }}`` in it: an expression missing its leading ``=``."""
    start = value.find("{{")
    return start != -1 and value.find("}}", start + 2) != -1


# --- the step checks ------------------------------------------------------------------------------


def _reference_problem(name: str, reader: str, graph: Graph) -> str | None:
    """Why ``$('name')`` cannot be read by the step ``reader``, or None when it can: a step
    reads only the steps whose items reach it (in a straight line, the steps before it)."""
    if name not in graph:
        guess = did_you_mean(name, [step.name for step in graph.steps])
        return f"there is no step named '{name}'{guess}"
    if name == reader:
        return f"'{name}' is this step itself; a step reads only the steps before it"
    if graph.is_upstream(name, reader):
        return None
    if graph.is_linear:
        at, position = graph.step(name).position, graph.step(reader).position
        return (
            f"'{name}' is step {at + 1}, after this one (step {position + 1}); a step reads "
            f"only the steps before it: move '{name}' up, or read a step that runs earlier"
        )
    return (
        f"'{name}' does not feed this step, directly or through other steps; a step reads only "
        f"the steps its input comes from: read one of those, or make '{name}' part of this "
        "step's input"
    )


@dataclass(frozen=True)
class StepView:
    """What the step checks need of a step: its name, operation and raw parameters."""

    name: str
    operation: OperationKey | None  # None when the step's node or resource/operation is invalid
    parameters: Mapping[str, Any]
    check_constants: ConstantCheck | None = None  # the node type's own checks


def step_problems(steps: Sequence[StepView], graph: Graph | None = None) -> list[str]:
    """Every problem of the steps that is known before any item is read.

    ``graph`` says which steps feed which (a straight line through ``steps`` when not given).
    """
    if graph is None:
        graph = linear_graph(list(dict.fromkeys(step.name for step in steps)))
    problems: list[str] = []
    for step in steps:
        where = f"step '{step.name}'"
        for path, value in parameter_values(step.parameters):
            if not isinstance(value, str):
                continue
            if not is_expression(value):
                if looks_like_template(value):
                    problems.append(
                        f"{where}: parameters.{path}: the value contains {{{{ … }}}} but does "
                        "not start with '=', so it would be sent as it is written (start the "
                        "value with = to make it an expression, like ={{ $json.name }})"
                    )
                continue
            for name, written in dict.fromkeys(_reads(value).steps):
                problem = _reference_problem(name, step.name, graph)
                if problem is not None:
                    problems.append(f"{where}: parameters.{path}: {written}: {problem}")
        if step.operation is not None and step.check_constants is not None:
            problems.extend(
                f"{where}: {problem}"
                for problem in step.check_constants(step.operation, step.parameters)
            )
    return problems


# --- the input checks -----------------------------------------------------------------------------


def _csv_header(path: Path) -> list[str] | None:
    """The header row of a CSV file, or None when it cannot be read (the run reports why)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            return next(csv.reader(stream), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def check_input(
    first_step: StepView, input_path: Path | None, input_format: str | None
) -> list[str]:
    """Warnings about the input the first step reads; a missing input file is an error."""
    if input_path is None or is_stdio(input_path):
        return []
    if not input_path.exists():
        raise ConfigurationError(
            f"input file {input_path} does not exist",
            hint="check --input or the pipeline's input; a relative input path is read from "
            "the pipeline file's folder",
        )
    try:
        kind = resolve_format(input_path, input_format)
    except ConfigurationError:
        return []  # the run reports the unknown format itself
    # Only a regular file can be read twice: the header of a pipe would be taken from the run.
    if kind != "csv" or not input_path.is_file():
        return []
    header = _csv_header(input_path)
    if header is None:
        return []
    columns = set(header)
    return [
        f"step '{first_step.name}': parameters.{path} reads $json.{field}, but "
        f"{input_path.name} has no column '{field}' (its columns: {', '.join(header)}); "
        "every item would get an empty value"
        for path, value in parameter_values(first_step.parameters)
        if is_expression(value)
        for field in dict.fromkeys(_reads(value).fields)
        if field not in columns
    ]


__all__ = [
    "StepView",
    "check_input",
    "looks_like_template",
    "parameter_values",
    "step_problems",
]
