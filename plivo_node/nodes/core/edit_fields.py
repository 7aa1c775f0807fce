"""Edit Fields (Set) (``n8n-nodes-base.set``, typeVersion 3.3 and 3.4): sets fields of the item.

n8n: packages/nodes-base/nodes/Set/v2/{SetV2.node.ts, manual.mode.ts, raw.mode.ts,
helpers/utils.ts}. Per item, the node builds a new item:

1. its starting fields: none, unless "Include Other Input Fields" (``includeOtherFields``) is
   on; then ``include`` says which: all (the default), ``selected`` (``includeFields``) or all
   ``except`` (``excludeFields``), each a comma-separated list of field paths;
2. then the fields to set, in one of two modes:

   - ``manual``: ``assignments.assignments[]``, each ``{id, name, value, type}``; the value is
     converted to its type as n8n does (:mod:`.field_types`): "12" is the number 12, "abc" is
     an error unless ``options.ignoreConversionErrors`` (then the value is kept as it is), a
     boolean takes true/false/"true"/"1"/"0"..., an array or object may be JSON text; null
     and a missing value set the field to null;
   - ``raw`` (JSON): ``jsonOutput``, an object or its JSON text (repaired as n8n repairs it:
     single quotes, unquoted keys, trailing commas), whose fields are set;

3. a field's name is a path (``a.b`` sets ``b`` inside ``a``, ``list[0]``) unless
   ``options.dotNotation`` is false.

Binary data is not carried over (n8n 3.4's default "Strip Binary Data"); asking to keep it
(``options.stripBinary: false`` with other fields included, or 3.3's
``options.includeBinary``) is an error. "Duplicate Item" only acts on n8n's test runs from the
editor and is ignored here as in n8n's production runs. typeVersions 3 to 3.2 (whose fields
are ``fields.values``) are refused.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from plivo_node.core.errors import ParameterError
from plivo_node.core.items import JsonObject
from plivo_node.expressions.coercion import truthy
from plivo_node.nodes.core.field_paths import (
    MISSING,
    UnsafePathError,
    get_path,
    literal_key,
    set_path,
    unset_path,
)
from plivo_node.nodes.core.field_types import (
    ConversionError,
    FieldType,
    convert,
    js_text,
    value_description,
)
from plivo_node.nodes.core.lenient_json import repair_json
from plivo_node.nodes.core.node_support import (
    Output,
    check_type_version,
    mapping_parameter,
    unsupported,
)

TYPE_VERSIONS: Final = (3.3, 3.4)
ASSIGNMENT_TYPES: Final[Mapping[str, FieldType]] = {
    "string": "string",
    "number": "number",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}
INCLUDE_MODES: Final = ("all", "selected", "except")
# The JSON mode's default text, as the node's description has it.
DEFAULT_JSON_OUTPUT: Final = '{\n  "my_field_1": "value",\n  "my_field_2": 1\n}\n'
_ARRAY_INDEX: Final = re.compile(r"0|[1-9][0-9]{0,9}")


class _Fields:
    """Reads and writes fields by path (dot notation) or by literal name (n8n's
    ``configureFieldHelper``)."""

    def __init__(self, *, dot_notation: bool, item_index: int) -> None:
        self.dot_notation = dot_notation
        self.item_index = item_index

    def _refused(self, error: UnsafePathError, parameter: str) -> ParameterError:
        return ParameterError(
            str(error),
            hint="rename the field",
            item_index=self.item_index,
            parameter=parameter,
        )

    def get(self, data: JsonObject, key: str) -> Any:
        if self.dot_notation:
            return get_path(data, key)
        return data.get(literal_key(data, key), MISSING)

    def set(self, data: JsonObject, key: str, value: Any, *, parameter: str) -> None:
        if not self.dot_notation:
            data[literal_key(data, key)] = value
            return
        try:
            set_path(data, key, value)
        except UnsafePathError as error:
            raise self._refused(error, parameter) from None

    def unset(self, data: JsonObject, key: str, *, parameter: str) -> None:
        if not self.dot_notation:
            data.pop(literal_key(data, key), None)
            return
        try:
            unset_path(data, key)
        except UnsafePathError as error:
            raise self._refused(error, parameter) from None


def _field_list(value: Any, parameter: str, *, item_index: int) -> list[str]:
    """A comma-separated list of field names (or a list of them), blanks dropped."""
    if isinstance(value, list) and all(isinstance(entry, str) for entry in value):
        names = value
    elif isinstance(value, str):
        names = value.split(",")
    else:
        raise ParameterError(
            f"expected a comma-separated list of field names, got {type(value).__name__}",
            hint="list the fields, e.g. 'name, email'",
            item_index=item_index,
            parameter=parameter,
        )
    return [name.strip() for name in names if name.strip()]


def _starting_fields(
    params: Mapping[str, Any], item: JsonObject, include: str, fields: _Fields, item_index: int
) -> JsonObject:
    """n8n's ``composeReturnItem`` before the new fields: what of the input the item keeps."""
    if include == "none":
        return {}
    if include == "all":
        return copy.deepcopy(item)
    if include == "selected":
        kept: JsonObject = {}
        for key in _field_list(
            params.get("includeFields", ""), "includeFields", item_index=item_index
        ):
            value = fields.get(item, key)
            if value is MISSING:
                continue  # JavaScript sets undefined, which JSON leaves out
            # n8n keeps a selected nested field under its last name: "a.b" becomes "b".
            target = key.split(".")[-1] if fields.dot_notation and "." in key else key
            fields.set(kept, target, copy.deepcopy(value), parameter="includeFields")
        return kept
    if include == "except":
        remaining = copy.deepcopy(item)
        for key in _field_list(
            params.get("excludeFields", ""), "excludeFields", item_index=item_index
        ):
            fields.unset(remaining, key, parameter="excludeFields")
        return remaining
    raise ParameterError(
        f"{include!r} is not a way to include input fields",
        hint=f"set include to one of {', '.join(INCLUDE_MODES)}",
        item_index=item_index,
        parameter="include",
    )


