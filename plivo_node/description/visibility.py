"""n8n's ``displayOptions`` rules: whether a parameter is shown, given the other values.

As in n8n's ``NodeHelpers.displayParameter``: every ``show`` key must match (keys ANDed) and
a key matches when the parameter's value equals any listed value (values ORed); the parameter
is hidden as soon as any ``hide`` key matches. A list value (multiOptions) matches when any of
its elements does. A listed value may be a condition ``{"_cnd": {op: operand}}``. A key naming
a parameter that has no value never matches.

The lookup may also answer :data:`UNKNOWN` (the value depends on the item): the answer is
then ``None`` unless a known key already decides it, which lets callers sort parameters into
"always shown", "never shown" and "decide per item" once per step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from plivo_node.description.models import DisplayOptions


class _Marker:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


MISSING: Final = _Marker("MISSING")
UNKNOWN: Final = _Marker("UNKNOWN")

Lookup = Callable[[str], Any]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def _condition_holds(condition: Mapping[str, Any], value: Any) -> bool:
    (op, operand), *_ = condition.items()
    if op == "eq":
        return bool(value == operand)
    if op == "not":
        return bool(value != operand)
    if op == "exists":
        present = value is not None and value != ""
        return present == bool(operand)
    if op in ("startsWith", "endsWith", "includes", "regex"):
        if not isinstance(value, str):
            return False
        if op == "startsWith":
            return value.startswith(operand)
        if op == "endsWith":
            return value.endswith(operand)
        if op == "includes":
            return operand in value
        return re.search(operand, value) is not None
    number = _number(value)
    if number is None:
        return False
    if op == "between":
        return float(operand["from"]) <= number <= float(operand["to"])
    bound = float(operand)
    if op == "gt":
        return number > bound
    if op == "gte":
        return number >= bound
    if op == "lt":
        return number < bound
    return number <= bound  # "lte", the last operator the schema allows


def same_value(a: Any, b: Any) -> bool:
    """Equality of parameter values: ``True == 1`` in Python, but they are different values."""
    return bool(a == b) and isinstance(a, bool) == isinstance(b, bool)


def value_matches(expected: tuple[Any, ...], actual: Any) -> bool:
    """Whether ``actual`` (or, for a list, any of its elements) is one of ``expected``."""
    candidates = actual if isinstance(actual, list | tuple) else (actual,)
    for candidate in candidates:
        for wanted in expected:
            if isinstance(wanted, Mapping) and "_cnd" in wanted:
                if _condition_holds(wanted["_cnd"], candidate):
                    return True
            elif same_value(wanted, candidate):
                return True
    return False


def evaluate(display_options: DisplayOptions | None, lookup: Lookup) -> bool | None:
    """Shown (True), hidden (False) or undecided until the item is known (None)."""
    if display_options is None:
        return True
    undecided = False
    for key, expected in (display_options.show or {}).items():
        actual = lookup(key)
        if actual is UNKNOWN:
            undecided = True
        elif actual is MISSING or not value_matches(expected, actual):
            return False
    for key, expected in (display_options.hide or {}).items():
        actual = lookup(key)
        if actual is UNKNOWN:
            undecided = True
        elif actual is not MISSING and value_matches(expected, actual):
            return False
    return None if undecided else True


def is_shown(display_options: DisplayOptions | None, lookup: Lookup) -> bool:
    """:func:`evaluate` for a lookup that knows every value."""
    return evaluate(display_options, lookup) is not False


def scoped_lookup(
    siblings: Mapping[str, Any], root: Mapping[str, Any], *, version: float = 1
) -> Lookup:
    """A lookup for one level: ``/name`` reads the top level, ``@version`` the node's version."""

    def lookup(key: str) -> Any:
        if key == "@version":
            return version
        if key.startswith("/"):
            return root.get(key[1:], MISSING)
        return siblings.get(key, MISSING)

    return lookup
