"""``={{ }}`` expressions: n8n's JavaScript-flavoured templates, compiled once, evaluated per item.

Only a string that starts with ``=`` is an expression. Each ``{{ … }}`` segment is read by a
small parser that accepts a JavaScript subset (member access, calls of whitelisted methods,
literals, ``|| && ! ?: ?? === !== + - * / % **``) and rewrites it into a Jinja2 expression that
only ever names our own variables. That expression is compiled once by a
:class:`~jinja2.sandbox.SandboxedEnvironment` whose attribute, item, call and operator hooks are
replaced by an allowlist: JSON objects answer with their keys, strings/arrays/numbers/dates with
the JavaScript methods listed below, and nothing else is reachable. No Python source is ever
built from user text; Jinja generates the code from the parsed tree.

Variables: ``$json $binary $itemIndex $parameter $now $today $input $('Step') $node["Step"]``
and the globals ``Math JSON Object String Number Boolean parseInt parseFloat``.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, NoReturn

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from plivo_node.context import BinaryData
from plivo_node.errors import ExpressionError

MAX_SOURCE_CHARS: Final = 10_000
MAX_TEXT_CHARS: Final = 1_000_000
MAX_NUMBER_BITS: Final = 1024  # about 1.8e308, JavaScript's largest number
MAX_NESTING: Final = 40
_SHOWN_CHARS: Final = 120


@dataclass(frozen=True, slots=True)
class ExpressionContext:
    """What an expression can see for one item."""

    json: Mapping[str, Any]
    item_index: int
    parameters: Mapping[str, Any] = field(default_factory=dict)
    binary: Mapping[str, Any] = field(default_factory=dict)
    # $('Step name').item.json: the json of the named earlier step's item this item descends from.
    step_item: Callable[[str], Mapping[str, Any]] | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # $input.all()/first()/last(): the json of every input item of the step, when the caller has it.
    input_items: Sequence[Mapping[str, Any]] | None = None


def is_expression(value: object) -> bool:
    return isinstance(value, str) and value.startswith("=")


# --- JavaScript-like values ------------------------------------------------------------------


def _kind(value: object) -> str:
    """A value's type in the words an n8n user knows, with its article: "a string", "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, datetime | date):
        return "a date"
    if isinstance(value, _JsFunction):
        return "a function"
    if isinstance(value, _JsObject):
        return value.label
    return "a value"


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _number_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", repr(value))


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, BinaryData):
        return {"data": value.data, "mimeType": value.mime_type, "fileName": value.file_name}
    raise ExpressionError(f"{_capitalized(_kind(value))} cannot be turned into JSON")


def _estimated_json_size(value: object) -> int:
    """A cheap lower bound of a container's JSON size, stopping once it is too big."""
    size = 0
    stack = [value]
    while stack and size <= MAX_TEXT_CHARS:
        current = stack.pop()
        if isinstance(current, str):
            size += len(current) + 2
        elif isinstance(current, Mapping):
            size += 2
            for key, item in current.items():
                size += len(str(key)) + 4
                stack.append(item)
        elif isinstance(current, list | tuple):
            size += 2
            stack.extend(current)
        else:
            size += 4
    return size


def _check_text_size(size: int) -> None:
    if size > MAX_TEXT_CHARS:
        raise ExpressionError(
            f"The expression would produce {size:,} characters of text, more than the "
            f"{MAX_TEXT_CHARS:,} allowed",
            hint="build smaller values",
        )


def to_text(value: object) -> str:
    """JavaScript's ``String(value)`` as n8n splices it: null is "", objects are JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping | list | tuple | BinaryData):
        _check_text_size(_estimated_json_size(value))
        return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    raise ExpressionError(
        f"{_capitalized(_kind(value))} cannot be turned into text",
        hint="call it or read one of its properties, e.g. $input.item.json",
    )


def _to_number(value: object) -> float | int:
    """JavaScript's ``Number(value)``, NaN for text that is not a number."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0
        try:
            number = float(text)
        except ValueError:
            return math.nan
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return math.nan


def _is_number(value: object) -> bool:
    return isinstance(value, int | float)


def _check_int(value: object) -> object:
    if isinstance(value, int) and value.bit_length() > MAX_NUMBER_BITS:
        raise ExpressionError("The number is too large (more than about 308 digits)")
    return value


# --- operators (Jinja's intercepted binary operators) ---------------------------------------


def _js_add(left: object, right: object) -> object:
    if isinstance(left, str) or isinstance(right, str):
        left_text, right_text = to_text(left), to_text(right)
        _check_text_size(len(left_text) + len(right_text))
        return left_text + right_text
    if _is_number(left) and _is_number(right):
        return _check_int(left + right)  # type: ignore[operator]
    raise ExpressionError(
        f"Cannot add {_kind(left)} and {_kind(right)}",
        hint="'+' adds numbers or joins text; a null usually means a field is missing",
    )


def _numbers_only(operator: str, left: object, right: object) -> None:
    if not (_is_number(left) and _is_number(right)):
        hint = "to repeat text use .repeat(n)" if operator == "*" else None
        raise ExpressionError(
            f"'{operator}' works on numbers, not on {_kind(left)} and {_kind(right)}", hint=hint
        )


def _js_multiply(left: Any, right: Any) -> object:
    _numbers_only("*", left, right)
    return _check_int(left * right)


def _js_power(base: Any, exponent: Any) -> object:
    _numbers_only("**", base, exponent)
    whole = isinstance(base, int) and isinstance(exponent, int)
    if whole and exponent > 0 and (abs(base).bit_length() - 1) * exponent > MAX_NUMBER_BITS:
        raise ExpressionError("The number is too large (more than about 308 digits)")
    try:
        return _check_int(base**exponent)
    except OverflowError:
        raise ExpressionError("The number is too large") from None


def _js_remainder(left: Any, right: Any) -> object:
    _numbers_only("%", left, right)
    if right == 0:
        raise ExpressionError("Remainder of a division by zero")
    if isinstance(left, int) and isinstance(right, int):
        magnitude = abs(left) % abs(right)
        return -magnitude if left < 0 else magnitude
    return math.fmod(left, right)


