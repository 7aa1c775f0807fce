"""n8n's filter parameter: the conditions of If and Filter, evaluated for one item.

Follows packages/workflow/src/node-parameters/filter-parameter.ts (``executeFilter``,
``executeFilterCondition``, ``parseFilterConditionValues``) and the If/Filter V2 nodes
(packages/nodes-base/nodes/If/V2/IfV2.node.ts, Filter/V2/FilterV2.node.ts).

A filter value, as n8n saves it::

    {"options": {"caseSensitive": true, "leftValue": "", "typeValidation": "strict",
                 "version": 2},
     "conditions": [{"id": "...", "leftValue": "={{ $json.age }}", "rightValue": 18,
                     "operator": {"type": "number", "operation": "gte"}}],
     "combinator": "and"}

with its ``={{ }}`` strings already evaluated for the item. Each side is first read as the
operator's type (the right side as ``operator.rightType`` when given, e.g. ``any`` or
``number`` for array operators) with n8n's conversions (:mod:`.field_types`):

- strict type validation refuses a value of another type ("Wrong type: '5' is a string but
  was expecting a number"); loose validation converts ("5" -> 5, "false" -> false from filter
  version 2) and refuses only what cannot be converted ("Conversion error: ...");
- null and undefined (a missing field) pass unconverted; the right side of a one-value
  operator (``singleValue``) may be anything.

Then the operator compares, with JavaScript's semantics: ``null < 5`` is true and
``undefined < 5`` false; strings compare lower-cased unless ``caseSensitive`` (a regex's
pattern keeps its case); ``exists`` means neither null, undefined nor NaN.

Which options apply: ``conditions.options`` as saved is what n8n's runtime reads (the editor
writes it from "Ignore Case", "Convert types where required" and the typeVersion). When a
pipeline gives no ``conditions.options`` they are worked out the editor's way
(:func:`editor_options`). An operator n8n does not have is an error here, where n8n logs a
warning and lets the condition fail.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, cast

from plivo_node.core.errors import ParameterError
from plivo_node.expressions.coercion import less_than, same_value_zero, strictly_equal, truthy
from plivo_node.nodes.core.date_text import to_millis
from plivo_node.nodes.core.field_paths import MISSING
from plivo_node.nodes.core.field_types import (
    ConversionError,
    FieldType,
    convert,
    js_text,
    to_boolean,
    type_of,
)
from plivo_node.nodes.core.node_support import check_type_version, mapping_parameter

TypeValidation = Literal["strict", "loose"]

# Every operator n8n's filter offers (editor-ui's FilterConditions/constants.ts).
_ANY_TYPE: Final = ("exists", "notExists", "empty", "notEmpty")
OPERATIONS: Final[Mapping[str, frozenset[str]]] = {
    "string": frozenset(
        {
            *_ANY_TYPE,
            "equals",
            "notEquals",
            "contains",
            "notContains",
            "startsWith",
            "notStartsWith",
            "endsWith",
            "notEndsWith",
            "regex",
            "notRegex",
        }
    ),
    "number": frozenset({*_ANY_TYPE, "equals", "notEquals", "gt", "lt", "gte", "lte"}),
    "dateTime": frozenset(
        {*_ANY_TYPE, "equals", "notEquals", "after", "before", "afterOrEquals", "beforeOrEquals"}
    ),
    "boolean": frozenset({*_ANY_TYPE, "true", "false", "equals", "notEquals"}),
    "array": frozenset(
        {
            *_ANY_TYPE,
            "contains",
            "notContains",
            "lengthEquals",
            "lengthNotEquals",
            "lengthGt",
            "lengthLt",
            "lengthGte",
            "lengthLte",
        }
    ),
    "object": frozenset(_ANY_TYPE),
}
# What a side may be read as: an operator's type, or "any" (no conversion).
_SIDE_TYPES: Final = frozenset({*OPERATIONS, "any"})
_REGEX_LITERAL: Final = re.compile(r"^/(.*?)/([gimusy]*)$", re.DOTALL)
_NAMED_GROUP: Final = re.compile(r"\(\?<(?![=!])")


@dataclass(frozen=True)
class FilterOptions:
    """How conditions compare: n8n's ``FilterOptionsValue``."""

    case_sensitive: bool = True
    type_validation: TypeValidation = "strict"
    version: int = 1


