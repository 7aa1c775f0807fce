"""The kinds of value an expression handles besides plain JSON: ``undefined``, functions and
the non-JSON objects it may read properties of, and their names in error messages.

Expressions see plain Python values (dict, list, str, int, float, bool, None, datetime) and
treat them as their JavaScript counterparts; :mod:`.coercion` converts between them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Final

from plivo_node.core.errors import ExpressionError
from plivo_node.core.items import BinaryData
from plivo_node.core.words import kind_of
from plivo_node.expressions.limits import check_text_size


class _Undefined:
    """JavaScript's ``undefined`` (a missing field, an index past the end), apart from null."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Final = _Undefined()


class JsFunction:
    """The only kind of thing an expression may call; ``target`` is the method's receiver.

    ``properties`` are what the function itself offers, e.g. ``Number.isInteger``.
    """

    __slots__ = ("function", "name", "properties", "target")

    def __init__(
        self,
        name: str,
        function: Callable[..., object],
        target: object = None,
        properties: Mapping[str, object] | None = None,
    ) -> None:
        self.name = name
        self.function = function
        self.target = target
        self.properties = properties or {}

    def __call__(self, *args: object) -> object:
        try:
            result = (
                self.function(*args) if self.target is None else self.function(self.target, *args)
            )
        except TypeError as exc:
            if "argument" in str(exc):  # arity is the only TypeError the tables raise here
                raise ExpressionError(f"Wrong number of arguments for {self.name}()") from None
            raise
        if isinstance(result, str):
            check_text_size(len(result))  # e.g. toUpperCase(): 'ﬃ' becomes 'FFI'
        return result


class JsObject:
    """Base of the non-JSON objects an expression can read properties of."""

    label = "object"

    def js_get(self, key: str) -> object:
        raise ExpressionError(f"{self.label} has no property '{key}'")


def kind(value: object) -> str:
    """A value's type in the words an n8n user knows, with its article: "a string", "null"."""
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, datetime | date):
        return "a date"
    if isinstance(value, JsFunction):
        return "a function"
    if isinstance(value, JsObject):
        return value.label
    return kind_of(value)


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def json_value(value: object) -> object:
    """A non-JSON value (date, tuple, mapping, binary) as the JSON value it stands for."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, BinaryData):
        return {"data": value.data, "mimeType": value.mime_type, "fileName": value.file_name}
    raise ExpressionError(f"{capitalized(kind(value))} cannot be turned into JSON")
