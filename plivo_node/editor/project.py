"""The editor's document: a pipeline (as a pipeline file holds it) and where its nodes sit.

A file opens as the same plain data ``run`` reads: a pipeline YAML as it is, an n8n workflow
through :mod:`plivo_node.n8n.convert` (the conversion ``run`` and ``convert`` use). It saves
back to its own format and exports the other. Credentials are never written from the editor's
memory: an export references the environment (``${PLIVO_AUTH_TOKEN}``), see
:func:`credential_references`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plivo_node.core.errors import ConfigurationError, PipelineError
from plivo_node.description.yaml_source import read_yaml_text
from plivo_node.n8n.catalog import catalog_from
from plivo_node.n8n.convert import Conversion, convert_workflow, pipeline_yaml
from plivo_node.n8n.load import is_workflow_file
from plivo_node.n8n.workflow import parse_workflow
from plivo_node.run.graph import parse_input
from plivo_node.run.registry import NodeRegistry

YAML = "yaml"
N8N = "n8n"
# Horizontal and vertical spacing of nodes laid out by the editor (a pipeline keeps no places).
_COLUMN = 240
_ROW = 140


@dataclass
class Document:
    """What the page edits: the pipeline's data, the places of its nodes, and its format."""

    pipeline: dict[str, Any]
    positions: dict[str, list[float]] = field(default_factory=dict)
    format: str = YAML
    notices: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "positions": self.positions,
            "format": self.format,
            "notices": self.notices,
        }


def empty_document() -> Document:
    return Document({"version": 1, "name": "New workflow", "steps": []})


def open_text(text: str, *, filename: str, registry: NodeRegistry) -> Document:
    """A pipeline YAML or an n8n workflow JSON, read as ``run`` reads it."""
    if is_workflow_file(Path(filename), text.lstrip("\ufeff")):
        workflow = parse_workflow(text.lstrip("\ufeff"), source=filename)
        conversion = convert_workflow(workflow, catalog=catalog_from(registry))
        positions = {
            node.name: [float(node.position[0]), float(node.position[1])] for node in workflow.nodes
        }
        return Document(conversion.data, positions, N8N, list(conversion.notices))
    data, problems = read_yaml_text(text)
    if problems:
        raise PipelineError(filename, problems)
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise ConfigurationError(
            f"{filename} is neither a pipeline (no steps) nor an n8n workflow (no nodes)",
            hint="open a pipeline YAML or a workflow exported from n8n",
        )
    return Document(data, layout(data), YAML)


def open_file(path: Path, registry: NodeRegistry) -> Document:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"cannot read {path}: {exc}", hint="give a readable UTF-8 pipeline or workflow file"
        ) from None
    return open_text(text, filename=str(path), registry=registry)


def layout(pipeline: Mapping[str, Any]) -> dict[str, list[float]]:
    """Places for the steps of a pipeline file: each a column right of the steps it reads."""
    column: dict[str, int] = {}
    rows: dict[int, int] = {}
    places: dict[str, list[float]] = {}
    previous: str | None = None
    for step in pipeline.get("steps", []):
        name = str(step.get("name"))
        sources = _sources(step, previous)
        col = max((column.get(src, 0) + 1 for src, _ in sources), default=0)
        column[name] = col
        row = rows.get(col, 0)
        rows[col] = row + 1
        places[name] = [40.0 + col * _COLUMN, 60.0 + row * _ROW]
        previous = name
    return places


def _sources(step: Mapping[str, Any], previous: str | None) -> list[tuple[str, int]]:
    if step.get("input") is not None:
        return [(edge.source, edge.output) for edge in parse_input(step["input"])]
    return [(previous, 0)] if previous is not None else []


def credential_references(
    registry: NodeRegistry, pipeline: Mapping[str, Any], configured: Collection[str]
) -> dict[str, Any]:
    """The credentials block an export carries for the credential types set in the editor:
    environment references (``${PLIVO_AUTH_TOKEN}``), never values. Without any, the file has
    no block, so ``run`` takes the environment or, with none, the sandbox."""
    block: dict[str, Any] = {}
    for name in dict.fromkeys(str(step.get("node")) for step in pipeline.get("steps", [])):
        try:
            node = registry.get(name)
        except ConfigurationError:
            continue
        for credential in node.credential_types:
            if credential.name not in configured:
                continue
            refs = {
                prop: f"${{{variable}}}"
                for prop, variable in credential.environment.items()
                if any(p.name == prop and p.required for p in credential.properties)
            }
            if refs:
                block[credential.name] = refs
    return block


def pipeline_text(
    pipeline: Mapping[str, Any], registry: NodeRegistry, configured: Collection[str] = ()
) -> str:
    """The pipeline as YAML, credentials as environment references only."""
    data = {key: value for key, value in pipeline.items() if key != "credentials"}
    references = credential_references(registry, pipeline, configured)
    if references:
        data["credentials"] = references
    ordered: dict[str, Any] = {key: data[key] for key in ("version", "name") if key in data}
    ordered.update({key: value for key, value in data.items() if key not in ordered})
    text = pipeline_yaml(Conversion(ordered), source="")
    return "# Written by plivo-node editor.\n" + text.split("\n", 1)[1]


def workflow_text(
    pipeline: Mapping[str, Any], positions: Mapping[str, Any], registry: NodeRegistry
) -> str:
    """The pipeline as an n8n workflow export: nodes, positions, connections (no secrets)."""
    nodes: list[dict[str, Any]] = []
    connections: dict[str, dict[str, list[list[dict[str, Any]]]]] = {}
    previous: str | None = None
    for step in pipeline.get("steps", []):
        name = str(step["name"])
        loaded = registry.get(str(step["node"]))
        if loaded.type.n8n_type is None:
            raise ConfigurationError(
                f"node '{name}' ({loaded.name}) has no n8n node type",
                hint="export the pipeline as YAML instead",
            )
        version = loaded.description.version
        latest = max(version) if isinstance(version, tuple) else version
        place = positions.get(name) or [0, 0]
        node: dict[str, Any] = {
            "parameters": step.get("parameters", {}),
            "type": loaded.type.n8n_type,
            "typeVersion": step.get("typeVersion", latest),
            "position": [round(float(place[0])), round(float(place[1]))],
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"plivo-node-editor:{name}")),
            "name": name,
        }
        if step.get("onError"):
            node["onError"] = step["onError"]
        if loaded.credential_types:
            node["credentials"] = {
                credential.name: {"id": "", "name": credential.displayName}
                for credential in loaded.credential_types
            }
        nodes.append(node)
        for source, output in _sources(step, previous):
            outputs = connections.setdefault(source, {"main": []})["main"]
            while len(outputs) <= output:
                outputs.append([])
            outputs[output].append({"node": name, "type": "main", "index": 0})
        previous = name
    workflow = {
        "name": pipeline.get("name") or "Workflow",
        "nodes": nodes,
        "pinData": {},
        "connections": connections,
        "active": False,
        "settings": {"executionOrder": "v1"},
    }
    return json.dumps(workflow, indent=2, ensure_ascii=False) + "\n"


def document_text(
    document: Document, registry: NodeRegistry, fmt: str, configured: Collection[str] = ()
) -> str:
    """The document in ``fmt`` (``yaml`` or ``n8n``), as it is saved or exported."""
    if fmt == N8N:
        return workflow_text(document.pipeline, document.positions, registry)
    return pipeline_text(document.pipeline, registry, configured)
