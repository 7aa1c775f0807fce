"""Typed, frozen views of a node description and a credential type.

Field names are n8n's JSON keys (camelCase) on purpose: a description serialises to the JSON
that n8n editors read without a renaming table, and code reading it uses the names the n8n
documentation uses. The models are built only from data that already passed the JSON Schema
(see :mod:`.model_data`), and the semantic checks run on them, so they hold no validation logic
of their own. They are plain frozen dataclasses: every command that loads a node imports them.
"""

# ruff: noqa: N815  (n8n's camelCase keys are the field names, see above)

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Self

from plivo_node.description.model_data import build, dump

PropertyType = Literal[
    "string",
    "number",
    "boolean",
    "options",
    "multiOptions",
    "collection",
    # n8n's structured parameters: JSON text, a note shown in the editor, a filter's
    # conditions (If, Filter) and a list of field assignments (Edit Fields).
    "json",
    "notice",
    "filter",
    "assignmentCollection",
    # Named groups of values (n8n's fixedCollection): {group: [entry, ...]} with
    # typeOptions.multipleValues, else {group: entry}; each entry holds the group's values.
    "fixedCollection",
]
OptionScalar = str | int | float | bool


class _Model:
    """What every model offers: building from JSON data, and the JSON data back."""

    @classmethod
    def from_data(cls, data: Any) -> Self:
        """The model built from JSON data (ModelDataError, a ValueError, when it does not fit)."""
        return build(cls, data)

    def to_data(self) -> dict[str, Any]:
        """Every field as JSON data; ``from_data`` gives back an equal model."""
        return dump(self)


# Each model is @dataclass(frozen=True, kw_only=True): keyword-only, so fields with and
# without defaults are declared in n8n's key order.


@dataclass(frozen=True, kw_only=True)
class OptionValue(_Model):
    """One choice of an ``options`` or ``multiOptions`` parameter."""

    name: str
    value: OptionScalar
    description: str | None = None
    action: str | None = None


@dataclass(frozen=True, kw_only=True)
class DisplayOptions(_Model):
    """When a parameter is shown: keys ANDed, the values listed under one key ORed.

    A key is a sibling parameter's name, ``/name`` for a top-level parameter (used inside
    collections) or ``@version``. A value is a literal or ``{"_cnd": {op: operand}}``.
    """

    show: dict[str, tuple[Any, ...]] | None = None
    hide: dict[str, tuple[Any, ...]] | None = None


@dataclass(frozen=True, kw_only=True)
class FixedCollectionGroup(_Model):
    """One group of a fixedCollection parameter (n8n ``INodePropertyCollection``): its entries
    hold these values, each shown by ``displayOptions`` that read the entry's other values."""

    name: str
    displayName: str
    values: tuple[Property, ...]


@dataclass(frozen=True, kw_only=True)
class Property(_Model):
    """One parameter (n8n ``INodeProperties``).

    ``options`` holds the choices of an options/multiOptions parameter, the fields of a
    collection and the groups of a fixedCollection; :meth:`option_values`, :meth:`fields` and
    :meth:`groups` give each typed.
    """

    displayName: str
    name: str
    type: PropertyType
    default: Any
    description: str | None = None
    hint: str | None = None
    placeholder: str | None = None
    required: bool = False
    noDataExpression: bool = False
    displayOptions: DisplayOptions | None = None
    typeOptions: dict[str, Any] | None = None
    options: (
        tuple[OptionValue, ...] | tuple[Property, ...] | tuple[FixedCollectionGroup, ...] | None
    ) = None

    def option_values(self) -> tuple[OptionScalar, ...]:
        """The values an options/multiOptions parameter accepts (empty for other types)."""
        if self.type not in ("options", "multiOptions") or not self.options:
            return ()
        return tuple(option.value for option in self.options if isinstance(option, OptionValue))

    def fields(self) -> tuple[Property, ...]:
        """The fields of a collection (empty for other types)."""
        if self.type != "collection" or not self.options:
            return ()
        return tuple(field for field in self.options if isinstance(field, Property))

    def groups(self) -> tuple[FixedCollectionGroup, ...]:
        """The groups of a fixedCollection (empty for other types)."""
        if self.type != "fixedCollection" or not self.options:
            return ()
        return tuple(group for group in self.options if isinstance(group, FixedCollectionGroup))

    def type_option(self, key: str) -> Any:
        """One ``typeOptions`` entry, or ``None`` when it is not set."""
        return (self.typeOptions or {}).get(key)

    @property
    def is_secret(self) -> bool:
        """Whether the value is a password: never echoed in messages, masked in output."""
        return bool(self.type_option("password"))


@dataclass(frozen=True, kw_only=True)
class CredentialRef(_Model):
    """A credential type the node uses."""

    name: str
    required: bool = False
    displayOptions: DisplayOptions | None = None


