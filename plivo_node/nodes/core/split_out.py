"""Split Out (``n8n-nodes-base.splitOut``, typeVersion 1): one item per element of a list.

n8n: packages/nodes-base/nodes/Transform/SplitOut/SplitOut.node.ts. For each field to split
out (``fieldToSplitOut``, a comma-separated list or a list; a leading ``$json.`` is dropped;
dot notation reads nested fields unless ``options.disableDotNotation``):

- a list gives its elements; an object gives its values; any other value, null included,
  gives itself once; a missing field gives nothing, so the item yields no items at all;
- with ``include: noOtherFields`` (the default) an object element *is* the new item's json
  (its keys spread, an array's as "0", "1", ...); any other element, or every element when
  a destination name is set or several fields are split, goes under the field's name (or
  ``options.destinationFieldName``, comma-separated, one per field), written as a literal
  key;
- several fields are split side by side: element k of each goes into new item k;
- ``allOtherFields`` adds the input's other fields (the split fields removed);
  ``selectedOtherFields`` adds the fields listed in ``fieldsToInclude``.

Binary data (``$binary`` as the field, ``options.includeBinary``) is refused: this runtime's
items are json. n8n's hint that a field was found in no item is for the editor and is left
out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

from plivo_node.core.errors import ParameterError
from plivo_node.core.items import JsonObject
from plivo_node.expressions.coercion import truthy
from plivo_node.nodes.core.field_paths import MISSING, UnsafePathError, get_path, unset_path
from plivo_node.nodes.core.node_support import (
    Output,
    check_type_version,
    mapping_parameter,
    unsupported,
)

TYPE_VERSIONS: Final = (1,)
INCLUDE_MODES: Final = ("noOtherFields", "allOtherFields", "selectedOtherFields")


def _field_names(value: Any, parameter: str, label: str, *, item_index: int) -> list[str]:
    """n8n's ``prepareFieldsArray``: a comma-separated string (trimmed, blanks dropped) or a
    list taken as it is."""
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    if isinstance(value, list):
        return [str(name) for name in value]
    raise ParameterError(
        f"The '{label}' parameter must be a string of fields separated by commas or an array "
        "of strings",
        hint=f"list the fields, e.g. 'contacts' or 'contacts, tags' ({parameter})",
        item_index=item_index,
        parameter=parameter,
    )


def _elements(value: Any) -> list[Any]:
    """What one split field gives: a list's elements, an object's values, else the value."""
    if value is MISSING:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return list(value.values())
    return [value]


def _spread(element: Any) -> JsonObject:
    """``{...element}``: an object's fields, or an array's elements keyed "0", "1", ..."""
    if isinstance(element, Mapping):
        return dict(element)
    return {str(index): value for index, value in enumerate(element)}


def execute(
    params: Mapping[str, Any], item: JsonObject, *, item_index: int, type_version: float
) -> list[Output]:
    """The new items on output 0 (none when the field is missing)."""
    check_type_version("Split Out", type_version, TYPE_VERSIONS, item_index=item_index)
    fields = [
        name.removeprefix("$json.")
        for name in _field_names(
            params.get("fieldToSplitOut", ""),
            "fieldToSplitOut",
            "Fields To Split Out",
            item_index=item_index,
        )
    ]
    if not fields:
        raise ParameterError(
            "no field to split out is given",
            hint="set fieldToSplitOut to the name of the list to split, e.g. 'contacts'",
            item_index=item_index,
            parameter="fieldToSplitOut",
        )
    if "$binary" in fields:
        raise unsupported(
            "fieldToSplitOut",
            "splitting binary data ($binary)",
            "split a json field",
            item_index=item_index,
        )
    options = mapping_parameter(params, "options", item_index=item_index)
    if truthy(options.get("includeBinary", False)):
        raise unsupported(
            "options.includeBinary",
            "copying binary data to the new items",
            "remove options.includeBinary",
            item_index=item_index,
        )
    dot_notation = not truthy(options.get("disableDotNotation", False))
    destinations = [
        name.strip() for name in str(options.get("destinationFieldName", "")).split(",")
    ]
    destinations = [name for name in destinations if name]
    if destinations and len(destinations) != len(fields):
        raise ParameterError(
            "If multiple fields to split out are given, the same number of destination fields "
            "must be given",
            hint=f"give {len(fields)} comma-separated names in options.destinationFieldName",
            item_index=item_index,
            parameter="options.destinationFieldName",
        )
    include = params.get("include", "noOtherFields")
    if include not in INCLUDE_MODES:
        raise ParameterError(
            f"{include!r} is not a way to include other fields",
            hint=f"set include to one of {', '.join(INCLUDE_MODES)}",
            item_index=item_index,
            parameter="include",
        )

    def read(data: JsonObject, name: str) -> Any:
        return get_path(data, name) if dot_notation else data.get(name, MISSING)

    several = len(fields) > 1
    entries: list[JsonObject] = []
    for position, field in enumerate(fields):
        destination = destinations[position] if destinations else ""
        for index, element in enumerate(_elements(read(item, field))):
            if index == len(entries):
                entries.append({})
            value = copy.deepcopy(element)
            spreads = isinstance(value, Mapping | list) and include == "noOtherFields"
            if spreads and not destination and not several:
                entries[index] = {**entries[index], **_spread(value)}
            else:
                entries[index][destination or field] = value

    if include == "allOtherFields":
        others = copy.deepcopy(item)
        for field in fields:
            if not dot_notation:
                others.pop(field, None)
                continue
            try:
                unset_path(others, field)
            except UnsafePathError as error:
                raise ParameterError(
                    str(error),
                    hint="rename the field",
                    item_index=item_index,
                    parameter="fieldToSplitOut",
                ) from None
        # Each new item gets its own copy: items must never share objects.
        entries = [{**copy.deepcopy(others), **entry} for entry in entries]
    elif include == "selectedOtherFields" and entries:
        selected = _field_names(
            params.get("fieldsToInclude", ""),
            "fieldsToInclude",
            "Fields To Include",
            item_index=item_index,
        )
        if not selected:
            raise ParameterError(
                "No fields specified",
                hint="Please add a field to include (fieldsToInclude)",
                item_index=item_index,
                parameter="fieldsToInclude",
            )
        for entry in entries:
            for name in selected:
                value = read(item, name)
                if value is not MISSING:  # undefined, which JSON leaves out
                    entry[name] = copy.deepcopy(value)
    return [(0, entry) for entry in entries]
