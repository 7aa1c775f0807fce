"""Tokens of the JavaScript subset inside ``{{ }}``, and the compile-time problem they report.

Operators outside the subset (assignment, ``++``, bitwise, ``;``, template literals) are
refused here with a message that says what to write instead.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

from plivo_node.expressions.limits import MAX_NUMBER_BITS

_TOKEN: Final = re.compile(
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


def number_literal(text: str, position: int) -> str:
    """A number token as Python source: whole numbers stay ints, too-large ones are refused."""
    value: float | int = int(text, 16) if text[:2] in ("0x", "0X") else float(text)
    if isinstance(value, float):
        if math.isinf(value):
            raise SyntaxProblemError(f"The number {text} is too large", position)
        if value.is_integer() and "." not in text and "e" not in text.lower():
            value = int(text)
    if isinstance(value, int) and value.bit_length() > MAX_NUMBER_BITS:
        raise SyntaxProblemError(f"The number {text} is too large", position)
    return repr(value)