def _finite(value: Any, name: str, parameter: str, item_index: int) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        # n8n would keep Infinity, which JSON cannot hold (it becomes null in the output).
        raise ParameterError(
            f"'{name}' would be {js_text(value)}, which JSON cannot hold",
            hint="give a finite number",
            item_index=item_index,
            parameter=parameter,
        )
    return value


def _assigned_value(
    assignment: Mapping[str, Any],
    field_type: FieldType,
    *,
    ignore_errors: bool,
    parameter: str,
    item_index: int,
) -> Any:
    """n8n's ``validateEntry`` (typeVersion >= 3.2): the value converted to its type."""
    name = str(assignment.get("name", ""))
    value = assignment.get("value", MISSING)
    if value is None or value is MISSING:
        return None
    if field_type == "string":
        value = convert(value, "string", parse_strings=True)  # String(), or JSON for objects
    try:
        converted = convert(value, field_type)
    except ConversionError:
        if ignore_errors:
            return copy.deepcopy(value)
        raise ParameterError(
            f"'{name}' expects a {field_type} but we got {value_description(value)}",
            hint=f"change the type of the field '{name}', or turn on the option 'Ignore Type "
            "Conversion Errors' (ignoreConversionErrors) to keep values that do not convert",
            item_index=item_index,
            parameter=parameter,
        ) from None
    return _finite(copy.deepcopy(converted), name, parameter, item_index)


def _js_key_order(keys: Sequence[str]) -> list[str]:
    """The order JavaScript lists an object's keys in: array indices first, ascending."""
    indices = sorted((key for key in keys if _ARRAY_INDEX.fullmatch(key)), key=int)
    return [*indices, *(key for key in keys if not _ARRAY_INDEX.fullmatch(key))]


