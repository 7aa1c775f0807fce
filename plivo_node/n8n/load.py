"""A file a run or ``validate`` is given: a pipeline, or an n8n workflow run as one.

An n8n workflow file (exported from n8n, unchanged) is recognised by its content: JSON holding
``nodes`` rather than a pipeline's ``steps`` (a ``.json`` file that is not a pipeline is read
as a workflow, so that a broken export gets the workflow's error messages). It is converted in
memory (:mod:`.convert`) and from there takes exactly the path of a pipeline file: the same
checks, the same run, journal, resume and dry run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from plivo_node.run.pipeline import PipelineSpec, load_pipeline, pipeline_from_data
from plivo_node.run.registry import NodeRegistry


@dataclass(frozen=True)
class LoadedSpec:
    """The pipeline to run, and the notices of a workflow's conversion (none for a pipeline)."""

    spec: PipelineSpec
    notices: tuple[str, ...] = ()


def _json_object(text: str) -> dict[str, object] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def is_workflow_file(path: Path, text: str) -> bool:
    """Whether ``text`` (the file at ``path``) is an n8n workflow rather than a pipeline."""
    body = text.lstrip("\ufeff \t\r\n")
    if path.suffix.lower() == ".json":
        data = _json_object(body)
        return data is None or "steps" not in data
    if not body.startswith("{"):
        return False  # YAML: pipelines are written as YAML
    data = _json_object(body)
    return data is not None and "nodes" in data and "steps" not in data


def load_spec(path: Path, registry: NodeRegistry) -> LoadedSpec:
    """The pipeline in ``path``: a pipeline file, or an n8n workflow converted to one."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return LoadedSpec(load_pipeline(path, registry))  # it reports why it cannot be read
    if not is_workflow_file(path, text):
        return LoadedSpec(load_pipeline(path, registry))
    # Imported here: a pipeline file, the common case, needs no workflow reader.
    from plivo_node.n8n.catalog import catalog_from  # noqa: PLC0415
    from plivo_node.n8n.convert import convert_workflow  # noqa: PLC0415
    from plivo_node.n8n.workflow import parse_workflow  # noqa: PLC0415

    source = str(path)
    conversion = convert_workflow(
        parse_workflow(text, source=source), catalog=catalog_from(registry)
    )
    spec = pipeline_from_data(
        conversion.data, source=source, base_dir=path.resolve().parent, registry=registry
    )
    return LoadedSpec(spec, conversion.notices)


__all__ = ["LoadedSpec", "is_workflow_file", "load_spec"]
