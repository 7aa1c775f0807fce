"""n8n workflow files, as n8n exports them (Download, ``n8n export:workflow``): read and checked.

The file is n8n's ``IWorkflowBase`` as JSON: ``nodes`` (each with ``name``, ``type`` such as
``n8n-nodes-base.set``, ``typeVersion``, ``parameters`` holding only the values that differ
from the defaults, ``credentials`` by type and stored id, and node settings such as
``onError`` or ``disabled``), ``connections`` keyed by the source node's *name* (``main[k]``
lists the targets of output ``k``), ``pinData``, ``settings`` and editor metadata.

This module checks the format only: every problem of a malformed file (not JSON, not a
workflow, missing or mistyped fields, connections naming nodes that do not exist, repeated
node names) is reported at once in a :class:`WorkflowError`. Whether this runtime can run
what the file describes is :mod:`plivo_node.n8n.convert`'s question.

Credentials in an export are references (``{"id", "name"}``); whatever else a file holds
under ``credentials`` is never read into the model, so it cannot be copied anywhere.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from plivo_node.core.errors import WorkflowError
from plivo_node.core.text_files import read_text_file
from plivo_node.core.words import kind_of
from plivo_node.description.schema import bounded_problems
from plivo_node.run.json_input import JsonValueError, decode

ON_ERROR_VALUES: Final = ("stopWorkflow", "continueRegularOutput", "continueErrorOutput")

# Node keys that only the editor uses: they change nothing about what a run does.
EDITOR_KEYS: Final = frozenset(
    {"id", "name", "type", "typeVersion", "position", "parameters", "credentials", "notes",
     "notesInFlow", "color", "webhookId"}
)  # fmt: skip
# Node settings that change what a run does (n8n's INode).
_FLAGS: Final = ("disabled", "executeOnce", "retryOnFail", "alwaysOutputData", "continueOnFail")
_NUMBERS: Final = ("maxTries", "waitBetweenTries")  # only read when retryOnFail is on


@dataclass(frozen=True)
class WorkflowNode:
    """One node of the workflow, as the file gives it."""

    name: str
    type: str
    type_version: int | float
    parameters: Mapping[str, Any]
    index: int  # its place in the file's ``nodes``
    position: tuple[float, float] = (0.0, 0.0)
    credential_types: tuple[str, ...] = ()  # the keys of ``credentials``; never their values
    on_error: str | None = None  # as written; None when the file leaves it out
    disabled: bool = False
    execute_once: bool = False
    retry_on_fail: bool = False
    always_output_data: bool = False
    continue_on_fail: bool = False  # the setting onError replaced; onError wins when both are set
    unknown_keys: tuple[str, ...] = ()  # keys this runtime does not know the meaning of


@dataclass(frozen=True)
class Connection:
    """Items of ``source``'s output ``output`` go to ``target``'s input ``input``."""

    source: str
    output: int
    target: str
    input: int = 0
    kind: str = "main"  # n8n's connection type: main, or an AI type such as ai_tool


@dataclass(frozen=True)
class Workflow:
    source: str  # where it was read from, for messages
    nodes: tuple[WorkflowNode, ...]
    connections: tuple[Connection, ...]
    name: str | None = None
    pinned: tuple[str, ...] = ()  # names under pinData with at least one item
    settings: Mapping[str, Any] = field(default_factory=dict)

    def node(self, name: str) -> WorkflowNode:
        return next(node for node in self.nodes if node.name == name)


def read_workflow(path: Path) -> Workflow:
    """Read and check an n8n workflow file."""
    source = str(path)
    text = read_text_file(path, WorkflowError, encoding="utf-8-sig")
    return parse_workflow(text, source=source)


def parse_workflow(text: str, *, source: str) -> Workflow:
    """Check n8n workflow JSON text; every problem is reported in one :class:`WorkflowError`."""
    try:
        data = decode(text)
    except json.JSONDecodeError as exc:
        raise WorkflowError(
            source,
            [
                (
                    f"line {exc.lineno}, column {exc.colno}: the file is not JSON ({exc.msg}); "
                    "an n8n workflow file is the JSON n8n exports (Download, or n8n "
                    "export:workflow)"
                )
            ],
        ) from None
    except JsonValueError as exc:
        raise WorkflowError(source, [f"the file is not JSON this tool accepts: {exc}"]) from None
    problems: list[str] = []
    workflow = _workflow(data, source, problems)
    if problems or workflow is None:
        raise WorkflowError(source, bounded_problems(problems))
    return workflow


def _workflow(data: Any, source: str, problems: list[str]) -> Workflow | None:
    if isinstance(data, list) and data and all(isinstance(e, dict) and "nodes" in e for e in data):
        problems.append(
            f"the file holds a list of {len(data)} workflows (as n8n export:workflow --all "
            "writes them); export one workflow (--id=<id>), or save each in its own file"
        )
        return None
    if not isinstance(data, dict):
        problems.append(
            f"the file holds {kind_of(data)}, not an n8n workflow (an object with nodes and "
            "connections)"
        )
        return None
    for key, kind in (("nodes", list), ("connections", dict)):
        if key not in data:
            problems.append(f"{key} is missing: an n8n workflow has nodes and connections")
        elif not isinstance(data[key], kind):
            expected = "a list" if kind is list else "an object"
            problems.append(f"{key} must be {expected}, not {kind_of(data[key])}")
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        problems.append(f"name must be a string, not {kind_of(name)}")
    problems.extend(
        f"{key} must be an object, not {kind_of(data[key])}"
        for key in ("settings", "pinData")
        if data.get(key) is not None and not isinstance(data[key], dict)
    )
    if problems:
        return None
    nodes = [_node(raw, index, problems) for index, raw in enumerate(data["nodes"])]
    valid = [node for node in nodes if node is not None]
    # Every name given, even a faulty node's, so its connections are not reported as well.
    names = Counter(
        raw["name"] for raw in data["nodes"] if isinstance(raw, dict) and _is_name(raw.get("name"))
    )
    repeated = sorted(name for name, count in names.items() if count > 1)
    if repeated:
        problems.append(
            "nodes: node names must be unique (connections refer to nodes by name); repeated: "
            + ", ".join(f"'{name}'" for name in repeated)
        )
    connections = _connections(data["connections"], set(names), problems)
    pin_data = data.get("pinData") or {}
    return Workflow(
        source=source,
        nodes=tuple(valid),
        connections=tuple(connections),
        name=name or None,
        pinned=tuple(key for key, items in pin_data.items() if items),
        settings=dict(data.get("settings") or {}),
    )


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _node(raw: Any, index: int, problems: list[str]) -> WorkflowNode | None:
    where = f"nodes[{index}]"
    if not isinstance(raw, dict):
        problems.append(f"{where}: a node must be an object, not {kind_of(raw)}")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        problems.append(f"{where}: name must be a non-empty string")
        return None
    where = f"node '{name}'"
    found: list[str] = []
    node_type = raw.get("type")
    if not isinstance(node_type, str) or not node_type:
        found.append("type must be a non-empty string, such as n8n-nodes-base.set")
    version = raw.get("typeVersion")
    if isinstance(version, bool) or not isinstance(version, int | float) or version <= 0:
        shown = "missing" if version is None else f"{kind_of(version)}, {json.dumps(version)}"
        found.append(f"typeVersion must be a positive number, such as 1 or 3.4 ({shown})")
    parameters = raw.get("parameters", {})
    if not isinstance(parameters, dict):
        found.append(f"parameters must be an object, not {kind_of(parameters)}")
    position = raw.get("position", [0, 0])
    if not (
        isinstance(position, list)
        and len(position) == 2
        and all(isinstance(p, int | float) and not isinstance(p, bool) for p in position)
    ):
        found.append("position must be a list of two numbers, [x, y]")
        position = [0, 0]
    credentials = raw.get("credentials", {})
    if not isinstance(credentials, dict) or not all(
        isinstance(value, dict) for value in credentials.values()
    ):
        found.append("credentials must map credential types to {id, name} references")
        credentials = {}
    on_error = raw.get("onError")
    if on_error is not None and on_error not in ON_ERROR_VALUES:
        found.append(
            f"onError must be one of {', '.join(ON_ERROR_VALUES)}"
            + (f", not '{on_error}'" if isinstance(on_error, str) else f", not {kind_of(on_error)}")
        )
    found.extend(
        f"{flag} must be true or false, not {kind_of(raw[flag])}"
        for flag in _FLAGS
        if flag in raw and not isinstance(raw[flag], bool)
    )
    for number in _NUMBERS:
        value = raw.get(number)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            found.append(f"{number} must be a number, not {kind_of(value)}")
    problems.extend(f"{where}: {problem}" for problem in found)
    if found:
        return None
    known = EDITOR_KEYS | {"onError", *_FLAGS, *_NUMBERS}
    return WorkflowNode(
        name=name,
        type=str(node_type),
        type_version=version if isinstance(version, int | float) else 0,
        parameters=parameters,
        index=index,
        position=(float(position[0]), float(position[1])),
        credential_types=tuple(credentials),
        on_error=on_error,
        disabled=raw.get("disabled", False),
        execute_once=raw.get("executeOnce", False),
        retry_on_fail=raw.get("retryOnFail", False),
        always_output_data=raw.get("alwaysOutputData", False),
        continue_on_fail=raw.get("continueOnFail", False),
        unknown_keys=tuple(key for key in raw if key not in known),
    )


def _connections(raw: Mapping[str, Any], names: set[str], problems: list[str]) -> list[Connection]:
    """Every connection of ``connections``; a name that is not a node's is a problem."""
    found: list[Connection] = []
    for source, by_kind in raw.items():
        where = f"connections['{source}']"
        if source not in names:
            problems.append(f"{where}: there is no node named '{source}' in nodes")
            continue
        if not isinstance(by_kind, dict):
            problems.append(f'{where}: must be an object such as {{"main": [[...]]}}')
            continue
        for kind, outputs in by_kind.items():
            if not isinstance(outputs, list):
                problems.append(
                    f"{where}.{kind}: must be a list of outputs, not {kind_of(outputs)}"
                )
                continue
            for output, targets in enumerate(outputs):
                if targets is None:
                    continue  # n8n writes null for an output with nothing connected
                at = f"{where}.{kind}[{output}]"
                if not isinstance(targets, list):
                    problems.append(f"{at}: must be a list of targets, not {kind_of(targets)}")
                    continue
                for target in targets:
                    problem = _target_problem(target, names)
                    if problem is not None:
                        problems.append(f"{at}: {problem}")
                    else:
                        found.append(
                            Connection(source, output, target["node"], target.get("index", 0), kind)
                        )
    return found


def _target_problem(target: Any, names: set[str]) -> str | None:
    """What is wrong with one ``{node, type, index}`` target, or None."""
    if not isinstance(target, dict):
        return "a target must be an object {node, type, index}"
    node, index = target.get("node"), target.get("index", 0)
    if not isinstance(node, str) or node not in names:
        shown = f"'{node}'" if isinstance(node, str) else kind_of(node)
        return f"the target node {shown} is not a node of this workflow"
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        return f"the input index of '{node}' must be a whole number from 0"
    return None


__all__ = ["Connection", "Workflow", "WorkflowNode", "parse_workflow", "read_workflow"]
