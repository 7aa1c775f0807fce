"""Loading node descriptions and credential types: YAML → schema → semantic checks → models.

Every problem of a file is reported at once, each with its location, in one
:class:`~plivo_node.core.errors.DescriptionError`; no traceback reaches the user.

A file that passed once is taken from the description cache (:mod:`.cache`) while neither it,
its schema nor the checking code has changed: YAML, jsonschema and the semantic checks are
then not even imported.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from plivo_node.core.errors import DescriptionError
from plivo_node.core.paths import data_path
from plivo_node.description import cache as description_cache
from plivo_node.description.model_data import ModelDataError
from plivo_node.description.models import CredentialType, NodeDescription
from plivo_node.description.semantic import check_credential_type, check_node_description

ModelT = TypeVar("ModelT", NodeDescription, CredentialType)


def _load(
    path: Path,
    schema_name: str,
    model: type[ModelT],
    semantic_check: Callable[[ModelT], list[str]],
) -> ModelT:
    # The key covers the file, its schema and the checks: a hit is what a full load would give.
    key = description_cache.content_key(
        schema_name, [path, data_path(f"schemas/{schema_name}.schema.json")]
    )
    if key is not None:
        cached = description_cache.read_entry(model, path, key)
        if cached is not None:
            return cached
    loaded = _load_and_check(path, schema_name, model, semantic_check)
    if key is not None:
        description_cache.write_entry(path, key, loaded)
    return loaded


def _load_and_check(
    path: Path,
    schema_name: str,
    model: type[ModelT],
    semantic_check: Callable[[ModelT], list[str]],
) -> ModelT:
    # Imported here: a cache hit needs neither YAML nor jsonschema.
    from plivo_node.description.schema import validate_against_schema  # noqa: PLC0415
    from plivo_node.description.yaml_source import read_yaml_file  # noqa: PLC0415

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
    from plivo_node.description.schema import format_path  # noqa: PLC0415

    try:
        return model.from_data(data)
    except ModelDataError as error:
        # The schema admits only what the models accept; reaching this means the two
        # disagree, which is still reported as a located problem rather than a traceback.
        location = format_path(error.location) or "top level"
        raise DescriptionError(source, [f"{location}: {error.message}"]) from None


def load_node_description(path: Path) -> NodeDescription:
    """The node described by the YAML file ``path`` (loaded once per path and process)."""
    return _cached_node_description(Path(path).resolve())


def load_credential_type(path: Path) -> CredentialType:
    """The credential type in the YAML file ``path`` (loaded once per path and process)."""
    return _cached_credential_type(Path(path).resolve())


@cache
def _cached_node_description(path: Path) -> NodeDescription:
    return _load(path, "manifest", NodeDescription, check_node_description)


@cache
def _cached_credential_type(path: Path) -> CredentialType:
    return _load(path, "credential", CredentialType, check_credential_type)
