"""A parameter value's template, compiled once and evaluated per item.

Compiling parses every ``{{ }}`` segment, translates it to Jinja and compiles all of them as one
Jinja expression (a list when the template splices several). Evaluating builds only the
variables the template uses, runs it, and turns any failure into an
:class:`~plivo_node.core.errors.ExpressionError` naming the item and the parameter.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, Final

from plivo_node.core.errors import ExpressionError
from plivo_node.expressions.context import ExpressionContext
from plivo_node.expressions.js_globals import CONSTANTS
from plivo_node.expressions.json_text import parameter_value, to_text
from plivo_node.expressions.limits import (
    MAX_SOURCE_CHARS,
    EvaluationBudget,
    check_text_size,
    reserve,
)
from plivo_node.expressions.parser import translate_segment
from plivo_node.expressions.template import split_template
from plivo_node.expressions.tokens import SyntaxProblemError
from plivo_node.expressions.values import UNDEFINED
from plivo_node.expressions.variables import VARIABLES

_SHOWN_CHARS: Final = 120

# Python's words in error texts -> the user's words.
_PYTHON_WORDS: Final = (
    ("'str'", "string"),
    ("'int'", "number"),
    ("'float'", "number"),
    ("'bool'", "boolean"),
    ("'NoneType'", "null"),
    ("'dict'", "object"),
    ("'list'", "array"),
    ("instances of ", ""),
)


def is_expression(value: object) -> bool:
    """Only a string starting with ``=`` is an expression; anything else is a literal."""
    return isinstance(value, str) and value.startswith("=")


@functools.lru_cache(maxsize=1024)
def compile_expression(source: str, *, parameter: str) -> CompiledExpression:
    """The compiled form of ``source``; the same template is compiled only once."""
    return CompiledExpression(source, parameter=parameter)


class CompiledExpression:
    """One parameter value's template, parsed and compiled once, evaluated per item."""

    __slots__ = (
        "_builders",
        "_evaluate",
        "_jinja",
        "_json_keys",
        "_pieces",
        "_shown",
        "_single",
        "parameter",
        "source",
    )

    def __init__(self, source: str, *, parameter: str) -> None:
        self.source = source
        self.parameter = parameter
        self._shown = _shown(source)
        self._pieces: tuple[str, ...] = (source,)
        self._single = False
        self._builders: tuple[tuple[str, Callable[[ExpressionContext], object]], ...] = ()
        # The Jinja source of a template with {{ }}, and its compiled form. A template of plain
        # field reads is compiled only if an item needs the full evaluation (a field holding an
        # object, say): a run or validate whose templates are all plain never imports Jinja.
        self._jinja: str | None = None
        self._evaluate: Callable[..., Any] | None = None
        # Set when every segment only reads a field of the item (`$json.name`), the usual case
        # in a campaign: such a template is spliced from dict lookups, without Jinja.
        self._json_keys: tuple[str, ...] | None = None
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
            pieces, segments = split_template(text)
            translated = [translate_segment(segment, offset) for segment, offset in segments]
        except SyntaxProblemError as problem:
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
            (name, VARIABLES[name]) if name in VARIABLES else (name, _constant(CONSTANTS[name]))
            for name in names
        )
        keys = [_plain_json_field(segment) for segment, _ in segments]
        if all(key is not None for key in keys):
            self._json_keys = tuple(key for key in keys if key is not None)
        jinja_parts = [jinja for jinja, _ in translated]
        self._jinja = jinja_parts[0] if self._single else f"[{', '.join(jinja_parts)}]"
        if self._json_keys is None:
            # Compiled now, so that a template Jinja refuses is an error before any item.
            self._evaluate = self._compile(self._jinja)

    def _compile(self, jinja_source: str) -> Callable[..., Any]:
        # Imported here: Jinja is needed only by templates that are not plain field reads.
        from jinja2 import TemplateError  # noqa: PLC0415

        from plivo_node.expressions.sandbox import ENVIRONMENT  # noqa: PLC0415

        try:
            return ENVIRONMENT.compile_expression(jinja_source, undefined_to_none=False)
        except (TemplateError, SyntaxError, RecursionError, MemoryError):
            raise ExpressionError(
                f"The expression is too complex to compile (in {self._shown!r})",
                hint="split it into simpler parts",
                parameter=self.parameter,
            ) from None

    def evaluate(self, context: ExpressionContext, *, keep_undefined: bool = False) -> Any:
        """The template's value for one item; failures name the item and the parameter.

        A one-segment template that finds nothing gives None, or with ``keep_undefined``
        :data:`UNDEFINED`, so that a value inside a structure (a filter's ``leftValue``) can
        tell a missing field from one that holds null, as n8n's conditions do.
        """
        if self._jinja is None:  # a literal, or an expression without {{ }}
            return self._pieces[0]
        try:
            plain = self._json_fields(context) if self._json_keys is not None else None
            if plain is not None:
                if not self._single:
                    return self._splice(plain)
                if keep_undefined and self._json_keys and self._json_keys[0] not in context.json:
                    return UNDEFINED
                return _user_value(plain[0])
            with EvaluationBudget():
                result = self._run(context)
                if not self._single:
                    return self._splice(result)
                if keep_undefined and result is UNDEFINED:
                    return UNDEFINED
                return _user_value(result)
        except _evaluation_errors() as exc:
            raise self._located(exc, context) from None

    def js_value(self, context: ExpressionContext) -> Any:
        """The JavaScript value a one-segment template computes, before it becomes a parameter
        (undefined, NaN and -0 kept): what the golden tests compare with Node's."""
        if not self._single or self._jinja is None:
            raise ValueError("js_value() needs a template that is one {{ }} segment")
        try:
            with EvaluationBudget():
                return self._run(context)
        except _evaluation_errors() as exc:
            raise self._located(exc, context) from None

    def _run(self, context: ExpressionContext) -> Any:
        if self._evaluate is None:
            assert self._jinja is not None
            self._evaluate = self._compile(self._jinja)
        return self._evaluate({name: build(context) for name, build in self._builders})

    def _located(self, exc: BaseException, context: ExpressionContext) -> ExpressionError:
        """A failure as an ExpressionError naming the item and the parameter, in user terms."""
        if isinstance(exc, ExpressionError):
            message, hint = exc.message, exc.hint
        elif isinstance(exc, RecursionError):
            message, hint = "The expression is nested too deeply to evaluate", None
        else:
            message = f"The expression cannot be evaluated: {_readable(exc)}"
            hint = "check the types of the values it uses"
        return ExpressionError(
            f"{message} (in {self._shown!r})",
            hint=hint,
            item_index=context.item_index,
            parameter=self.parameter,
        )

    def _json_fields(self, context: ExpressionContext) -> list[object] | None:
        """The fast path: the `$json.field` values, or None when one needs the full evaluation."""
        data = context.json
        values = [data.get(key) for key in self._json_keys or ()]
        if all(value is None or type(value) in _PLAIN_TYPES for value in values):
            return values
        return None

    def _splice(self, values: Any) -> str:
        """The template's text with each segment's value put in its place."""
        pieces = self._pieces
        out = [pieces[0]]
        for value, piece in zip(values, pieces[1:], strict=True):
            out.append(to_text(value))
            out.append(piece)
        reserve(chars=sum(map(len, out)))
        return "".join(out)

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r}, parameter={self.parameter!r})"


