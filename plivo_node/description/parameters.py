"""Per-item parameter resolution with n8n's semantics.

For one step, :class:`ParameterResolver` does once what does not depend on the item: it finds
the parameters shown for the step's resource and operation, rejects unknown names, checks
every literal value and compiles every ``={{ }}`` expression. :meth:`ParameterResolver.resolve`
then only evaluates the expressions for the item, so a batch of 100,000 items costs little
more than the expressions themselves.

The rules (n8n's ``NodeHelpers.getNodeParameters`` and ``getNodeParameter``):

- a parameter that is not given takes its ``default``; a given ``false`` or ``0`` is kept;
- a parameter whose ``displayOptions`` do not match is dropped, and when several definitions
  share a name, the one shown wins;
- a collection resolves to a dict of only the fields the user gave;
- a fixedCollection resolves to ``{group: [entry, ...]}`` (or ``{group: entry}`` without
  ``multipleValues``) holding only the groups given; each entry holds every value shown for it
  (its ``displayOptions`` read the entry's other values), defaults applied, as n8n fills them;
- ``required`` applies only to a shown parameter, and an empty string counts as missing;
- values are checked and coerced to the parameter's type (numbers and booleans from strings,
  options by membership, multiOptions from a list or a comma-separated string);
- a structured value (a filter's conditions, Edit Fields' assignments, JSON) is resolved as
  n8n's ``getParameterValue`` does: every string inside it that starts with ``=`` is an
  expression evaluated for the item, whatever its depth; a one-segment expression that finds
  nothing leaves its key out (JavaScript's undefined), which conditions tell from null.

A node without a ``resource`` parameter (n8n's core nodes) has no resource or operation: all
its parameters are its own, and ``@version`` conditions read the step's ``type_version``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from plivo_node.core.errors import ExpressionError, ParameterError, PipelineError
from plivo_node.core.redaction import register_secret
from plivo_node.core.words import did_you_mean, kind_of
from plivo_node.description import (
    DisplayOptions,
    FixedCollectionGroup,
    NodeDescription,
    Property,
)
from plivo_node.description.visibility import (
    MISSING,
    UNKNOWN,
    evaluate,
    is_shown,
    same_value,
    scoped_lookup,
)
from plivo_node.expressions import (
    CompiledExpression,
    ExpressionContext,
    compile_expression,
    is_expression,
    to_text,
)
from plivo_node.expressions.values import UNDEFINED

# JavaScript's number syntax, ASCII digits only: Python's int()/float() would also take
# "1_000", "١٢" or "infinity".
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MAX_SHOWN = 40


class _InvalidValueError(Exception):
    """A value fails its parameter's check (turned into a ParameterError or a problem line)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _shown(value: Any, prop: Property) -> str:
    """A value as it may appear in a message: never a password, never a whole document."""
    if prop.is_secret:
        return "the value given"
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else f"{text[: _MAX_SHOWN - 4]}...{text[-1]}"


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


# --- type checks, one builder per type ------------------------------------------------------

Check = Callable[[Any], Any]


def _string_check(prop: Property) -> Check:
    def text_of(value: Any) -> str:
        if isinstance(value, str | bool | int) or (
            isinstance(value, float) and math.isfinite(value)
        ):
            return to_text(value)
        if isinstance(value, list | tuple) and all(
            isinstance(part, str | int | float) for part in value
        ):
            # n8n's comma-separated fields (media_urls, media_ids, ...) also accept a list.
            return ",".join(text_of(part) for part in value)
        raise _InvalidValueError(
            f"expected text, got {kind_of(value)}",
            f"give '{prop.displayName}' a string, or an expression that yields one",
        )

    return text_of


def _range_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" from {low:g} to {high:g}"
    if low is not None:
        return f" of at least {low:g}"
    if high is not None:
        return f" of at most {high:g}"
    return ""


def _number_check(prop: Property) -> Check:
    low = prop.type_option("minValue")
    high = prop.type_option("maxValue")
    wanted = f"set '{prop.displayName}' to a number{_range_text(low, high)}"

    def to_number(value: Any) -> int | float:
        number: int | float
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _InvalidValueError(f"{_shown(value, prop)} is not a number", wanted)
        if isinstance(value, str):
            text = value.strip()
            if not _DECIMAL.fullmatch(text):
                raise _InvalidValueError(f"{_shown(value, prop)} is not a number", wanted)
            number = int(text) if _INTEGER.fullmatch(text) else float(text)
        else:
            number = value
        if isinstance(number, float):
            if not math.isfinite(number):
                raise _InvalidValueError(f"{_shown(value, prop)} is not a finite number", wanted)
            if number.is_integer():
                number = int(number)
        if low is not None and number < low:
            raise _InvalidValueError(f"{number} is below the minimum of {low:g}", wanted)
        if high is not None and number > high:
            raise _InvalidValueError(f"{number} is above the maximum of {high:g}", wanted)
        return number

    return to_number


