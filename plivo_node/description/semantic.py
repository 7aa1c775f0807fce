"""Checks JSON Schema cannot express: cross-references between parameters, and defaults.

Each check returns problems as ``"<path>: <what is wrong and how to fix it>"`` lines, using
the same paths as the schema pass (``properties[12].displayOptions.show.operation``), so a
broken manifest is fixed in one round.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import combinations
from typing import Any

from plivo_node.core.words import did_you_mean
from plivo_node.description.models import (
    CredentialType,
    DisplayOptions,
    NodeDescription,
    Property,
)
from plivo_node.description.visibility import UNKNOWN, evaluate, same_value

_TYPE_OPTIONS_BY_TYPE: dict[str, frozenset[str]] = {
    "string": frozenset({"password", "rows"}),
    "number": frozenset({"minValue", "maxValue", "numberPrecision", "numberStepSize"}),
    "boolean": frozenset(),
    "options": frozenset(),
    "multiOptions": frozenset(),
    "collection": frozenset({"multipleValues"}),
    "json": frozenset({"rows"}),
    "notice": frozenset(),
    "filter": frozenset({"filter"}),
    "assignmentCollection": frozenset(),
    "fixedCollection": frozenset({"multipleValues"}),
}
# Structured parameters whose value is an object of the user's entries: the default is {}.
_OBJECT_VALUED = frozenset({"filter", "assignmentCollection"})
_SECRET_NAME = re.compile(r"token|password|secret", re.IGNORECASE)
_CREDENTIAL_REFERENCE = re.compile(r"\$credentials\.([A-Za-z_][A-Za-z0-9_]*)")


# --- small helpers ----------------------------------------------------------------------------


def _is_condition(value: Any) -> bool:
    return isinstance(value, dict) and "_cnd" in value


def _listing(values: Iterable[Any]) -> str:
    return ", ".join(repr(value) for value in values)


def _literals(values: Sequence[Any]) -> list[Any] | None:
    """The literal values of one condition list, or None when a ``_cnd`` makes it open-ended."""
    if any(_is_condition(value) for value in values):
        return None
    return list(values)


def _contained(inner: list[Any], outer: list[Any]) -> bool:
    return all(any(same_value(a, b) for b in outer) for a in inner)


def exclusive(first: DisplayOptions | None, second: DisplayOptions | None) -> bool:
    """Whether two parameters can never be shown at the same time."""
    if first is None or second is None:
        return False
    first_show, second_show = first.show or {}, second.show or {}
    for key in first_show.keys() & second_show.keys():
        a, b = _literals(first_show[key]), _literals(second_show[key])
        if a is not None and b is not None and not any(same_value(x, y) for x in a for y in b):
            return True
    # One key of ``hide`` matching is enough to hide, so a show list inside it excludes.
    for shown, hidden in ((first_show, second.hide or {}), (second_show, first.hide or {})):
        for key in shown.keys() & hidden.keys():
            a, b = _literals(shown[key]), _literals(hidden[key])
            if a is not None and b is not None and _contained(a, b):
                return True
    return False


def _maybe_shown(prop: Property, resource: str, operation: str | None = None) -> bool:
    def lookup(key: str) -> Any:
        if key == "resource":
            return resource
        if key == "operation" and operation is not None:
            return operation
        return UNKNOWN

    return evaluate(prop.displayOptions, lookup) is not False


# --- one parameter ------------------------------------------------------------------------------


def _check_default(prop: Property, path: str) -> list[str]:
    default = prop.default
    where = f"{path}.default"
    if prop.type in ("string", "notice", "json") and not isinstance(default, str):
        return [
            f"{where}: {default!r} is not a string (parameter '{prop.name}' is of type {prop.type})"
        ]
    if prop.type == "boolean" and not isinstance(default, bool):
        return [f"{where}: {default!r} is not true or false (parameter '{prop.name}' is boolean)"]
    if prop.type == "number":
        if isinstance(default, bool) or not isinstance(default, int | float):
            return [f"{where}: {default!r} is not a number (parameter '{prop.name}' is a number)"]
        low, high = prop.type_option("minValue"), prop.type_option("maxValue")
        if (low is not None and default < low) or (high is not None and default > high):
            return [f"{where}: {default!r} is outside typeOptions minValue..maxValue"]
    if prop.type == "options" and not any(same_value(default, v) for v in prop.option_values()):
        allowed = _listing(prop.option_values())
        return [f"{where}: {default!r} is not one of the options of '{prop.name}' ({allowed})"]
    if prop.type == "multiOptions":
        if not isinstance(default, list):
            return [f"{where}: {default!r} is not a list (multiOptions default to a list)"]
        unknown = [v for v in default if not any(same_value(v, o) for o in prop.option_values())]
        if unknown:
            return [f"{where}: {_listing(unknown)} not among the options of '{prop.name}'"]
    if prop.type == "collection" and default != {}:
        return [f"{where}: a collection's default must be {{}} (only the fields given are kept)"]
    if prop.type in _OBJECT_VALUED and default != {}:
        return [f"{where}: a {prop.type} parameter's default must be {{}}"]
    if prop.type == "fixedCollection":
        return _check_fixed_collection_default(prop, where)
    return []


def _check_fixed_collection_default(prop: Property, where: str) -> list[str]:
    """``{group: [entry, ...]}`` (multipleValues) or ``{group: entry}``, entries objects."""
    default = prop.default
    if not isinstance(default, dict):
        return [f"{where}: {default!r} is not an object of groups (a fixedCollection's default)"]
    names = [group.name for group in prop.groups()]
    problems: list[str] = []
    multiple = bool(prop.type_option("multipleValues"))
    for key, value in default.items():
        if key not in names:
            problems.append(f"{where}.{key}: not a group of '{prop.name}' ({_listing(names)})")
            continue
        entries = value if multiple else [value]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            shape = "a list of objects (multipleValues)" if multiple else "an object"
            problems.append(f"{where}.{key}: must be {shape}")
    return problems


def _check_type_options(prop: Property, path: str) -> list[str]:
    problems = [
        f"{path}.typeOptions.{key}: does not apply to a parameter of type {prop.type}"
        for key in sorted(prop.typeOptions or {})
        if key not in _TYPE_OPTIONS_BY_TYPE[prop.type]
    ]
    low, high = prop.type_option("minValue"), prop.type_option("maxValue")
    if low is not None and high is not None and low > high:
        problems.append(f"{path}.typeOptions: minValue {low} is greater than maxValue {high}")
    return problems


def _check_options(prop: Property, path: str) -> list[str]:
    problems: list[str] = []
    if prop.type in ("options", "multiOptions"):
        values = prop.option_values()
        for index, value in enumerate(values):
            if any(same_value(value, earlier) for earlier in values[:index]):
                problems.append(f"{path}.options[{index}].value: {value!r} is listed twice")
    return problems


def _allowed_values(targets: Sequence[Property]) -> list[Any] | None:
    """What a displayOptions key may list for these parameters; None when anything goes."""
    if all(t.type in ("options", "multiOptions") for t in targets):
        return [value for t in targets for value in t.option_values()]
    if all(t.type == "boolean" for t in targets):
        return [True, False]
    return None


def _check_display_references(
    prop: Property, path: str, siblings: Sequence[Property], root: Sequence[Property]
) -> list[str]:
    if prop.displayOptions is None:
        return []
    problems: list[str] = []
    for section in ("show", "hide"):
        conditions: dict[str, tuple[Any, ...]] = getattr(prop.displayOptions, section) or {}
        for key, values in conditions.items():
            where = f"{path}.displayOptions.{section}.{key}"
            if key == "@version":
                problems.extend(
                    f"{where}: {value!r} is not a node version number"
                    for value in values
                    if not _is_condition(value)
                    and (isinstance(value, bool) or not isinstance(value, int | float))
                )
                continue
            scope = root if key.startswith("/") else siblings
            name = key.removeprefix("/")
            targets = [t for t in scope if t.name == name and t is not prop]
            if not targets:
                problems.append(
                    f"{where}: refers to parameter '{name}', which does not exist"
                    + did_you_mean(name, (t.name for t in scope))
                )
                continue
            # Only the definitions that can be shown together with this one count (each
            # resource has its own 'operation', with its own values).
            related = [t for t in targets if not exclusive(t.displayOptions, prop.displayOptions)]
            allowed = _allowed_values(related or targets)
            if allowed is None:
                continue
            wrong = [
                value
                for value in values
                if not _is_condition(value) and not any(same_value(value, a) for a in allowed)
            ]
            if wrong:
                shown_allowed = ", ".join(dict.fromkeys(str(a) for a in allowed))
                problems.append(
                    f"{where}: {_listing(wrong)} is not a value of parameter '{name}' here "
                    f"(its values: {shown_allowed})"
                )
    return problems


def _check_property(
    prop: Property, path: str, siblings: Sequence[Property], root: Sequence[Property]
) -> list[str]:
    problems = [
        *_check_type_options(prop, path),
        *_check_default(prop, path),
        *_check_options(prop, path),
        *_check_display_references(prop, path, siblings, root),
    ]
    fields = prop.fields()
    seen: dict[str, int] = {}
    for index, field in enumerate(fields):
        field_path = f"{path}.options[{index}]"
        if field.name in seen:
            problems.append(
                f"{field_path}.name: '{field.name}' is already the name of "
                f"{path}.options[{seen[field.name]}]; field names in a collection must be unique"
            )
        seen.setdefault(field.name, index)
        problems.extend(_check_property(field, field_path, fields, root))
    problems.extend(_check_groups(prop, path, root))
    return problems


def _check_groups(prop: Property, path: str, root: Sequence[Property]) -> list[str]:
    """A fixedCollection's groups: unique names, each group's values checked as siblings."""
    problems: list[str] = []
    groups_seen: set[str] = set()
    for index, group in enumerate(prop.groups()):
        group_path = f"{path}.options[{index}]"
        if group.name in groups_seen:
            problems.append(f"{group_path}.name: '{group.name}' names two groups of '{prop.name}'")
        groups_seen.add(group.name)
        for value_index, value in enumerate(group.values):
            problems.extend(
                _check_property(value, f"{group_path}.values[{value_index}]", group.values, root)
            )
    return problems


# --- the node as a whole ---------------------------------------------------------------------


def _check_resource_and_operations(node: NodeDescription) -> list[str]:
    props = node.properties
    resources = [(i, p) for i, p in enumerate(props) if p.name == "resource"]
    if not resources:
        # A node without resources (Edit Fields, If) has one handler and no operations.
        orphans = [i for i, p in enumerate(props) if p.name == "operation"]
        return [
            f"properties[{i}]: 'operation' needs a 'resource' parameter; add one, or rename it"
            for i in orphans
        ]
    if len(resources) != 1:
        count = len(resources)
        return [f"properties: there must be at most one parameter named 'resource' (found {count})"]
    index, resource = resources[0]
    path = f"properties[{index}]"
    problems: list[str] = []
    if resource.type != "options":
        problems.append(f"{path}.type: 'resource' must be of type options")
    if resource.displayOptions is not None:
        problems.append(f"{path}.displayOptions: 'resource' must always be shown; remove it")
    for i, prop in enumerate(props):
        if prop.name in ("resource", "operation") and not prop.noDataExpression:
            problems.append(
                f"properties[{i}].noDataExpression: '{prop.name}' must set noDataExpression: "
                "true (it is fixed per step, never computed from item data)"
            )
        if prop.name == "operation" and prop.type != "options":
            problems.append(f"properties[{i}].type: 'operation' must be of type options")
    for value_index, value in enumerate(resource.option_values()):
        operations = [p for p in props if p.name == "operation" and _maybe_shown(p, str(value))]
        if not operations:
            problems.append(
                f"{path}.options[{value_index}]: resource {value!r} has no 'operation' "
                f"parameter; add one with displayOptions.show.resource: [{value}]"
            )
    return problems


def _check_operation_contents(node: NodeDescription) -> list[str]:
    problems: list[str] = []
    props = node.properties
    reported_pairs: set[tuple[int, int]] = set()
    for resource, operation in sorted(node.operations()):
        shown = [
            (i, p)
            for i, p in enumerate(props)
            if p.name not in ("resource", "operation") and _maybe_shown(p, resource, operation)
        ]
        if not shown:
            problems.append(
                f"properties: operation '{operation}' of resource '{resource}' shows no "
                f"parameters; give at least one parameter displayOptions.show "
                f"{{resource: [{resource}], operation: [{operation}]}}"
            )
        operation_props = [
            (i, p)
            for i, p in enumerate(props)
            if p.name == "operation" and _maybe_shown(p, resource)
        ]
        for (i, first), (j, second) in combinations([*operation_props, *shown], 2):
            if first.name != second.name or (i, j) in reported_pairs:
                continue
            if exclusive(first.displayOptions, second.displayOptions):
                continue
            reported_pairs.add((i, j))
            problems.append(
                f"properties[{j}]: parameter '{second.name}' is shown together with "
                f"properties[{i}] of the same name (resource '{resource}', operation "
                f"'{operation}'); make their displayOptions exclusive or rename one"
            )
    return problems


def check_node_description(node: NodeDescription) -> list[str]:
    """Every semantic problem of a node description that passed the schema."""
    problems: list[str] = []
    for index, prop in enumerate(node.properties):
        path = f"properties[{index}]"
        problems.extend(_check_property(prop, path, node.properties, node.properties))
    problems.extend(_check_resource_and_operations(node))
    problems.extend(_check_operation_contents(node))
    return problems


def check_credential_type(credential: CredentialType) -> list[str]:
    """Every semantic problem of a credential type that passed the schema."""
    problems: list[str] = []
    names = [prop.name for prop in credential.properties]
    for index, prop in enumerate(credential.properties):
        path = f"properties[{index}]"
        problems.extend(_check_type_options(prop, path))
        problems.extend(_check_default(prop, path))
        if prop.name in names[:index]:
            problems.append(f"{path}.name: '{prop.name}' is defined twice")
        if _SECRET_NAME.search(prop.name) and not prop.is_secret:
            problems.append(
                f"{path}.typeOptions: '{prop.name}' holds a secret; set typeOptions.password: "
                "true so it is masked"
            )
    problems.extend(
        f"environment.{field}: '{field}' is not a property of '{credential.name}'"
        + did_you_mean(field, names)
        for field in credential.environment
        if field not in names
    )
    texts: list[tuple[str, str]] = [
        (f"authenticate.properties.{part}.{key}", value)
        for part, entries in credential.authenticate.properties.items()
        for key, value in entries.items()
    ]
    if credential.test is not None:
        texts.append(("test.request.url", credential.test.request.url))
        if credential.test.request.baseURL is not None:
            texts.append(("test.request.baseURL", credential.test.request.baseURL))
    for where, text in texts:
        problems.extend(
            f"{where}: refers to $credentials.{name}, which is not a property of "
            f"'{credential.name}'" + did_you_mean(name, names)
            for name in _CREDENTIAL_REFERENCE.findall(text)
            if name not in names
        )
    return problems
