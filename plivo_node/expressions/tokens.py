"""Tokens of the JavaScript subset inside ``{{ }}``, and the compile-time problem they report.

Operators outside the subset (assignment, ``++``, bitwise, ``;``, template literals) are
refused here with a message that says what to write instead.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

from plivo_node.expressions.coercion import number_value, to_float

_TOKEN: Final = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>0[xX][0-9a-fA-F](?:_?[0-9a-fA-F])*|0[oO][0-7](?:_?[0-7])*|0[bB][01](?:_?[01])*
              |(?:[0-9](?:_?[0-9])*\.?(?:[0-9](?:_?[0-9])*)?|\.[0-9](?:_?[0-9])*)
               (?:[eE][+-]?[0-9](?:_?[0-9])*)?)
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
JS_KEYWORDS: Final = frozenset(
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
class Token:
    kind: str  # number, name, string, punct, end
    text: str
    position: int


class SyntaxProblemError(Exception):
    """A compile-time problem at a position of the text; becomes an ExpressionError."""

    def __init__(self, message: str, position: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.hint = hint


def tokenize(segment: str) -> list[Token]:
    """The tokens of one ``{{ }}`` segment, ending with an ``end`` token."""
    tokens: list[Token] = []
    position = 0
    while position < len(segment):
        match = _TOKEN.match(segment, position)
        if match is None:
            quote = segment[position]
            if quote in "'\"":
                raise SyntaxProblemError("This text has no closing quote", position)
            raise SyntaxProblemError(f"Unexpected character {quote!r}", position)
        kind = match.lastgroup or "space"
        text = match.group()
        if kind == "punct" and text in _REFUSED_PUNCT:
            raise SyntaxProblemError(f"'{text}': {_REFUSED_PUNCT[text]}", position)
        compound = text.endswith("=") and text[0] in "+-*/%"
        if kind == "punct" and (compound or text in "^~@#\\"):
            raise SyntaxProblemError(f"The operator '{text}' is not supported", position)
        if kind != "space":
            tokens.append(Token(kind, text, position))
        position = match.end()
    tokens.append(Token("end", "", len(segment)))
    return tokens


def decode_string(literal: str, position: int) -> str:
    """A quoted string token's text with its escapes (``\\n``, ``\\x41``, ``\\u00e9``) read."""
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
                raise SyntaxProblemError(
                    f"Invalid \\{escaped} escape in a string", position + offset
                )
            out.append(chr(int(digits, 16)))
            for _ in range(width):
                next(chars)
        else:
            out.append(escaped)
    return "".join(out)


def literal_number(text: str, position: int) -> int | float:
    """A number literal's value, a double as in JavaScript (``1_000`` is 1000, ``0x1F`` 31)."""
    digits = text.replace("_", "")
    if digits[:2].lower() in ("0x", "0o", "0b"):
        value = to_float(int(digits[2:], {"x": 16, "o": 8, "b": 2}[digits[1].lower()]))
    elif len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
        raise SyntaxProblemError(
            f"The number {text} starts with 0, which JavaScript reads as octal",
            position,
            "drop the leading zeros, or write text in quotes: '0123'",
        )
    else:
        value = float(digits)
    if math.isinf(value):
        raise SyntaxProblemError(f"The number {text} is too large", position)
    return number_value(value)