def _boolean_check(prop: Property) -> Check:
    def to_boolean(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise _InvalidValueError(
            f"{_shown(value, prop)} is not true or false",
            f'set \'{prop.displayName}\' to true or false (the strings "true"/"false" work too)',
        )

    return to_boolean


def _options_check(prop: Property) -> Check:
    """Matches one value against the options: exactly, then by text ignoring case."""
    values = prop.option_values()
    by_text: dict[str, Any] = {}
    for value in values:
        by_text.setdefault(str(value).lower(), value)
    allowed = ", ".join(repr(value) for value in values)

    def choose(value: Any) -> Any:
        for option in values:
            if same_value(option, value):
                return option
        if isinstance(value, str | int | float):  # "post" → "POST", True → "true"
            text = str(value).strip().lower()
            if text in by_text:
                return by_text[text]
        raise _InvalidValueError(
            f"{_shown(value, prop)} is not one of the allowed values ({allowed})",
            f"set '{prop.displayName}' to one of {allowed}",
        )

    return choose


def _multi_options_check(prop: Property) -> Check:
    choose = _options_check(prop)

    def to_list(value: Any) -> list[Any]:
        if isinstance(value, str):
            parts: list[Any] = [part.strip() for part in value.split(",") if part.strip()]
        elif isinstance(value, list | tuple):
            parts = list(value)
        else:
            raise _InvalidValueError(
                f"expected a list, got {kind_of(value)}",
                f"give '{prop.displayName}' a list or a comma-separated string",
            )
        return list(dict.fromkeys(choose(part) for part in parts))

    return to_list


def _object_check(prop: Property) -> Check:
    """A filter or an assignment collection: an object of the user's entries."""

    def to_object(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise _InvalidValueError(
                f"expected an object, got {kind_of(value)}",
                f"give '{prop.displayName}' as n8n saves it (an object), or an expression "
                "that yields one",
            )
        return dict(value)

    return to_object


def _json_check(prop: Property) -> Check:
    """JSON: its text, or the value already parsed (an object or a list)."""

    def to_json(value: Any) -> Any:
        if isinstance(value, str | Mapping | list):
            return value
        raise _InvalidValueError(
            f"expected JSON text, got {kind_of(value)}",
            f"give '{prop.displayName}' JSON text, an object or a list",
        )

    return to_json


_CHECK_BUILDERS: Final[dict[str, Callable[[Property], Check]]] = {
    "string": _string_check,
    "number": _number_check,
    "boolean": _boolean_check,
    "options": _options_check,
    "multiOptions": _multi_options_check,
    "notice": _string_check,
    "json": _json_check,
    "filter": _object_check,
    "assignmentCollection": _object_check,
}
# The types whose value is a structure that may hold ={{ }} strings at any depth.
_STRUCTURED: Final = frozenset({"json", "filter", "assignmentCollection"})


# --- structured values: expressions anywhere inside -------------------------------------------


@dataclass(frozen=True, slots=True)
class _Template:
    """A structured value compiled once: its expressions are evaluated per item, the rest of it
    is copied. ``shape`` mirrors the value, with each ``=`` string replaced by its compiled
    expression."""

    shape: Any

    @staticmethod
    def compile(value: Any, path: str, problems: _Problems) -> _Template:
        def walk(node: Any, where: str) -> Any:
            if isinstance(node, Mapping):
                return {str(key): walk(inner, f"{where}.{key}") for key, inner in node.items()}
            if isinstance(node, list):
                return [walk(inner, f"{where}[{index}]") for index, inner in enumerate(node)]
            if is_expression(node):
                try:
                    return compile_expression(node, parameter=where)
                except ExpressionError as error:
                    problems.add(where, error.message, error.hint)
            return node

        return _Template(walk(value, path))

    @property
    def has_expressions(self) -> bool:
        pending = [self.shape]
        while pending:
            node = pending.pop()
            if isinstance(node, CompiledExpression):
                return True
            if isinstance(node, dict):
                pending.extend(node.values())
            elif isinstance(node, list):
                pending.extend(node)
        return False

    def evaluate(self, context: ExpressionContext) -> Any:
        def fill(node: Any) -> Any:
            if isinstance(node, CompiledExpression):
                return node.evaluate(context, keep_undefined=True)
            if isinstance(node, dict):
                filled = {key: fill(inner) for key, inner in node.items()}
                return {key: inner for key, inner in filled.items() if inner is not UNDEFINED}
            if isinstance(node, list):
                return [None if (inner := fill(item)) is UNDEFINED else inner for item in node]
            return node

        value = fill(self.shape)
        return None if value is UNDEFINED else value


# --- the prepared form of one parameter -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Slot:
    """One parameter of the step, prepared once: a checked literal, an expression or fields."""

    key: str  # its key in the resolved dict
    path: str  # its name in messages: "limit", "additionalFields.powerpack_uuid"
    prop: Property
    condition: DisplayOptions | None  # None: shown for every item; else decided per item
    literal: Any = None
    expression: CompiledExpression | None = None
    check: Check | None = None
    fields: tuple[_Slot, ...] | None = None  # a collection's fields, as the user gave them
    # A fixedCollection's groups as the user gave them: (group, multiple, each entry's slots).
    groups: tuple[tuple[str, bool, tuple[tuple[_Slot, ...], ...]], ...] | None = None
    template: _Template | None = None  # a structured value with expressions inside
    problem: _InvalidValueError | None = None  # a literal that fails its check (raised when shown)
    use_default_when_empty: bool = True

    @property
    def per_item(self) -> bool:
        return (
            self.condition is not None
            or self.expression is not None
            or self.fields is not None
            or self.groups is not None
            or self.template is not None
            or self.problem is not None
            or isinstance(self.literal, list | dict)
        )


def _is_literal(slot: _Slot) -> bool:
    """Whether a slot's value is its checked literal for every item."""
    return (
        slot.condition is None
        and slot.expression is None
        and slot.fields is None
        and slot.groups is None
        and slot.template is None
        and slot.problem is None
    )


def _dependency_order_props(props: Iterable[Property]) -> list[Property]:
    """Values whose displayOptions read no sibling first, so a value such as a schedule
    rule's ``field`` is decided before the values it shows."""
    props = list(props)
    free = [p for p in props if not _sibling_keys(p.displayOptions)]
    return free + [p for p in props if _sibling_keys(p.displayOptions)]


def _sibling_keys(condition: DisplayOptions | None) -> set[str]:
    if condition is None:
        return set()
    keys = {*(condition.show or {}), *(condition.hide or {})}
    return {key for key in keys if not key.startswith(("/", "@"))}


def _dependency_order(slots: list[_Slot]) -> list[_Slot]:
    """Slots ordered so a parameter comes after the siblings its displayOptions read.

    n8n sorts fields alphabetically, so "every" may depend on a later "repeat"; resolving in
    manifest order would read "repeat" before it has a value. The order is otherwise kept.
    """
    keys = {slot.key for slot in slots}
    ordered: list[_Slot] = []
    done: set[str] = set()
    pending = list(slots)
    while pending:
        ready = [s for s in pending if _sibling_keys(s.condition) & keys <= done | {s.key}]
        if not ready:  # a cycle: keep the manifest order for the rest
            ordered.extend(pending)
            break
        for slot in ready:
            ordered.append(slot)
            done.add(slot.key)
        pending = [s for s in pending if s.key not in done]
    return ordered


# ``$json.name``, ``$json?.name``, ``$json["name"]``, and the same after ``.json`` (as in
# ``$input.item.json.name`` or ``$('Step').item.json.name``).
_FIELD_READ = re.compile(
    r"""(?:\$|\.)json\s*(?:\??\.\s*([A-Za-z_$][\w$]*)|(?:\?\.)?\[\s*(["'`])(.*?)\2\s*\])"""
)


def fields_read(source: str) -> set[str]:
    """The names of the item fields an expression's text reads (a static, generous reading)."""
    return {match.group(1) or match.group(3) for match in _FIELD_READ.finditer(source)}


def _secret_slots(slots: Iterable[_Slot]) -> Iterator[_Slot]:
    """Every secret parameter among ``slots``, collections' fields included."""
    for slot in slots:
        if slot.fields is not None:
            yield from _secret_slots(slot.fields)
        elif slot.prop.is_secret:
            yield slot


def _fresh(value: Any) -> Any:
    # Items must never share mutable values: a handler may change its params.
    if isinstance(value, dict):
        return {key: _fresh(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_fresh(inner) for inner in value]
    return value


# Which parameters a (resource, operation) may show depends only on the description, so it
# is worked out once per pair rather than once per step: a pipeline of 20,000 steps has a
# handful of pairs. The description is kept in the value so its id() stays its own.
_SHOWN_FOR_OPERATION: dict[tuple[int, str, str], tuple[NodeDescription, list[Property]]] = {}


class _Problems(list[str]):
    """The problems found while a step's parameters are prepared, reported all at once."""

    def add(self, path: str, message: str, hint: str | None = None) -> None:
        self.append(f"parameters.{path}: {message}" + (f" ({hint})" if hint else ""))


# --- the resolver ------------------------------------------------------------------------------


class ParameterResolver:
    """Resolves one step's parameters for each item (see the module docstring for the rules)."""

    resource: str
    operation: str

    def __init__(
        self,
        description: NodeDescription,
        raw: Mapping[str, Any],
        *,
        step_name: str,
        type_version: float | None = None,
    ) -> None:
        self._source = f"step '{step_name}'"
        if type_version is not None:
            self._version: float = type_version
        else:
            self._version = description.version if isinstance(description.version, int) else 1
        known: dict[str, Any] = {}
        if any(prop.name == "resource" for prop in description.properties):
            self.resource = self._fixed_choice(description, raw, "resource", None)
            self.operation = self._fixed_choice(description, raw, "operation", self.resource)
            known = {"resource": self.resource, "operation": self.operation}
        else:  # a core node: its parameters are its own, there is nothing to choose
            self.resource = self.operation = ""
        self._known = known
        problems = _Problems()
        shown_for_operation = self._shown_for_operation(description, known)
        self._reject_unknown(raw, shown_for_operation, problems)
        slots = self._prepare(shown_for_operation, raw, known, problems)
        if problems:
            raise PipelineError(self._source, problems)
        self._static: dict[str, Any] = {
            slot.key: slot.literal for slot in slots if not slot.per_item
        }
        self._per_item: tuple[_Slot, ...] = tuple(
            slot for slot in _dependency_order(slots) if slot.per_item
        )
        # Input fields whose values become a secret parameter (an endpoint password read with
        # ={{ $json.pw }}): the executor masks them wherever the item's json is copied.
        secret_slots = list(_secret_slots(slots))
        self.has_secret_parameters = bool(secret_slots)
        self.secret_input_fields: frozenset[str] = frozenset(
            name
            for slot in secret_slots
            if slot.expression is not None
            for name in fields_read(slot.expression.source)
        )

    @property
    def _operation_text(self) -> str:
        """What messages call the operation ("sms send"), or "this node" without one."""
        return f"{self.resource} {self.operation}".strip() or "this node"

    # -- once per step ----------------------------------------------------------------------

    def _fixed_choice(
        self,
        description: NodeDescription,
        raw: Mapping[str, Any],
        name: str,
        resource: str | None,
    ) -> str:
        """``resource`` or ``operation``: a literal among the values offered, never per item."""
        if name == "resource":
            definition = next((p for p in description.properties if p.name == name), None)
            where = "the node"
        else:
            definition = description.operation_property(resource or "")
            where = f"resource '{resource}'"
        if definition is None:
            if not any(prop.name == name for prop in description.properties):
                # A node without this parameter at all (Edit Fields, If): its one handler
                # runs under the key ("", "") (plivo_node.core.node.SINGLE_OPERATION).
                return ""
            raise PipelineError(self._source, [f"parameters.{name}: {where} has no {name}s"])
        value = raw.get(name, definition.default)
        offered = [str(option) for option in definition.option_values()]
        if is_expression(value):
            problem = (
                f"parameters.{name}: {_shown(value, definition)} is an expression, but the "
                f"{name} must be a fixed value (one of: {', '.join(offered)})"
            )
            raise PipelineError(self._source, [problem])
        if value not in offered:
            article = "an" if name == "operation" else "a"
            guess = did_you_mean(value, offered)
            problem = (
                f"parameters.{name}: {_shown(value, definition)} is not {article} {name} of "
                f"{where} (valid: {', '.join(offered)}){guess}"
            )
            raise PipelineError(self._source, [problem])
        return str(value)

    @staticmethod
    def _shown_for_operation(
        description: NodeDescription, known: Mapping[str, Any]
    ) -> list[Property]:
        """The parameters this resource and operation may show (other conditions aside)."""
        key = (id(description), known.get("resource", ""), known.get("operation", ""))
        cached = _SHOWN_FOR_OPERATION.get(key)
        if cached is not None:
            return cached[1]

        def lookup(name: str) -> Any:
            return known.get(name.removeprefix("/"), UNKNOWN)

        shown = [
            prop
            for prop in description.properties
            if evaluate(prop.displayOptions, lookup) is not False
        ]
        _SHOWN_FOR_OPERATION[key] = (description, shown)
        return shown

    def _reject_unknown(
        self, raw: Mapping[str, Any], shown: list[Property], problems: _Problems
    ) -> None:
        valid = sorted({prop.name for prop in shown})
        for name in raw:
            if name in valid:
                continue
            home = next(
                (p for p in shown if any(f.name == name for f in p.fields()) and p.name in valid),
                None,
            )
            if home is not None:
                problems.add(
                    str(name),
                    f"for {self._operation_text} this is a field of "
                    f"'{home.displayName}', not a parameter of its own",
                    f"move it under {home.name}",
                )
                continue
            problems.add(
                str(name),
                f"unknown parameter for {self._operation_text}" + did_you_mean(name, valid),
                f"valid parameters: {', '.join(valid)}",
            )

    def _prepare(
        self,
        shown: list[Property],
        raw: Mapping[str, Any],
        known: dict[str, Any],
        problems: _Problems,
    ) -> list[_Slot]:
        """One slot per parameter that may be shown, in manifest order."""
        # Literal values of the parameters shown for every item; anything else (an expression,
        # a parameter shown only for some items) is UNKNOWN until an item is resolved.
        decided: dict[str, Any] = {**known, "@version": self._version}

        def lookup(key: str) -> Any:
            return decided.get(key.removeprefix("/"), UNKNOWN)

        slots: list[_Slot] = []
        taken: set[str] = set()
        for prop in shown:
            if prop.name in taken:
                continue  # a same-name definition already shown wins
            visibility = evaluate(prop.displayOptions, lookup)
            if visibility is False:
                continue
            taken.add(prop.name)
            always = visibility is True
            if prop.name in known:
                slot = _Slot(prop.name, prop.name, prop, condition=None, literal=known[prop.name])
            else:
                slot = self._slot(
                    prop, prop.name, raw, always=always, top_level=True, problems=problems
                )
            slots.append(slot)
            if always and slot.expression is None and slot.problem is None:
                decided[prop.name] = slot.literal
        return slots

    def _slot(
        self,
        prop: Property,
        path: str,
        raw: Mapping[str, Any],
        *,
        always: bool,
        top_level: bool,
        problems: _Problems,
    ) -> _Slot:
        condition = None if always else prop.displayOptions
        given = prop.name in raw
        value = raw.get(prop.name)
        if prop.noDataExpression and is_expression(value):
            problems.add(path, "must be a fixed value, not an expression", "remove the leading '='")
        if prop.type == "collection":
            return self._collection_slot(prop, path, value if given else {}, condition, problems)
        if prop.type == "fixedCollection":
            chosen = value if given and value is not None else prop.default
            return self._fixed_collection_slot(prop, path, chosen, condition, problems)
        check = _CHECK_BUILDERS[prop.type](prop)
        if given and prop.type in _STRUCTURED and isinstance(value, Mapping | list):
            template = _Template.compile(value, path, problems)
            if template.has_expressions:
                return _Slot(prop.name, path, prop, condition, check=check, template=template)
        if given and is_expression(value):
            try:
                compiled = compile_expression(value, parameter=path)
            except ExpressionError as error:
                problems.add(path, error.message, error.hint)
                compiled = None
            return _Slot(
                prop.name,
                path,
                prop,
                condition,
                expression=compiled,
                check=check,
                use_default_when_empty=top_level,
            )
        literal: Any = prop.default if not given or value is None else value
        problem: _InvalidValueError | None = None
        try:
            literal = self._finish(prop, path, check, literal, from_expression=False)
        except _InvalidValueError as invalid:
            problem = invalid
        if problem is not None and always:
            problems.add(path, problem.message, problem.hint)
        elif problem is None and prop.is_secret and isinstance(literal, str):
            register_secret(literal)
        return _Slot(
            prop.name, path, prop, condition, literal=literal, check=check, problem=problem
        )

    def _collection_slot(
        self,
        prop: Property,
        path: str,
        value: Any,
        condition: DisplayOptions | None,
        problems: _Problems,
    ) -> _Slot:
        if is_expression(value) or not isinstance(value, Mapping):
            problems.add(
                path,
                f"expected a mapping of fields, got {kind_of(value)}",
                "give each field its own value (fields may hold expressions)",
            )
            return _Slot(prop.name, path, prop, condition, literal={})
        root = self._known

        def root_lookup(key: str) -> Any:
            return root.get(key[1:], UNKNOWN) if key.startswith("/") else UNKNOWN

        offered = [f for f in prop.fields() if evaluate(f.displayOptions, root_lookup) is not False]
        names = sorted(f.name for f in offered)
        slots: list[_Slot] = []
        for name in value:
            if name not in names:
                problems.add(
                    f"{path}.{name}",
                    f"unknown field of '{prop.displayName}' for {self._operation_text}"
                    + did_you_mean(name, names),
                    f"valid fields: {', '.join(names)}",
                )
        for sub in offered:
            if sub.name not in value:
                continue  # only the fields the user gave are kept
            always = evaluate(sub.displayOptions, root_lookup) is True
            slots.append(
                self._slot(
                    sub,
                    f"{path}.{sub.name}",
                    value,
                    always=always,
                    top_level=False,
                    problems=problems,
                )
            )
        fields = tuple(_dependency_order(slots))
        if all(not s.per_item for s in fields):
            # Every field is a checked literal: the dict is built once, copied per item.
            literal = {s.key: s.literal for s in fields}
            return _Slot(prop.name, path, prop, condition, literal=literal)
        return _Slot(prop.name, path, prop, condition, fields=fields)

    def _fixed_collection_slot(
        self,
        prop: Property,
        path: str,
        value: Any,
        condition: DisplayOptions | None,
        problems: _Problems,
    ) -> _Slot:
        groups = {group.name: group for group in prop.groups()}
        names = ", ".join(groups)
        if is_expression(value) or not isinstance(value, Mapping):
            problems.add(
                path,
                f"expected a mapping of groups ({names}), got {kind_of(value)}",
                f"write it as n8n saves it, e.g. {{{next(iter(groups), 'group')}: [{{...}}]}}",
            )
            return _Slot(prop.name, path, prop, condition, literal={})
        multiple = bool(prop.type_option("multipleValues"))
        prepared: list[tuple[str, bool, tuple[tuple[_Slot, ...], ...]]] = []
        for name, entries in value.items():
            group = groups.get(str(name))
            if group is None:
                problems.add(
                    f"{path}.{name}",
                    f"unknown group of '{prop.displayName}'" + did_you_mean(name, list(groups)),
                    f"valid groups: {names}",
                )
                continue
            listed = entries if multiple else [entries]
            if not isinstance(listed, list):
                problems.add(
                    f"{path}.{name}",
                    f"expected a list of entries, got {kind_of(entries)}",
                    f"write {name}: [{{...}}, ...], one mapping per entry",
                )
                continue
            slots = tuple(
                self._entry_slots(
                    group, f"{path}.{name}" + (f"[{i}]" if multiple else ""), entry, problems
                )
                for i, entry in enumerate(listed)
            )
            prepared.append((group.name, multiple, slots))
        every = [slot for _, _, entries in prepared for entry in entries for slot in entry]
        if all(_is_literal(slot) for slot in every):
            # Every value is a checked literal: the dict is built once, copied per item.
            literal = {
                group: [{s.key: s.literal for s in entry} for entry in entries]
                if many
                else {s.key: s.literal for s in entries[0]}
                for group, many, entries in prepared
            }
            return _Slot(prop.name, path, prop, condition, literal=literal)
        return _Slot(prop.name, path, prop, condition, groups=tuple(prepared))

    def _entry_slots(
        self, group: FixedCollectionGroup, path: str, entry: Any, problems: _Problems
    ) -> tuple[_Slot, ...]:
        """One entry of a fixedCollection group: every value shown for it, as ``_prepare``
        does for a node's parameters, with the entry's own values deciding what is shown."""
        if not isinstance(entry, Mapping):
            problems.add(
                path,
                f"expected a mapping of values, got {kind_of(entry)}",
                f"give each entry of '{group.displayName}' its values as a mapping",
            )
            return ()
        known = [value.name for value in group.values]
        for name in entry:
            if name not in known:
                problems.add(
                    f"{path}.{name}",
                    f"unknown value of '{group.displayName}'" + did_you_mean(name, known),
                    f"valid values: {', '.join(sorted(set(known)))}",
                )
        decided: dict[str, Any] = {"@version": self._version}
        root = self._known

        def lookup(key: str) -> Any:
            if key.startswith("/"):
                return root.get(key[1:], UNKNOWN)
            return decided.get(key, UNKNOWN)

        slots: list[_Slot] = []
        taken: set[str] = set()
        for value in _dependency_order_props(group.values):
            if value.name in taken:
                continue
            visibility = evaluate(value.displayOptions, lookup)
            if visibility is False:
                continue
            taken.add(value.name)
            always = visibility is True
            slot = self._slot(
                value,
                f"{path}.{value.name}",
                entry,
                always=always,
                top_level=True,
                problems=problems,
            )
            slots.append(slot)
            if always and slot.expression is None and slot.problem is None:
                decided[value.name] = slot.literal
        return tuple(_dependency_order(slots))

    @staticmethod
    def _finish(
        prop: Property, path: str, check: Check, value: Any, *, from_expression: bool
    ) -> Any:
        """Type-check ``value`` and apply ``required`` (an empty string counts as missing)."""
        if prop.required and _is_empty(value):
            if from_expression:
                raise _InvalidValueError(
                    f"'{prop.displayName}' is required, but its expression gave an empty value",
                    "check that every item has the field the expression reads",
                )
            raise _InvalidValueError(
                f"'{prop.displayName}' is required",
                f"set parameters.{path} to a value, or to an expression such as "
                f"={{{{ $json.{prop.name} }}}} that reads it from each item",
            )
        if prop.type == "string" and value == "":
            return ""
        return check(value)

    # -- once per item ------------------------------------------------------------------------

    def resolve(self, context: ExpressionContext) -> dict[str, Any]:
        """The item's parameters: shown ones only, defaults applied, expressions evaluated."""
        values = dict(self._static)
        return self._fill(values, self._per_item, context, root=values)

    def _fill(
        self,
        resolved: dict[str, Any],
        slots: tuple[_Slot, ...],
        context: ExpressionContext,
        *,
        root: dict[str, Any],
    ) -> dict[str, Any]:
        """Add to ``resolved`` the value of every slot shown (``/name`` keys read ``root``)."""
        for slot in slots:
            if slot.condition is not None and not is_shown(
                slot.condition, scoped_lookup(resolved, root, version=self._version)
            ):
                continue
            value = self._value(slot, context, root)
            if value is not MISSING:
                resolved[slot.key] = value
        return resolved

    def _value(self, slot: _Slot, context: ExpressionContext, root: dict[str, Any]) -> Any:
        if slot.problem is not None:
            raise self._error(slot, slot.problem, context)
        if slot.fields is not None:
            return self._fill({}, slot.fields, context, root=root)
        if slot.groups is not None:
            return {
                group: [self._fill({}, entry, context, root=root) for entry in entries]
                if multiple
                else self._fill({}, entries[0], context, root=root)
                for group, multiple, entries in slot.groups
            }
        if slot.template is not None:
            result = slot.template.evaluate(context)
        elif slot.expression is None:
            return _fresh(slot.literal)
        else:
            result = slot.expression.evaluate(context)
        if result is None and not slot.prop.required:
            # An expression that finds nothing leaves the parameter unset.
            return _fresh(slot.prop.default) if slot.use_default_when_empty else MISSING
        assert slot.check is not None  # every non-collection slot has one
        try:
            value = self._finish(slot.prop, slot.path, slot.check, result, from_expression=True)
        except _InvalidValueError as invalid:
            raise self._error(slot, invalid, context) from None
        if slot.prop.is_secret and isinstance(value, str):
            register_secret(value)
        return value

    @staticmethod
    def _error(
        slot: _Slot, invalid: _InvalidValueError, context: ExpressionContext
    ) -> ParameterError:
        return ParameterError(
            invalid.message,
            hint=invalid.hint,
            item_index=context.item_index,
            parameter=slot.path,
        )