def editor_options(
    *, type_version: float, ignore_case: object, loose_type_validation: object
) -> FilterOptions:
    """The options n8n's editor writes into ``conditions.options`` for an If/Filter node
    (the node's ``typeOptions.filter``): ``caseSensitive = !options.ignoreCase`` (so a node
    whose "Ignore Case" was never added compares case-sensitively), ``typeValidation`` from
    "Convert types where required", and the filter version from the typeVersion (2.2 -> 2,
    2.3 -> 3)."""
    version = 3 if type_version >= 2.3 else 2 if type_version >= 2.2 else 1
    return FilterOptions(
        case_sensitive=not truthy(ignore_case),
        type_validation="loose" if truthy(loose_type_validation) else "strict",
        version=version,
    )


def saved_options(saved: Mapping[str, Any], *, parameter: str, item_index: int) -> FilterOptions:
    """``conditions.options`` read as n8n's runtime reads it: a missing ``caseSensitive`` is
    falsy (case ignored), a ``typeValidation`` other than "strict" is loose, a missing
    ``version`` is 1."""
    version = saved.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version not in (1, 2, 3):
        raise ParameterError(
            f"the filter version {version!r} is not one n8n uses",
            hint="set conditions.options.version to 1, 2 or 3, or leave it out",
            item_index=item_index,
            parameter=f"{parameter}.options.version",
        )
    return FilterOptions(
        case_sensitive=truthy(saved.get("caseSensitive", MISSING)),
        type_validation="strict" if saved.get("typeValidation") == "strict" else "loose",
        version=version,
    )


def _with_article(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


@dataclass(frozen=True)
class _Condition:
    """One condition, checked: where it is, its operator, and its two sides as saved."""

    where: str
    type: str
    right_type: str
    operation: str
    single_value: bool
    left: Any
    right: Any


class _Evaluation:
    """One filter evaluated for one item (the errors name the item and the condition)."""

    def __init__(self, options: FilterOptions, *, item_index: int) -> None:
        self.options = options
        self.item_index = item_index

    def error(self, message: str, hint: str, parameter: str) -> ParameterError:
        return ParameterError(message, hint=hint, item_index=self.item_index, parameter=parameter)

    def parse_side(self, value: Any, side_type: str) -> tuple[bool, Any]:
        """n8n's ``parseSingleFilterValue``: (whether the value is valid, the value read)."""
        strict = self.options.type_validation == "strict"
        version = self.options.version
        if side_type == "any" or value is None or value is MISSING:
            return True, value
        if side_type == "boolean" and not strict:
            if version >= 2:
                try:
                    return True, to_boolean(value)
                except ConversionError:
                    pass
            return True, truthy(value)
        # From filter version 3, n8n reads "" and [] as an empty number rather than as
        # Number("") and Number([]), which are 0.
        if (
            side_type == "number"
            and version >= 3
            and ((isinstance(value, str) and not value.strip()) or value == [])
        ):
            return True, None
        try:
            field_type = cast(FieldType, side_type)
            return True, convert(value, field_type, strict=strict, parse_strings=True)
        except ConversionError:
            return False, None

    def invalid_message(self, wanted: str, value: Any) -> str:
        shown, kind = js_text(value), type_of(value)
        if self.options.type_validation == "strict":
            return (
                f"Wrong type: '{shown}' is {_with_article(kind)} but was expecting "
                f"{_with_article(wanted)}"
            )
        return (
            f"Conversion error: the {kind} '{shown}' can't be converted to {_with_article(wanted)}"
        )

    def hint(self) -> str:
        if self.options.type_validation == "strict":
            return (
                "change the comparison's type, or turn on 'Convert types where required' "
                "(looseTypeValidation) so that n8n converts the value"
            )
        return "change the comparison's type"

    def sides(self, condition: _Condition) -> tuple[Any, Any]:
        """n8n's ``parseFilterConditionValues``: both sides read, or the type error."""
        left_ok, left = self.parse_side(condition.left, condition.type)
        right_ok, right = self.parse_side(condition.right, condition.right_type)
        right_ok = right_ok or condition.single_value
        if not left_ok and not right_ok and type_of(condition.left) == type_of(condition.right):
            raise self.error(
                f"Comparison type expects {_with_article(condition.type)} but both fields are "
                f"{_with_article(type_of(condition.left))}",
                self.hint(),
                condition.where,
            )
        if not left_ok:
            raise self.error(
                self.invalid_message(condition.type, condition.left),
                self.hint(),
                f"{condition.where}.leftValue",
            )
        if not right_ok:
            raise self.error(
                self.invalid_message(condition.right_type, condition.right),
                self.hint(),
                f"{condition.where}.rightValue",
            )
        return left, right

    def passes(self, condition: _Condition) -> bool:
        """n8n's ``executeFilterCondition``."""
        left, right = self.sides(condition)
        exists = left is not None and left is not MISSING and not _is_nan(left)
        operation = condition.operation
        if operation == "exists":
            return exists
        if operation == "notExists":
            return not exists
        compare = _COMPARERS[condition.type]
        return compare(self, condition, left, right, exists)


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def compile_regex(pattern: str, *, where: str, item_index: int) -> re.Pattern[str]:
    """n8n's ``parseRegexPattern``: ``/body/flags`` or a bare pattern, as a Python regex.

    JavaScript's flags map to Python's (``i``, ``m``, ``s``); ``g``, ``u`` and ``y`` change
    nothing for a single test. Named groups ``(?<name>...)`` are rewritten to Python's form.
    """
    match = _REGEX_LITERAL.match(pattern)
    body, flags = (match.group(1), match.group(2)) if match else (pattern, "")
    python_flags = 0
    for flag, python_flag in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL)):
        if flag in flags:
            python_flags |= python_flag
    try:
        return re.compile(_NAMED_GROUP.sub("(?P<", body), python_flags)
    except re.error as error:
        raise ParameterError(
            f"Invalid regular expression: /{body}/: {error}",
            hint="fix the pattern (JavaScript syntax, e.g. ^\\d+$ or /abc/i)",
            item_index=item_index,
            parameter=f"{where}.rightValue",
        ) from None