@dataclass(frozen=True, kw_only=True)
class NodeDescription(_Model):
    """The whole node (n8n ``INodeTypeDescription``)."""

    displayName: str
    name: str
    group: tuple[str, ...]
    # n8n's light versioning: typeVersions such as 2.1 or 3.4 are numbers, not only integers.
    version: int | float | tuple[int | float, ...]
    description: str
    defaults: dict[str, str]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    properties: tuple[Property, ...]
    outputNames: tuple[str, ...] | None = None
    credentials: tuple[CredentialRef, ...] = ()
    subtitle: str | None = None
    icon: str | None = None
    usableAsTool: bool | None = None

    def resources(self) -> tuple[str, ...]:
        """The values of the ``resource`` parameter, in manifest order."""
        return tuple(
            str(value)
            for prop in self.properties
            if prop.name == "resource"
            for value in prop.option_values()
        )

    def operation_property(self, resource: str) -> Property | None:
        """The ``operation`` parameter shown for ``resource``."""
        for prop in self.properties:
            if prop.name != "operation":
                continue
            show = prop.displayOptions.show if prop.displayOptions else None
            if show is None or resource in show.get("resource", (resource,)):
                return prop
        return None

    def parameter(self, resource: str, operation: str, path: str) -> Property | None:
        """The parameter ``path`` (``limit``, ``additionalFields.time_limit``) of an operation."""
        top, _, field = path.partition(".")
        for prop in self.properties:
            show = prop.displayOptions.show if prop.displayOptions else None
            if prop.name != top or (
                show is not None
                and (
                    resource not in show.get("resource", (resource,))
                    or operation not in show.get("operation", (operation,))
                )
            ):
                continue
            if not field:
                return prop
            return next((sub for sub in prop.fields() if sub.name == field), None)
        return None

    def number_bounds(
        self, resource: str, operation: str, path: str
    ) -> tuple[int | None, int | None]:
        """A whole-number parameter's ``minValue``/``maxValue``: the one source of its bounds.

        Handlers check their numbers with these, so the node and its description cannot
        disagree on what is accepted.
        """
        prop = self.parameter(resource, operation, path)
        if prop is None or prop.type != "number":
            raise KeyError(f"{resource}.{operation} has no number parameter {path!r}")
        low, high = prop.type_option("minValue"), prop.type_option("maxValue")
        return (None if low is None else int(low), None if high is None else int(high))

    def operations(self) -> frozenset[tuple[str, str]]:
        """Every (resource, operation) pair the node offers."""
        pairs: set[tuple[str, str]] = set()
        for resource in self.resources():
            operation = self.operation_property(resource)
            if operation is not None:
                pairs.update((resource, str(value)) for value in operation.option_values())
        return frozenset(pairs)

    def to_n8n_json(self) -> dict[str, Any]:
        """The description as n8n node JSON (camelCase keys, unset fields left out)."""
        return dump(self, exclude_defaults=True)


@dataclass(frozen=True, kw_only=True)
class CredentialTestRequest(_Model):
    baseURL: str | None = None
    url: str
    method: Literal["GET", "POST"]


@dataclass(frozen=True, kw_only=True)
class CredentialTestRule(_Model):
    type: Literal["responseCode", "responseSuccessBody"]
    properties: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class CredentialTest(_Model):
    """How to check a credential: one request, and rules that turn answers into messages."""

    request: CredentialTestRequest
    rules: tuple[CredentialTestRule, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CredentialAuthenticate(_Model):
    """Generic authentication: ``$credentials`` expressions placed into the request."""

    type: Literal["generic"]
    properties: dict[str, dict[str, str]]


@dataclass(frozen=True, kw_only=True)
class CredentialType(_Model):
    """A credential type (n8n ``ICredentialType``)."""

    name: str
    displayName: str
    properties: tuple[Property, ...]
    authenticate: CredentialAuthenticate
    documentationUrl: str | None = None
    icon: str | None = None
    test: CredentialTest | None = None
    # Field name -> the environment variable a run reads it from without a credentials block.
    environment: dict[str, str] = field(default_factory=dict)

    def secret_names(self) -> frozenset[str]:
        """Names of the fields whose values are secrets (``typeOptions.password``)."""
        return frozenset(prop.name for prop in self.properties if prop.is_secret)

    def required_variables(self) -> str:
        """The environment variables that give the required fields, for a hint: ``"A and B"``
        (empty when none has one)."""
        return " and ".join(
            self.environment[prop.name]
            for prop in self.properties
            if prop.required and prop.name in self.environment
        )

    def to_n8n_json(self) -> dict[str, Any]:
        """The credential type as n8n JSON (camelCase keys, unset fields left out; the
        ``environment`` extension is ours, not n8n's, and is left out too)."""
        return dump(self, exclude_defaults=True, exclude=frozenset({"environment"}))
