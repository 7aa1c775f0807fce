"""Frozen dataclass models built from JSON data, and turned back into it.

The description models hold data that already passed the JSON Schema, so building them is a
typed copy, not validation: lists become tuples, objects become the nested models their
annotations name, and anything the annotation does not allow is reported with its location
(which means the schema and the models disagree). A small builder driven by the dataclasses'
own annotations does this in a few milliseconds without importing a validation library, which
matters because every command that loads a node pays for the import (see bench/README.md,
start-up).

Supported annotations: ``Any`` (kept as it is), ``str``, ``int``, ``float``, ``bool`` (exact:
``True`` is not an ``int``, ``1`` is a ``float``'s acceptable value but stays ``1``), ``None``,
``Literal[...]``, unions (the first member that accepts the value wins, so order them from
most to least specific), ``tuple[X, ...]``, ``dict[str, X]`` and nested model dataclasses.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

ModelT = TypeVar("ModelT")
Location = tuple[str | int, ...]

_SCALARS: dict[type, str] = {
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
}


class ModelDataError(ValueError):
    """Data that does not fit a model: where (a path of keys and indexes) and why."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(message)
        self.location = location
        self.message = message


def build(model: type[ModelT], data: Any) -> ModelT:
    """``model`` (a dataclass) built from ``data``; ModelDataError when it does not fit."""
    return _build(model, data, ())


def dump(
    instance: object, *, exclude_defaults: bool = False, exclude: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """``instance`` as JSON data, fields in declaration order; ``build`` gives it back.

    ``exclude_defaults`` leaves out every field (at any depth) equal to its default, as n8n
    leaves out unset keys; ``exclude`` names top-level fields to leave out.
    """
    out: dict[str, Any] = {}
    for field in dataclasses.fields(instance):  # type: ignore[arg-type]
        if field.name in exclude:
            continue
        value = getattr(instance, field.name)
        if exclude_defaults and _is_default(field, value):
            continue
        out[field.name] = _to_data(value, exclude_defaults=exclude_defaults)
    return out


def _is_default(field: dataclasses.Field[Any], value: Any) -> bool:
    if field.default is not dataclasses.MISSING:
        return bool(value == field.default)
    if field.default_factory is not dataclasses.MISSING:
        return bool(value == field.default_factory())
    return False


def _to_data(value: Any, *, exclude_defaults: bool) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dump(value, exclude_defaults=exclude_defaults)
    if isinstance(value, tuple | list):
        return [_to_data(member, exclude_defaults=exclude_defaults) for member in value]
    if isinstance(value, Mapping):
        return {
            key: _to_data(member, exclude_defaults=exclude_defaults)
            for key, member in value.items()
        }
    return value


_FIELDS: dict[type, tuple[tuple[str, Any, bool], ...]] = {}


def _fields_of(model: type) -> tuple[tuple[str, Any, bool], ...]:
    """Each field's name, resolved annotation, and whether it must be given (once per model)."""
    known = _FIELDS.get(model)
    if known is not None:
        return known
    hints = get_type_hints(model)
    known = _FIELDS[model] = tuple(
        (
            field.name,
            hints[field.name],
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING,
        )
        for field in dataclasses.fields(model)
    )
    return known


def _build(model: type[ModelT], data: Any, location: Location) -> ModelT:
    if not isinstance(data, Mapping):
        raise ModelDataError(location, f"expected an object for {model.__name__}")
    fields = _fields_of(model)
    known = {name for name, _, _ in fields}
    extra = sorted(str(key) for key in data if key not in known)
    if extra:
        raise ModelDataError((*location, extra[0]), "unknown key (not a field of the model)")
    values: dict[str, Any] = {}
    for name, hint, required in fields:
        if name in data:
            values[name] = _convert(hint, data[name], (*location, name))
        elif required:
            raise ModelDataError((*location, name), "required key missing")
    return model(**values)


def _convert(hint: Any, value: Any, location: Location) -> Any:
    if hint is Any:
        return value
    if hint is None or hint is type(None):
        if value is None:
            return None
        raise ModelDataError(location, "expected null")
    if hint in _SCALARS:
        if _is_scalar(hint, value):
            return value
        raise ModelDataError(location, f"expected {_SCALARS[hint]}")
    origin = get_origin(hint)
    arguments = get_args(hint)
    if origin is Literal:
        if any(type(value) is type(choice) and value == choice for choice in arguments):
            return value
        raise ModelDataError(location, f"expected one of {', '.join(map(repr, arguments))}")
    if origin is Union or origin is types.UnionType:
        return _convert_union(arguments, value, location)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ModelDataError(location, "expected a list")
        member = arguments[0]
        return tuple(_convert(member, item, (*location, i)) for i, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ModelDataError(location, "expected an object")
        member = arguments[1]
        return {str(key): _convert(member, item, (*location, key)) for key, item in value.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, location)
    raise TypeError(f"model_data cannot build the annotation {hint!r}")  # a model's bug


def _convert_union(members: tuple[Any, ...], value: Any, location: Location) -> Any:
    first: ModelDataError | None = None
    for member in members:
        try:
            return _convert(member, value, location)
        except ModelDataError as error:
            # The deepest problem says most (e.g. which key of which option is wrong).
            if first is None or len(error.location) > len(first.location):
                first = error
    assert first is not None
    raise first


def _is_scalar(kind: type, value: Any) -> bool:
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)