def _string(
    evaluation: _Evaluation, condition: _Condition, left: Any, right: Any, _exists: bool
) -> bool:
    operation = condition.operation
    if not evaluation.options.case_sensitive:
        left = _lower(left)
        if operation not in ("regex", "notRegex"):
            right = _lower(right)
    text = "" if left is None or left is MISSING else left
    other = "" if right is None or right is MISSING else right
    if operation in ("equals", "notEquals"):
        return strictly_equal(text, other) == (operation == "equals")
    if not isinstance(other, str):  # a right side of type "any": JavaScript makes it text
        other = js_text(other)
    if operation in ("regex", "notRegex"):
        found = compile_regex(
            other, where=condition.where, item_index=evaluation.item_index
        ).search(text)
        return (found is not None) == (operation == "regex")
    results: dict[str, Callable[[], bool]] = {
        "empty": lambda: len(text) == 0,
        "notEmpty": lambda: len(text) != 0,
        "contains": lambda: other in text,
        "notContains": lambda: other not in text,
        "startsWith": lambda: text.startswith(other),
        "notStartsWith": lambda: not text.startswith(other),
        "endsWith": lambda: text.endswith(other),
        "notEndsWith": lambda: not text.endswith(other),
    }
    return results[operation]()


def _ordered(left: Any, right: Any, operation: str) -> bool:
    """JavaScript's ``<``, ``>``, ``<=``, ``>=`` (null counts as 0, undefined as NaN)."""
    if operation in ("lt", "gt"):
        smaller, larger = (left, right) if operation == "lt" else (right, left)
        return less_than(smaller, larger) is True
    # a <= b is !(b < a), except that a comparison with NaN is false either way.
    smaller, larger = (left, right) if operation == "lte" else (right, left)
    reversed_order = less_than(larger, smaller)
    return reversed_order is False


