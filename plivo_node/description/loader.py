"""Loading the node description and credential types: YAML → schema → semantic checks → models.

Every problem of a file is reported at once, each with its location, in one
:class:`~plivo_node.core.errors.DescriptionError`; no traceback reaches the user.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from plivo_node.core.errors import DescriptionError
from plivo_node.core.paths import data_path
from plivo_node.description.models import CredentialType, NodeDescription
from plivo_node.description.schema import format_path, validate_against_schema
from plivo_node.description.semantic import check_credential_type, check_node_description
from plivo_node.description.yaml_source import read_yaml_file

ModelT = TypeVar("ModelT", bound=BaseModel)

NODE_MANIFEST = "node_manifest.yaml"
PLIVO_CREDENTIAL = "credentials/plivoApi.yaml"


def _load(
    path: Path,
    schema_name: str,
    model: type[ModelT],
    semantic_check: Callable[[ModelT], list[str]],
) -> ModelT:
    source = str(path)
    data, problems = read_yaml_file(path)
    if problems:
        raise DescriptionError(source, problems)
    if data is None:
        raise DescriptionError(source, [f"{path.name}: the file is empty"])
    problems = validate_against_schema(data, schema_name, path.name)
    if problems:
        raise DescriptionError(source, problems)
    loaded = _build(model, data, source)
    problems = semantic_check(loaded)
    if problems:
        raise DescriptionError(source, problems)
    return loaded


def _build(model: type[ModelT], data: Any, source: str) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        # The schema admits only what the models accept; reaching this means the two
        # disagree, which is still reported as located problems rather than a traceback.
        problems = [
            f"{format_path(detail['loc']) or 'top level'}: {detail['msg']}"
            for detail in error.errors(include_url=False)
        ]
        raise DescriptionError(source, problems) from None


def load_node_description(path: Path | None = None) -> NodeDescription:
    """The node described by ``path`` (default: the installed ``node_manifest.yaml``, cached)."""
    if path is None:
        return _default_node_description()
    return _load(Path(path), "manifest", NodeDescription, check_node_description)


def load_credential_type(path: Path | None = None) -> CredentialType:
    """The credential type in ``path`` (default: the installed ``plivoApi``, cached)."""
    if path is None:
        return _default_credential_type()
    return _load(Path(path), "credential", CredentialType, check_credential_type)


@cache
def _default_node_description() -> NodeDescription:
    return _load(data_path(NODE_MANIFEST), "manifest", NodeDescription, check_node_description)


@cache
def _default_credential_type() -> CredentialType:
    return _load(data_path(PLIVO_CREDENTIAL), "credential", CredentialType, check_credential_type)