def _manual_fields(
    params: Mapping[str, Any], options: Mapping[str, Any], item_index: int
) -> dict[str, Any]:
    """The fields of manual mode (n8n's ``prepareReturnItem``), by name."""
    collection = mapping_parameter(params, "assignments", item_index=item_index)
    assignments = collection.get("assignments", [])
    if not isinstance(assignments, list):
        raise ParameterError(
            "expected a list of assignments",
            hint="give assignments.assignments as a list of {name, value, type}",
            item_index=item_index,
            parameter="assignments.assignments",
        )
    ignore_errors = truthy(options.get("ignoreConversionErrors", False))
    values: dict[str, Any] = {}
    for index, assignment in enumerate(assignments):
        where = f"assignments.assignments[{index}]"
        if not isinstance(assignment, Mapping) or not isinstance(assignment.get("name"), str):
            raise ParameterError(
                "an assignment needs a name",
                hint="give each assignment as {name, value, type}",
                item_index=item_index,
                parameter=where,
            )
        kind = assignment.get("type")
        if kind == "binary":
            raise unsupported(
                f"{where}.type",
                "a binary field assignment",
                "set json fields only",
                item_index=item_index,
            )
        if kind not in ASSIGNMENT_TYPES:
            raise ParameterError(
                f"{kind!r} is not a field type",
                hint=f"use one of {', '.join(ASSIGNMENT_TYPES)}",
                item_index=item_index,
                parameter=f"{where}.type",
            )
        values[assignment["name"]] = _assigned_value(
            assignment,
            ASSIGNMENT_TYPES[str(kind)],
            ignore_errors=ignore_errors,
            parameter=f"{where}.value",
            item_index=item_index,
        )
    return values


def _raw_fields(params: Mapping[str, Any], item_index: int) -> dict[str, Any]:
    """The fields of JSON mode (n8n's ``parseJsonParameter``)."""
    value = params.get("jsonOutput", DEFAULT_JSON_OUTPUT)
    if isinstance(value, str):
        try:
            value = repair_json(value)
        except ValueError as error:
            raise ParameterError(
                f"The 'JSON Output' contains invalid JSON ({error})",
                hint='write a JSON object, e.g. {"name": "{{ $json.name }}"}',
                item_index=item_index,
                parameter="jsonOutput",
            ) from None
    if not isinstance(value, Mapping):
        raise ParameterError(
            "The 'JSON Output' does not contain a valid JSON object",
            hint="make the JSON an object ({...}), whose fields are set on the item",
            item_index=item_index,
            parameter="jsonOutput",
        )
    return copy.deepcopy(dict(value))


def _refuse_binary(
    options: Mapping[str, Any], include: str, type_version: float, item_index: int
) -> None:
    """n8n copies the input's binary data in these cases; this runtime's items are json."""
    if type_version >= 3.4:
        keeps = not truthy(options.get("stripBinary", True)) and include != "none"
        setting = "options.stripBinary"
    else:
        keeps = truthy(options.get("includeBinary", False))
        setting = "options.includeBinary"
    if keeps:
        raise unsupported(
            setting,
            "keeping the input's binary data",
            f"remove {setting} (binary data is dropped)",
            item_index=item_index,
        )


def execute(
    params: Mapping[str, Any], item: JsonObject, *, item_index: int, type_version: float
) -> list[Output]:
    """The new item on output 0."""
    check_type_version("Edit Fields", type_version, TYPE_VERSIONS, item_index=item_index)
    options = mapping_parameter(params, "options", item_index=item_index)
    include_others = truthy(params.get("includeOtherFields", False))
    include = str(params.get("include", "all")) if include_others else "none"
    _refuse_binary(options, include, type_version, item_index)
    mode = params.get("mode", "manual")
    if mode == "manual":
        new_fields = _manual_fields(params, options, item_index)
    elif mode == "raw":
        new_fields = _raw_fields(params, item_index)
    else:
        raise ParameterError(
            f"{mode!r} is not a mode of Edit Fields",
            hint="set mode to manual (fields one by one) or raw (JSON)",
            item_index=item_index,
            parameter="mode",
        )
    # dotNotation is on unless set to exactly false (n8n: options.dotNotation !== false).
    fields = _Fields(
        dot_notation=options.get("dotNotation", True) is not False, item_index=item_index
    )
    result = _starting_fields(params, item, include, fields, item_index)
    for name in _js_key_order(list(new_fields)):
        fields.set(result, name, new_fields[name], parameter="assignments")
    return [(0, result)]