def _number(
    _evaluation: _Evaluation, condition: _Condition, left: Any, right: Any, exists: bool
) -> bool:
    operation = condition.operation
    if operation == "empty":
        return not exists
    if operation == "notEmpty":
        return exists
    if operation == "equals":
        return strictly_equal(left, right)
    if operation == "notEquals":
        return not strictly_equal(left, right)
    return _ordered(left, right, operation)


def _date_time(
    evaluation: _Evaluation, condition: _Condition, left: Any, right: Any, exists: bool
) -> bool:
    operation = condition.operation
    if operation == "empty":
        return not exists
    if operation == "notEmpty":
        return exists
    if not left or not right:  # either side null or undefined
        return False
    if not isinstance(left, datetime) or not isinstance(right, datetime):
        # Only a right side of type "any" gets here: n8n fails calling toMillis() on it.
        raise evaluation.error(
            f"the value {js_text(right)!r} is not a date",
            'compare with a date, or remove operator.rightType "any"',
            f"{condition.where}.rightValue",
        )
    a, b = to_millis(left), to_millis(right)
    results = {
        "equals": a == b,
        "notEquals": a != b,
        "after": a > b,
        "before": a < b,
        "afterOrEquals": a >= b,
        "beforeOrEquals": a <= b,
    }
    return results[operation]


def _boolean(
    _evaluation: _Evaluation, condition: _Condition, left: Any, right: Any, exists: bool
) -> bool:
    operation = condition.operation
    results = {
        "empty": lambda: not exists,
        "notEmpty": lambda: exists,
        "true": lambda: truthy(left),
        "false": lambda: not truthy(left),
        "equals": lambda: strictly_equal(left, right),
        "notEquals": lambda: not strictly_equal(left, right),
    }
    return results[operation]()


def _contains(items: Sequence[Any], value: Any, *, ignore_case: bool) -> bool:
    """n8n's ``arrayContainsValue``: ``includes()``, or text equal ignoring case."""
    if ignore_case and isinstance(value, str):
        wanted = value.lower()
        return any(isinstance(item, str) and item.lower() == wanted for item in items)
    return any(same_value_zero(item, value) for item in items)


def _array(
    evaluation: _Evaluation, condition: _Condition, left: Any, right: Any, _exists: bool
) -> bool:
    operation = condition.operation
    items: Sequence[Any] = [] if left is None or left is MISSING else left
    ignore_case = not evaluation.options.case_sensitive
    if operation == "contains":
        return _contains(items, right, ignore_case=ignore_case)
    if operation == "notContains":
        return not _contains(items, right, ignore_case=ignore_case)
    if operation == "empty":
        return len(items) == 0
    if operation == "notEmpty":
        return len(items) != 0
    length = len(items)
    if operation == "lengthEquals":
        return strictly_equal(length, right)
    if operation == "lengthNotEquals":
        return not strictly_equal(length, right)
    ordered = {"lengthGt": "gt", "lengthLt": "lt", "lengthGte": "gte", "lengthLte": "lte"}
    return _ordered(length, right, ordered[operation])


def _object(
    _evaluation: _Evaluation, condition: _Condition, left: Any, _right: Any, _exists: bool
) -> bool:
    empty = not left or len(left) == 0
    return empty if condition.operation == "empty" else not empty


_COMPARERS: Final[Mapping[str, Callable[[_Evaluation, _Condition, Any, Any, bool], bool]]] = {
    "string": _string,
    "number": _number,
    "dateTime": _date_time,
    "boolean": _boolean,
    "array": _array,
    "object": _object,
}