def _js_subtract(left: Any, right: Any) -> object:
    _numbers_only("-", left, right)
    return _check_int(left - right)


def _js_divide(left: Any, right: Any) -> object:
    _numbers_only("/", left, right)
    if right == 0:
        raise ExpressionError("Division by zero")
    return left / right


_BINARY_OPERATORS: Final[dict[str, Callable[[Any, Any], object]]] = {
    "+": _js_add,
    "-": _js_subtract,
    "/": _js_divide,
    "*": _js_multiply,
    "**": _js_power,
    "%": _js_remainder,
}


# --- callables and objects the sandbox lets an expression reach ------------------------------


class _JsFunction:
    """The only kind of thing an expression may call."""

    __slots__ = ("function", "name", "target")

    def __init__(self, name: str, function: Callable[..., object], target: object = None) -> None:
        self.name = name
        self.function = function
        self.target = target

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
            _check_text_size(len(result))
        return result


class _JsObject:
    """Base of the non-JSON objects an expression can read properties of."""

    label = "object"

    def js_get(self, key: str) -> object:
        raise ExpressionError(f"{self.label} has no property '{key}'")


def _index(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return int(value)
    return None


def _arg_text(value: object) -> str:
    return to_text(value) if value is not None else "null"


def _whole(value: object, name: str) -> int:
    number = _to_number(value)
    if isinstance(number, float):
        if math.isnan(number):
            raise ExpressionError(f"{name} must be a number")
        if math.isinf(number):
            return 2**62 if number > 0 else -(2**62)
        return int(number)
    return number


def _slice_bounds(length: int, start: object, end: object) -> tuple[int, int]:
    def clamp(position: object, default: int) -> int:
        if position is None:
            return default
        index = _whole(position, "An index")
        if index < 0:
            return max(length + index, 0)
        return min(index, length)

    return clamp(start, 0), clamp(end, length)


def _str_split(text: str, separator: object = None, limit: object = None) -> list[str]:
    if separator is None:
        parts = [text]
    elif separator == "":
        parts = list(text)
    else:
        parts = text.split(to_text(separator))
    return parts if limit is None else parts[: max(_whole(limit, "The limit"), 0)]


def _str_replace_all(text: str, old: object, new: object) -> str:
    old_text, new_text = to_text(old), to_text(new)
    if old_text:
        _check_text_size(len(text) + text.count(old_text) * (len(new_text) - len(old_text)))
    else:
        _check_text_size(len(text) + (len(text) + 1) * len(new_text))
    return text.replace(old_text, new_text)


def _str_repeat(text: str, count: object) -> str:
    times = _whole(count, "The repeat count")
    if times < 0:
        raise ExpressionError("The repeat count must not be negative")
    _check_text_size(len(text) * times)
    return text * times


def _pad(text: str, length: object, filler: object, *, at_start: bool) -> str:
    target = _whole(length, "The length")
    fill = " " if filler is None else to_text(filler)
    if target <= len(text) or not fill:
        return text
    _check_text_size(target)
    padding = (fill * (target // len(fill) + 1))[: target - len(text)]
    return padding + text if at_start else text + padding


def _substring(text: str, start: object, end: object = None) -> str:
    length = len(text)

    def clamp(position: object, default: int) -> int:
        return default if position is None else min(max(_whole(position, "An index"), 0), length)

    low, high = clamp(start, 0), clamp(end, length)
    return text[min(low, high) : max(low, high)]


def _index_of(container: str | Sequence[object], needle: object) -> int:
    if isinstance(container, str):
        return container.find(to_text(needle))
    for position, item in enumerate(container):
        if item == needle:
            return position
    return -1


def _at(container: str | Sequence[object], position: object) -> object:
    index = _whole(position, "The index")
    if -len(container) <= index < len(container):
        return container[index]
    return None


def _join(items: Sequence[object], separator: object = ",") -> str:
    texts = [to_text(item) for item in items]
    glue = to_text(separator)
    _check_text_size(sum(map(len, texts)) + len(glue) * len(texts))
    return glue.join(texts)


def _to_fixed(number: float, digits: object = 0) -> str:
    places = _whole(digits, "The number of digits")
    if not 0 <= places <= 100:
        raise ExpressionError("toFixed() takes 0 to 100 digits")
    return f"{number:.{places}f}"


_STRING_METHODS: Final[dict[str, Callable[..., object]]] = {
    "toUpperCase": str.upper,
    "toLowerCase": str.lower,
    "trim": str.strip,
    "trimStart": str.lstrip,
    "trimEnd": str.rstrip,
    "split": _str_split,
    "includes": lambda text, needle: to_text(needle) in text,
    "startsWith": lambda text, prefix: text.startswith(to_text(prefix)),
    "endsWith": lambda text, suffix: text.endswith(to_text(suffix)),
    "replace": lambda text, old, new: text.replace(to_text(old), to_text(new), 1),
    "replaceAll": _str_replace_all,
    "indexOf": _index_of,
    "slice": lambda text, start=None, end=None: text.__getitem__(
        slice(*_slice_bounds(len(text), start, end))
    ),
    "substring": _substring,
    "charAt": lambda text, position=0: _at(text, position) if _whole(position, "") >= 0 else "",
    "at": _at,
    "padStart": lambda text, length, filler=None: _pad(text, length, filler, at_start=True),
    "padEnd": lambda text, length, filler=None: _pad(text, length, filler, at_start=False),
    "repeat": _str_repeat,
    "concat": lambda text, *more: _join([text, *more], ""),
    "toString": lambda text: text,
}

_ARRAY_METHODS: Final[dict[str, Callable[..., object]]] = {
    "includes": lambda items, needle: needle in items,
    "indexOf": _index_of,
    "join": _join,
    "slice": lambda items, start=None, end=None: list(
        items[slice(*_slice_bounds(len(items), start, end))]
    ),
    "at": _at,
    "first": lambda items: items[0] if items else None,
    "last": lambda items: items[-1] if items else None,
    "concat": lambda items, *more: [
        *items,
        *(x for part in more for x in (part if isinstance(part, list | tuple) else [part])),
    ],
    "toString": _join,
}

_NUMBER_METHODS: Final[dict[str, Callable[..., object]]] = {
    "toFixed": _to_fixed,
    "toString": to_text,
}


# --- dates (a small part of Luxon's DateTime) -------------------------------------------------

_MONTHS: Final = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_WEEKDAYS: Final = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_LUXON_TOKENS: Final = re.compile(
    r"'[^']*'|yyyy|yy|MMMM|MMM|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s|SSS|a|EEEE|EEE|ZZZ|ZZ|Z"
)


def _offset_text(moment: datetime, *, colon: bool) -> str:
    offset = moment.utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}" if colon else f"{sign}{hours:02d}{rest:02d}"


def _luxon_token(moment: datetime, token: str) -> str:
    hour12 = moment.hour % 12 or 12
    values: dict[str, Callable[[], str]] = {
        "yyyy": lambda: f"{moment.year:04d}",
        "yy": lambda: f"{moment.year % 100:02d}",
        "MMMM": lambda: _MONTHS[moment.month - 1],
        "MMM": lambda: _MONTHS[moment.month - 1][:3],
        "MM": lambda: f"{moment.month:02d}",
        "M": lambda: str(moment.month),
        "dd": lambda: f"{moment.day:02d}",
        "d": lambda: str(moment.day),
        "HH": lambda: f"{moment.hour:02d}",
        "H": lambda: str(moment.hour),
        "hh": lambda: f"{hour12:02d}",
        "h": lambda: str(hour12),
        "mm": lambda: f"{moment.minute:02d}",
        "m": lambda: str(moment.minute),
        "ss": lambda: f"{moment.second:02d}",
        "s": lambda: str(moment.second),
        "SSS": lambda: f"{moment.microsecond // 1000:03d}",
        "a": lambda: "AM" if moment.hour < 12 else "PM",
        "EEEE": lambda: _WEEKDAYS[moment.weekday()],
        "EEE": lambda: _WEEKDAYS[moment.weekday()][:3],
        "ZZZ": lambda: _offset_text(moment, colon=False),
        "ZZ": lambda: _offset_text(moment, colon=True),
        "Z": lambda: _offset_text(moment, colon=True),
    }
    if token.startswith("'"):
        return token[1:-1]
    return values[token]()


def _to_format(moment: datetime, pattern: object) -> str:
    """Luxon's ``toFormat`` for the common tokens (yyyy-MM-dd HH:mm:ss, 'literal' text)."""
    return _LUXON_TOKENS.sub(lambda match: _luxon_token(moment, match.group()), to_text(pattern))


_DURATION_UNITS: Final = frozenset(("weeks", "days", "hours", "minutes", "seconds", "milliseconds"))


def _shift(moment: datetime, duration: object, sign: int) -> datetime:
    if _is_number(duration):
        return moment + sign * timedelta(milliseconds=float(duration))  # type: ignore[arg-type,no-any-return]
    if not isinstance(duration, Mapping):
        raise ExpressionError("plus()/minus() take an object such as { days: 1 } or milliseconds")
    months = 0
    delta = timedelta()
    for unit, amount in duration.items():
        name = unit if str(unit).endswith("s") else f"{unit}s"
        count = _to_number(amount)
        if isinstance(count, float) and not math.isfinite(count):
            raise ExpressionError(f"plus()/minus() need a number of {name}")
        if name in ("years", "months"):
            months += int(count) * (12 if name == "years" else 1)
        elif name in _DURATION_UNITS:
            delta += timedelta(**{name: count})  # Luxon and timedelta share these names
        else:
            raise ExpressionError(
                f"Unknown duration unit '{unit}'", hint="use years … milliseconds"
            )
    try:
        if months:
            total = moment.year * 12 + moment.month - 1 + sign * months
            year, month = divmod(total, 12)
            month_days = (date(year + (month == 11), (month + 1) % 12 + 1, 1) - timedelta(1)).day
            moment = moment.replace(year=year, month=month + 1, day=min(moment.day, month_days))
        return moment + sign * delta
    except (OverflowError, ValueError):
        raise ExpressionError("The date is out of range") from None


_DATE_PROPERTIES: Final[dict[str, Callable[[datetime], object]]] = {
    "year": lambda moment: moment.year,
    "month": lambda moment: moment.month,
    "day": lambda moment: moment.day,
    "hour": lambda moment: moment.hour,
    "minute": lambda moment: moment.minute,
    "second": lambda moment: moment.second,
    "millisecond": lambda moment: moment.microsecond // 1000,
    "weekday": lambda moment: moment.isoweekday(),
}

_DATE_METHODS: Final[dict[str, Callable[..., object]]] = {
    "toISO": _iso,
    "toISODate": lambda moment: moment.date().isoformat(),
    "toString": _iso,
    "toJSON": _iso,
    "isoformat": _iso,
    "toFormat": _to_format,
    "toMillis": lambda moment: int(moment.timestamp() * 1000),
    "toSeconds": lambda moment: int(moment.timestamp()),
    "plus": lambda moment, duration: _shift(moment, duration, 1),
    "minus": lambda moment, duration: _shift(moment, duration, -1),
}

_BINARY_PROPERTIES: Final[dict[str, Callable[[BinaryData], object]]] = {
    "data": lambda entry: entry.data,
    "mimeType": lambda entry: entry.mime_type,
    "fileName": lambda entry: entry.file_name,
}


# --- the lookup rule: a.b and a["b"] -----------------------------------------------------------


def _method(table: Mapping[str, Callable[..., object]], key: str, target: object) -> object:
    function = table.get(key)
    if function is None:
        raise ExpressionError(f"{_capitalized(_kind(target))} has no property or method '{key}'")
    return _JsFunction(key, function, target)


def _member(target: object, key: object, *, optional: bool = False) -> object:
    """``target[key]`` with JavaScript's rules, restricted to an allowlist."""
    if isinstance(key, str) and key.startswith("__"):
        raise ExpressionError(
            f"Access to '{key}' is refused: names starting with '__' are internal"
        )
    if target is None:
        if optional:
            return None
        raise ExpressionError(
            f"Cannot read '{to_text(key)}' of null",
            hint="the value before it is missing; use ?. to allow that, e.g. $json.a?.b",
        )
    if isinstance(target, Mapping):
        # A JSON object: every key is data, "_id" included; a missing key is undefined.
        return target.get(key if isinstance(key, str) else to_text(key))
    if isinstance(key, str) and key.startswith("_"):
        raise ExpressionError(f"Access to '{key}' is refused: names starting with '_' are private")
    if isinstance(target, str | list | tuple):
        position = _index(key)
        if position is not None:
            return target[position] if 0 <= position < len(target) else None
        if key == "length":
            return len(target)
        if not isinstance(key, str):
            return None
        table = _STRING_METHODS if isinstance(target, str) else _ARRAY_METHODS
        return _method(table, key, target)
    text_key = to_text(key)
    if isinstance(target, _JsObject):
        return target.js_get(text_key)
    if isinstance(target, datetime):
        reader = _DATE_PROPERTIES.get(text_key)
        return reader(target) if reader else _method(_DATE_METHODS, text_key, target)
    if isinstance(target, BinaryData):
        binary_reader = _BINARY_PROPERTIES.get(text_key)
        if binary_reader is None:
            raise ExpressionError(f"Binary data has no property '{text_key}'")
        return binary_reader(target)
    if isinstance(target, int | float) and not isinstance(target, bool):
        return _method(_NUMBER_METHODS, text_key, target)
    if isinstance(target, bool) and text_key == "toString":
        return _JsFunction("toString", to_text, target)
    raise ExpressionError(f"{_capitalized(_kind(target))} has no property '{text_key}'")


# --- variables ---------------------------------------------------------------------------------


def _step_json(context: ExpressionContext, name: str) -> Mapping[str, Any]:
    if context.step_item is None:
        raise ExpressionError(
            f"There is no step named '{name}' to read from",
            hint="$('Step name') reads an earlier step of the same pipeline",
        )
    try:
        return context.step_item(name)
    except KeyError:
        raise ExpressionError(
            f"There is no step named '{name}' before this one",
            hint="check the step name's spelling and that the step runs earlier",
        ) from None


class _StepReference(_JsObject):
    """``$('Step name')``: only ``.item`` (the paired item) is available."""

    label = "a step reference"

    def __init__(self, context: ExpressionContext, name: str) -> None:
        self.context = context
        self.name = name

    def js_get(self, key: str) -> object:
        if key == "item":
            return {"json": _step_json(self.context, self.name)}
        raise ExpressionError(
            f"$('{self.name}') has no property '{key}'",
            hint=f"use $('{self.name}').item.json.<field>",
        )


class _NodeReferences(_JsObject):
    """``$node["Step name"]``, the older form: ``.json`` of the paired item."""

    label = "$node"

    def __init__(self, context: ExpressionContext) -> None:
        self.context = context

    def js_get(self, key: str) -> object:
        return {"json": _step_json(self.context, key)}


class _Input(_JsObject):
    """``$input``: the current item, and all input items when the caller provides them."""

    label = "$input"

    def __init__(self, context: ExpressionContext) -> None:
        self.context = context

    def _items(self) -> list[dict[str, Any]]:
        if self.context.input_items is None:
            raise ExpressionError(
                "$input.all(), first() and last() are not available here",
                hint="use $input.item.json or $json for the current item",
            )
        return [{"json": item} for item in self.context.input_items]

    def js_get(self, key: str) -> object:
        if key == "item":
            return {"json": self.context.json, "binary": self.context.binary}
        if key == "all":
            return _JsFunction("all", self._items)
        if key == "first":
            return _JsFunction("first", lambda: next(iter(self._items()), None))
        if key == "last":
            return _JsFunction("last", lambda: items[-1] if (items := self._items()) else None)
        return super().js_get(key)


class _Namespace(_JsObject):
    """A global such as ``Math`` or ``JSON``: a fixed table of functions."""

    def __init__(self, label: str, functions: Mapping[str, Callable[..., object]]) -> None:
        self.label = label
        self.functions = {name: _JsFunction(name, f) for name, f in functions.items()}

    def js_get(self, key: str) -> object:
        found = self.functions.get(key)
        if found is None:
            raise ExpressionError(f"{self.label}.{key} is not available")
        return found


def _math_round(value: object) -> float | int:
    number = _to_number(value)
    return math.floor(number + 0.5) if math.isfinite(number) else number


def _math_min_max(
    pick: Callable[[list[float | int]], float | int], empty: float
) -> Callable[..., object]:
    def choose(*values: object) -> object:
        numbers = [_to_number(value) for value in values]
        return pick(numbers) if numbers else empty

    return choose


def _json_parse(text: object) -> object:
    try:
        return json.loads(to_text(text))
    except ValueError as exc:
        raise ExpressionError(f"JSON.parse: the text is not valid JSON ({exc.args[0]})") from None


def _parse_int(value: object, radix: object = 10) -> object:
    """The leading whole number of the text, like JavaScript's parseInt ("42px" is 42)."""
    base = _whole(radix, "The radix")
    if not 2 <= base <= 36:
        return math.nan
    text = to_text(value).strip()
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    digits = ""
    for char in text:
        if not char.isascii() or not char.isalnum() or int(char, 36) >= base:
            break
        digits += char
    return sign * int(digits, base) if digits else math.nan


def _parse_float(value: object) -> object:
    match = re.match(r"\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)", to_text(value))
    return float(match.group(1)) if match else math.nan


def _object_entries(value: object) -> list[list[object]]:
    if not isinstance(value, Mapping):
        raise ExpressionError(f"Object.keys/values/entries need an object, not {_kind(value)}")
    return [[key, item] for key, item in value.items()]


_NOTHING: Final = _JsFunction("?.()", lambda *_args: None)

_GLOBALS: Final[dict[str, object]] = {
    "js_Math": _Namespace(
        "Math",
        {
            "round": _math_round,
            "floor": lambda x: math.floor(_to_number(x)),
            "ceil": lambda x: math.ceil(_to_number(x)),
            "abs": lambda x: abs(_to_number(x)),
            "min": _math_min_max(min, math.inf),
            "max": _math_min_max(max, -math.inf),
        },
    ),
    "js_JSON": _Namespace(
        "JSON",
        {
            "stringify": lambda value: None if value is None else to_text(value),
            "parse": _json_parse,
        },
    ),
    "js_Object": _Namespace(
        "Object",
        {
            "keys": lambda value: [key for key, _ in _object_entries(value)],
            "values": lambda value: [item for _, item in _object_entries(value)],
            "entries": _object_entries,
        },
    ),
    "js_String": _JsFunction("String", lambda value=None: to_text(value)),
    "js_Number": _JsFunction("Number", _to_number),
    "js_Boolean": _JsFunction("Boolean", bool),
    "js_parseInt": _JsFunction("parseInt", _parse_int),
    "js_parseFloat": _JsFunction("parseFloat", _parse_float),
    "js_opt": _JsFunction("?.", lambda target, key: _member(target, key, optional=True)),
    # a?.() and calls later in an optional chain: calling a missing function gives null.
    "js_optcall": _JsFunction("?.()", lambda function: _NOTHING if function is None else function),
    "js_coalesce": _JsFunction("??", lambda left, right: right if left is None else left),
}


def _today(context: ExpressionContext) -> datetime:
    return context.now.replace(hour=0, minute=0, second=0, microsecond=0)


# Jinja name -> how to build its value for one item.
_VARIABLES: Final[dict[str, Callable[[ExpressionContext], object]]] = {
    "dollar_json": lambda context: context.json,
    "dollar_binary": lambda context: context.binary,
    "dollar_itemIndex": lambda context: context.item_index,
    "dollar_position": lambda context: context.item_index,
    "dollar_thisItemIndex": lambda context: context.item_index,
    "dollar_parameter": lambda context: context.parameters,
    "dollar_now": lambda context: context.now,
    "dollar_today": _today,
    "dollar_input": _Input,
    "dollar_node": _NodeReferences,
    "dollar": lambda context: _JsFunction("$", lambda name: _StepReference(context, to_text(name))),
}

_UNAVAILABLE: Final = frozenset(
    [
        "env",
        "vars",
        "secrets",
        "workflow",
        "execution",
        "runIndex",
        "prevNode",
        "mode",
        "credentials",
        "response",
        "responseItem",
        "value",
        "jmespath",
        "evaluateExpression",
        "items",
        "item",
        "ifEmpty",
        "fromAI",
    ]
)
_BARE_NAMES: Final = {
    "Math": "js_Math",
    "JSON": "js_JSON",
    "Object": "js_Object",
    "String": "js_String",
    "Number": "js_Number",
    "Boolean": "js_Boolean",
    "parseInt": "js_parseInt",
    "parseFloat": "js_parseFloat",
}
_LITERALS: Final = {"true": "true", "false": "false", "null": "none", "undefined": "none"}


# --- the sandboxed Jinja environment ----------------------------------------------------------


class _ExpressionEnvironment(SandboxedEnvironment):
    """Jinja's sandbox with every hook replaced by the allowlist above."""

    intercepted_binops = frozenset(_BINARY_OPERATORS)

    def getattr(self, obj: Any, attribute: str) -> Any:
        return _member(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        return _member(obj, argument)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:  # noqa: ARG002
        return _BINARY_OPERATORS[operator](left, right)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:  # noqa: ARG002
        if isinstance(obj, _JsFunction) and not kwargs:
            return obj(*args)
        raise ExpressionError(f"{_capitalized(_kind(obj))} is not a function and cannot be called")


def _new_environment() -> _ExpressionEnvironment:
    environment = _ExpressionEnvironment(autoescape=False)
    # Nothing of Jinja's own is reachable: no range, lipsum, cycler, joiner, namespace, dict.
    environment.globals.clear()
    environment.filters.clear()
    environment.tests.clear()
    return environment


_ENVIRONMENT: Final = _new_environment()


# --- tokens and the JavaScript-subset parser -----------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<punct>===|!==|\*\*|\?\?|\?\.(?!\d)|\|\||&&|==|!=|<=|>=|=>|\+\+|--|[-+*/%]=
              |[()\[\]{},:.?!<>+\-*/%=|&^~;`@#\\])
    """,
    re.VERBOSE,
)
_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_REFUSED_PUNCT: Final = {
    "=": "assignment is not allowed; compare with ===",
    "=>": "arrow functions are not supported",
    "++": "'++' is not supported; use + 1",
    "--": "'--' is not supported; use - 1",
    ";": "only one expression is allowed inside {{ }}",
    "`": "template literals are not supported; join text with +",
    "|": "bitwise '|' is not supported; did you mean '||'?",
    "&": "bitwise '&' is not supported; did you mean '&&'?",
}
_JS_KEYWORDS: Final = frozenset(
    [
        "new",
        "function",
        "this",
        "typeof",
        "void",
        "delete",
        "in",
        "instanceof",
        "let",
        "var",
        "const",
        "return",
        "class",
        "import",
        "export",
        "await",
        "async",
        "yield",
        "throw",
        "try",
        "catch",
        "if",
        "else",
        "for",
        "while",
        "do",
        "switch",
        "case",
        "with",
    ]
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, name, string, punct, end
    text: str
    position: int


class _SyntaxProblemError(Exception):
    """A compile-time problem at a position of the segment; becomes an ExpressionError."""

    def __init__(self, message: str, position: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.hint = hint


def _decode_string(literal: str, position: int) -> str:
    body = literal[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    chars = iter(enumerate(body))
    for offset, char in chars:
        if char != "\\":
            out.append(char)
            continue
        _, escaped = next(chars)
        if escaped in _ESCAPES:
            out.append(_ESCAPES[escaped])
        elif escaped in "xu":
            width = 2 if escaped == "x" else 4
            digits = body[offset + 2 : offset + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise _SyntaxProblemError(
                    f"Invalid \\{escaped} escape in a string", position + offset
                )
            out.append(chr(int(digits, 16)))
            for _ in range(width):
                next(chars)
        else:
            out.append(escaped)
    return "".join(out)


def _tokenize(segment: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(segment):
        match = _TOKEN.match(segment, position)
        if match is None:
            quote = segment[position]
            if quote in "'\"":
                raise _SyntaxProblemError("This text has no closing quote", position)
            raise _SyntaxProblemError(f"Unexpected character {quote!r}", position)
        kind = match.lastgroup or "space"
        text = match.group()
        if kind == "punct" and text in _REFUSED_PUNCT:
            raise _SyntaxProblemError(f"'{text}': {_REFUSED_PUNCT[text]}", position)
        compound = text.endswith("=") and text[0] in "+-*/%"
        if kind == "punct" and (compound or text in "^~@#\\"):
            raise _SyntaxProblemError(f"The operator '{text}' is not supported", position)
        if kind != "space":
            tokens.append(_Token(kind, text, position))
        position = match.end()
    tokens.append(_Token("end", "", len(segment)))
    return tokens


def _number_literal(text: str, position: int) -> str:
    value: float | int = int(text, 16) if text[:2] in ("0x", "0X") else float(text)
    if isinstance(value, float):
        if math.isinf(value):
            raise _SyntaxProblemError(f"The number {text} is too large", position)
        if value.is_integer() and "." not in text and "e" not in text.lower():
            value = int(text)
    if isinstance(value, int) and value.bit_length() > MAX_NUMBER_BITS:
        raise _SyntaxProblemError(f"The number {text} is too large", position)
    return repr(value)


class _Translator:
    """Parses one segment's JavaScript subset and writes the equivalent Jinja expression.

    Every sub-expression is parenthesised, so Jinja's operator precedence never matters.
    """

    def __init__(self, segment: str) -> None:
        self.tokens = _tokenize(segment)
        self.index = 0
        self.depth = 0
        self.names: set[str] = set()

    # token helpers
    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, *texts: str) -> str | None:
        token = self.current
        if token.kind == "punct" and token.text in texts:
            self.index += 1
            return token.text
        return None

    def expect(self, text: str) -> None:
        if self.accept(text) is None:
            self.fail(f"Expected '{text}'")

    def fail(self, message: str, hint: str | None = None) -> NoReturn:
        token = self.current
        if token.kind == "name" and token.text in _JS_KEYWORDS:
            raise _SyntaxProblemError(
                f"The JavaScript keyword '{token.text}' is not supported", token.position, hint
            )
        found = "the end of the expression" if token.kind == "end" else repr(token.text)
        raise _SyntaxProblemError(f"{message} but found {found}", token.position, hint)

    def use(self, name: str) -> str:
        self.names.add(name)
        return name

    # grammar, lowest precedence first
    def translate(self) -> str:
        if self.current.kind == "end":
            raise _SyntaxProblemError(
                "The {{ }} is empty", 0, "write an expression such as $json.name"
            )
        result = self.expression()
        if self.current.kind != "end":
            self.fail("Expected the end of the expression", "use one expression per {{ }}")
        return result

    def expression(self) -> str:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _SyntaxProblemError("The expression is nested too deeply", self.current.position)
        condition = self.coalesce()
        if self.accept("?"):
            when_true = self.expression()
            self.expect(":")
            when_false = self.expression()
            condition = f"(({when_true}) if ({condition}) else ({when_false}))"
        self.depth -= 1
        return condition

    def coalesce(self) -> str:
        left = self.logical_or()
        while self.accept("??"):
            left = f"{self.use('js_coalesce')}({left}, {self.logical_or()})"
        return left

    def logical_or(self) -> str:
        left = self.logical_and()
        while self.accept("||"):
            left = f"(({left}) or ({self.logical_and()}))"
        return left

    def logical_and(self) -> str:
        left = self.equality()
        while self.accept("&&"):
            left = f"(({left}) and ({self.equality()}))"
        return left

    def equality(self) -> str:
        left = self.relational()
        while operator := self.accept("===", "!==", "==", "!="):
            jinja = "==" if operator in ("===", "==") else "!="
            left = f"(({left}) {jinja} ({self.relational()}))"
        return left

    def relational(self) -> str:
        left = self.additive()
        while operator := self.accept("<", "<=", ">", ">="):
            left = f"(({left}) {operator} ({self.additive()}))"
        return left

    def additive(self) -> str:
        left = self.multiplicative()
        while operator := self.accept("+", "-"):
            left = f"(({left}) {operator} ({self.multiplicative()}))"
        return left

    def multiplicative(self) -> str:
        left = self.exponent()
        while operator := self.accept("*", "/", "%"):
            left = f"(({left}) {operator} ({self.exponent()}))"
        return left

    def exponent(self) -> str:
        base = self.unary()
        if self.accept("**"):
            return f"(({base}) ** ({self.exponent()}))"
        return base

    def unary(self) -> str:
        operator = self.accept("!", "-", "+")
        if operator is None:
            return self.postfix()
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _SyntaxProblemError("The expression is nested too deeply", self.current.position)
        operand = self.unary()
        self.depth -= 1
        if operator == "!":
            return f"(not ({operand}))"
        if operator == "-":
            return f"(-({operand}))"
        return f"{self.use('js_Number')}({operand})"

    def postfix(self) -> str:
        value = self.primary()
        optional = False  # after ?. the rest of the chain tolerates null, as in JavaScript
        while True:
            if self.accept("?."):
                optional = True
                if self.accept("("):
                    value = f"({self.use('js_optcall')}({value}))({self.arguments()})"
                elif self.accept("["):
                    key = self.expression()
                    self.expect("]")
                    value = self.access(value, key, optional=True)
                else:
                    value = self.access(value, self.member_name(), optional=True)
            elif self.accept("."):
                key = self.member_name()
                value = self.access(value, key, optional=optional)
            elif self.accept("["):
                key = self.expression()
                self.expect("]")
                value = self.access(value, key, optional=optional)
            elif self.accept("("):
                arguments = self.arguments()
                if optional:
                    value = f"{self.use('js_optcall')}({value})"
                value = f"({value})({arguments})"
            else:
                return value

    def access(self, value: str, key: str, *, optional: bool) -> str:
        if optional:
            return f"{self.use('js_opt')}({value}, {key})"
        return f"({value})[{key}]"

    def member_name(self) -> str:
        token = self.current
        if token.kind != "name":
            self.fail("Expected a property name after '.'")
        self.advance()
        self.refuse_internal(token)
        return ascii(token.text)

    @staticmethod
    def refuse_internal(token: _Token) -> None:
        name = token.text if token.kind == "name" else ""
        if name.startswith("__"):
            raise _SyntaxProblemError(
                f"Access to '{name}' is refused: names starting with '__' are internal",
                token.position,
            )

    def arguments(self) -> str:
        values: list[str] = []
        while not self.accept(")"):
            values.append(self.expression())
            if not self.accept(","):
                self.expect(")")
                break
        return ", ".join(values)

    def primary(self) -> str:
        token = self.advance()
        if token.kind == "number":
            return _number_literal(token.text, token.position)
        if token.kind == "string":
            decoded = _decode_string(token.text, token.position)
            return ascii(decoded)
        if token.kind == "name":
            return self.name(token)
        if token.kind == "punct" and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return f"({inner})"
        if token.kind == "punct" and token.text == "[":
            return f"[{self.items(']')}]"
        if token.kind == "punct" and token.text == "{":
            return self.object_literal()
        self.index -= 1
        return self.fail("Expected a value")

    def items(self, closing: str) -> str:
        values: list[str] = []
        while not self.accept(closing):
            values.append(self.expression())
            if not self.accept(","):
                self.expect(closing)
                break
        return ", ".join(values)

    def object_literal(self) -> str:
        entries: list[str] = []
        while not self.accept("}"):
            token = self.advance()
            if token.kind == "name":
                key = ascii(token.text)
            elif token.kind == "string":
                key = ascii(_decode_string(token.text, token.position))
            elif token.kind == "number":
                key = ascii(to_text(float(_number_literal(token.text, token.position))))
            elif token.kind == "punct" and token.text == "[":
                key = f"{self.use('js_String')}({self.expression()})"  # keys are text in JS
                self.expect("]")
            else:
                self.index -= 1
                self.fail("Expected a property name in the object")
            self.expect(":")
            entries.append(f"{key}: {self.expression()}")
            if not self.accept(","):
                self.expect("}")
                break
        # Spaces keep a closing "}}" out of the Jinja source.
        return "{ " + ", ".join(entries) + " }"

    def name(self, token: _Token) -> str:
        text = token.text
        self.refuse_internal(token)
        if text.startswith("$"):
            jinja_name = "dollar" if text == "$" else f"dollar_{text[1:]}"
            if jinja_name in _VARIABLES:
                return self.use(jinja_name)
            if text[1:] in _UNAVAILABLE:
                raise _SyntaxProblemError(f"{text} is not available in plivo-node", token.position)
            known = [name.replace("dollar_", "$") for name in _VARIABLES if name != "dollar"]
            close = difflib.get_close_matches(text, known, n=1)
            suggestion = f"; did you mean {close[0]}?" if close else ""
            raise _SyntaxProblemError(
                f"Unknown variable {text}{suggestion}",
                token.position,
                f"available: {', '.join(known)} and $('Step name')",
            )
        if text in _LITERALS:
            return _LITERALS[text]
        if text in _BARE_NAMES:
            return self.use(_BARE_NAMES[text])
        if text in _JS_KEYWORDS:
            raise _SyntaxProblemError(
                f"The JavaScript keyword '{text}' is not supported", token.position
            )
        candidates = [f"${name}" for name in ("json", "binary", "parameter", "now", "today")]
        close = difflib.get_close_matches(f"${text}", candidates, n=1, cutoff=0.8)
        suggestion = f"; did you mean {close[0]}?" if close else ""
        raise _SyntaxProblemError(
            f"Unknown name '{text}'{suggestion}",
            token.position,
            "variables start with $ ($json, $now, …); only Math, JSON, Object, String, Number, "
            "Boolean, parseInt and parseFloat are available as functions",
        )


# --- templates ---------------------------------------------------------------------------------


def _split_template(text: str) -> tuple[list[str], list[tuple[str, int]]]:
    """Split at ``{{ }}``: literal pieces (one more than segments) and (segment, offset) pairs.

    A "}}" inside a quoted string or closing a nested object literal does not end a segment.
    """
    pieces: list[str] = []
    segments: list[tuple[str, int]] = []
    position = 0
    while (start := text.find("{{", position)) != -1:
        pieces.append(text[position:start])
        cursor, depth, length = start + 2, 0, len(text)
        while cursor < length:
            char = text[cursor]
            if char in "'\"`":
                quote_at = cursor
                cursor += 1
                while cursor < length and text[cursor] != char:
                    cursor += 2 if text[cursor] == "\\" else 1
                if cursor >= length:
                    raise _SyntaxProblemError("This text has no closing quote", quote_at)
            elif char == "{":
                depth += 1
            elif char == "}":
                if depth == 0 and text.startswith("}}", cursor):
                    break
                depth = max(depth - 1, 0)
            cursor += 1
        if cursor >= length:
            raise _SyntaxProblemError("'{{' has no closing '}}'", start)
        segments.append((text[start + 2 : cursor], start + 2))
        position = cursor + 2
    pieces.append(text[position:])
    return pieces, segments


def _refuse_statements(text: str, pieces: list[str]) -> None:
    if any("{%" in piece for piece in pieces):
        raise _SyntaxProblemError(
            "Statements such as {% if %} are not supported; only {{ }} expressions are",
            text.find("{%"),
            "write conditions inline, e.g. {{ $json.vip ? 'Hi VIP' : 'Hi' }}",
        )


def _translate_segment(segment: str, offset: int) -> tuple[str, set[str]]:
    """One segment's Jinja expression and the names it uses; positions count from the text."""
    try:
        translator = _Translator(segment)
        return translator.translate(), translator.names
    except _SyntaxProblemError as problem:
        problem.position += offset
        raise


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _readable(exc: BaseException) -> str:
    """A Python error's text in the user's words (no type names, no traceback)."""
    text = str(exc) or type(exc).__name__
    for python, user in (
        ("'str'", "string"),
        ("'int'", "number"),
        ("'float'", "number"),
        ("'bool'", "boolean"),
        ("'NoneType'", "null"),
        ("'dict'", "object"),
        ("'list'", "array"),
        ("instances of ", ""),
    ):
        text = text.replace(python, user)
    return text


def _user_value(result: object) -> object:
    """The evaluated value as the parameter receives it: JSON-like, dates as ISO text."""
    if isinstance(result, str):
        _check_text_size(len(result))
        return result
    if isinstance(result, float) and result.is_integer() and abs(result) < 2**53:
        return int(result)  # JavaScript has one number type: 10 / 2 is 5, not 5.0
    if result is None or isinstance(result, int | float | list | dict):
        return result
    if isinstance(result, datetime):
        return _iso(result)
    if isinstance(result, date):
        return result.isoformat()
    if isinstance(result, tuple):
        return list(result)
    if isinstance(result, Mapping):
        return dict(result)
    if isinstance(result, BinaryData):
        return _json_default(result)
    if isinstance(result, _JsFunction):
        raise ExpressionError(
            f"The expression ends with the function {result.name} but does not call it",
            hint=f"add (), e.g. .{result.name}()",
        )
    raise ExpressionError(
        f"The expression's result is {_kind(result)}, not a value",
        hint="read one of its properties, e.g. $('Step').item.json.field",
    )


class CompiledExpression:
    """One parameter value's template, parsed and compiled once, evaluated per item."""

    __slots__ = ("_builders", "_evaluate", "_pieces", "_shown", "_single", "parameter", "source")

    def __init__(self, source: str, *, parameter: str) -> None:
        self.source = source
        self.parameter = parameter
        self._shown = _shown(source)
        self._pieces: tuple[str, ...] = (source,)
        self._single = False
        self._builders: tuple[tuple[str, Callable[[ExpressionContext], object]], ...] = ()
        self._evaluate: Callable[..., Any] | None = None
        if is_expression(source):
            self._prepare(source[1:])

    def _prepare(self, text: str) -> None:
        if len(text) + 1 > MAX_SOURCE_CHARS:
            raise ExpressionError(
                f"The expression is {len(text) + 1:,} characters long; at most "
                f"{MAX_SOURCE_CHARS:,} are allowed",
                hint="shorten it or build the value in an earlier step",
                parameter=self.parameter,
            )
        try:
            pieces, segments = _split_template(text)
            _refuse_statements(text, pieces)
            translated = [_translate_segment(segment, offset) for segment, offset in segments]
        except _SyntaxProblemError as problem:
            # +2: one for the leading "=", one to count characters from 1.
            where = f"at character {problem.position + 2} of {self._shown!r}"
            raise ExpressionError(
                f"{problem.message} ({where})", hint=problem.hint, parameter=self.parameter
            ) from None
        self._pieces = tuple(pieces)
        if not segments:  # "=text": the text after "=" as it is
            return
        # A template that is one segment and whitespace keeps the segment's type.
        self._single = len(segments) == 1 and not pieces[0].strip() and not pieces[1].strip()
        names = sorted({name for _, used in translated for name in used})
        self._builders = tuple(
            (name, _VARIABLES[name]) if name in _VARIABLES else (name, _constant(_GLOBALS[name]))
            for name in names
        )
        jinja_parts = [jinja for jinja, _ in translated]
        self._evaluate = self._compile(
            jinja_parts[0] if self._single else f"[{', '.join(jinja_parts)}]"
        )

    def _compile(self, jinja_source: str) -> Callable[..., Any]:
        try:
            return _ENVIRONMENT.compile_expression(jinja_source, undefined_to_none=False)
        except (TemplateError, SyntaxError, RecursionError, MemoryError):
            raise ExpressionError(
                f"The expression is too complex to compile (in {self._shown!r})",
                hint="split it into simpler parts",
                parameter=self.parameter,
            ) from None

    def evaluate(self, context: ExpressionContext) -> Any:
        if self._evaluate is None:  # a literal, or an expression without {{ }}
            return self._pieces[0]
        try:
            result = self._evaluate({name: build(context) for name, build in self._builders})
            if self._single:
                return _user_value(result)
            pieces = self._pieces
            out = [pieces[0]]
            for value, piece in zip(result, pieces[1:], strict=True):
                out.append(to_text(value))
                out.append(piece)
            text = "".join(out)
            _check_text_size(len(text))
        except ExpressionError as exc:
            raise ExpressionError(
                f"{exc.message} (in {self._shown!r})",
                hint=exc.hint,
                item_index=context.item_index,
                parameter=self.parameter,
            ) from None
        except (ArithmeticError, TypeError, ValueError, LookupError, TemplateError) as exc:
            if isinstance(exc, ZeroDivisionError):
                message = "Division by zero"
            else:
                message = f"The expression cannot be evaluated: {_readable(exc)}"
            raise ExpressionError(
                f"{message} (in {self._shown!r})",
                hint="check the types of the values it uses",
                item_index=context.item_index,
                parameter=self.parameter,
            ) from None
        except RecursionError:
            raise ExpressionError(
                f"The expression is nested too deeply to evaluate (in {self._shown!r})",
                item_index=context.item_index,
                parameter=self.parameter,
            ) from None
        return text

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r}, parameter={self.parameter!r})"


def _constant(value: object) -> Callable[[ExpressionContext], object]:
    return lambda _context: value


@functools.lru_cache(maxsize=1024)
def compile_expression(source: str, *, parameter: str) -> CompiledExpression:
    """The compiled form of ``source``; the same template is compiled only once."""
    return CompiledExpression(source, parameter=parameter)