@functools.cache
def _evaluation_errors() -> tuple[type[BaseException], ...]:
    """What an evaluation may raise (evaluated only when something was raised)."""
    from jinja2 import TemplateError  # noqa: PLC0415

    return (
        ExpressionError,
        ArithmeticError,
        TypeError,
        ValueError,
        LookupError,
        TemplateError,
        RecursionError,
    )


_PLAIN_TYPES: Final = frozenset({str, int, float, bool})
_PLAIN_FIELD: Final = re.compile(
    r"""\s*\$json(?:\.(?!__)([A-Za-z_][A-Za-z0-9_]*)|\[\s*(["'])((?!__)[^"'\\]*)\2\s*\])\s*"""
)


def _plain_json_field(segment: str) -> str | None:
    """The field name when a segment is just `$json.name` or `$json["name"]`, else None."""
    match = _PLAIN_FIELD.fullmatch(segment)
    if match is None:
        return None
    return match.group(1) if match.group(1) is not None else match.group(3)


def _constant(value: object) -> Callable[[ExpressionContext], object]:
    return lambda _context: value


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _readable(exc: BaseException) -> str:
    """A Python error's text in the user's words (no type names, no traceback)."""
    text = str(exc) or type(exc).__name__
    for python, user in _PYTHON_WORDS:
        text = text.replace(python, user)
    return text


def _user_value(result: object) -> object:
    """The evaluated value as the parameter receives it: JSON-like, dates as ISO text."""
    if isinstance(result, str):
        check_text_size(len(result))
        return result
    return parameter_value(result)