def _read_condition(raw: object, where: str, item_index: int) -> _Condition:
    def refuse(message: str, hint: str, parameter: str = where) -> ParameterError:
        return ParameterError(message, hint=hint, item_index=item_index, parameter=parameter)

    if not isinstance(raw, Mapping):
        raise refuse("a condition must be an object", "give each condition as n8n saves it")
    operator = raw.get("operator")
    if not isinstance(operator, Mapping):
        raise refuse(
            "the condition has no operator",
            'give it an operator such as {"type": "string", "operation": "equals"}',
            f"{where}.operator",
        )
    kind, operation = operator.get("type"), operator.get("operation")
    if kind not in OPERATIONS:
        raise refuse(
            f"{kind!r} is not a type n8n's conditions compare",
            f"use one of {', '.join(OPERATIONS)}",
            f"{where}.operator.type",
        )
    if operation not in OPERATIONS[str(kind)]:
        raise refuse(
            f"{operation!r} is not an operation of type {kind}",
            f"use one of {', '.join(sorted(OPERATIONS[str(kind)]))}",
            f"{where}.operator.operation",
        )
    right_type = operator.get("rightType", kind)
    if right_type not in _SIDE_TYPES:
        raise refuse(
            f"{right_type!r} is not a type a condition's right side can have",
            f"use one of {', '.join(sorted(_SIDE_TYPES))}",
            f"{where}.operator.rightType",
        )
    return _Condition(
        where=where,
        type=str(kind),
        right_type=str(right_type),
        operation=str(operation),
        single_value=truthy(operator.get("singleValue", False)),
        left=raw.get("leftValue", MISSING),
        right=raw.get("rightValue", MISSING),
    )


def filter_passes(
    value: Mapping[str, Any],
    options: FilterOptions,
    *,
    item_index: int,
    parameter: str = "conditions",
) -> bool:
    """Whether the item passes the filter ``value`` (its ``conditions`` and ``combinator``),
    compared with ``options``. Type errors raise :class:`ParameterError` naming the
    condition's side and the item, as n8n's node errors do."""
    raw_conditions = value.get("conditions")
    combinator = value.get("combinator")
    if not isinstance(raw_conditions, list):
        raise ParameterError(
            "the filter has no list of conditions",
            hint="give conditions.conditions as a list (it may be empty)",
            item_index=item_index,
            parameter=f"{parameter}.conditions",
        )
    if combinator not in ("and", "or"):
        raise ParameterError(
            f"{combinator!r} is not a way to combine conditions",
            hint='set conditions.combinator to "and" (all must pass) or "or" (one is enough)',
            item_index=item_index,
            parameter=f"{parameter}.combinator",
        )
    conditions = [
        _read_condition(raw, f"{parameter}.conditions[{index}]", item_index)
        for index, raw in enumerate(raw_conditions)
    ]
    evaluation = _Evaluation(options, item_index=item_index)
    results = (evaluation.passes(condition) for condition in conditions)
    # Evaluated lazily, as n8n's every()/some(): a condition after the deciding one is not
    # read, so its type error does not stop the item.
    return all(results) if combinator == "and" else any(results)


# --- the If and Filter nodes' parameters -----------------------------------------------------

# If and Filter V2 (n8n's If.node.ts / Filter.node.ts route these typeVersions to V2).
FILTER_NODE_VERSIONS: Final = (2, 2.1, 2.2, 2.3)


def node_options(
    params: Mapping[str, Any],
    conditions: Mapping[str, Any],
    *,
    type_version: float,
    item_index: int,
) -> FilterOptions:
    """The options an If/Filter node's conditions compare with (see the module docstring)."""
    saved = conditions.get("options", MISSING)
    if isinstance(saved, Mapping):
        return saved_options(saved, parameter="conditions", item_index=item_index)
    options = mapping_parameter(params, "options", item_index=item_index)
    # "Convert types where required" moved out of the options collection in typeVersion 2.1.
    loose = (
        options.get("looseTypeValidation", False)
        if type_version < 2.1
        else params.get("looseTypeValidation", False)
    )
    return editor_options(
        type_version=type_version,
        ignore_case=options.get("ignoreCase", MISSING),
        loose_type_validation=loose,
    )


def item_passes(
    params: Mapping[str, Any], *, node: str, type_version: float, item_index: int
) -> bool:
    """Whether the item passes an If/Filter node's conditions (``params`` as n8n saves them,
    evaluated for the item)."""
    check_type_version(node, type_version, FILTER_NODE_VERSIONS, item_index=item_index)
    conditions = mapping_parameter(params, "conditions", item_index=item_index)
    if not conditions:
        # n8n: a filter parameter without conditions is not a filter value; the node gets the
        # object back as it is, and an object is truthy, so every item passes.
        return True
    options = node_options(params, conditions, type_version=type_version, item_index=item_index)
    return filter_passes(conditions, options, item_index=item_index)
