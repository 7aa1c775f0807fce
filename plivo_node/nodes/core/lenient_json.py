"""JSON text as n8n's nodes accept it when it is not strict JSON.

Two of n8n's readers go beyond ``JSON.parse`` (packages/workflow/src/utils.ts ``jsonParse``):

- ``acceptJSObject`` (an Edit Fields "object" value, a condition's object): the text is read as
  one JavaScript object literal. Keys may be unquoted, strings single-quoted, commas may
  trail and comments are skipped; a value that is a bare word becomes that word as text
  (``{a: b}`` is ``{"a": "b"}``), and any other expression (``-1``, ``1 + 2``) becomes
  undefined, so its key is left out.
- ``repairJSON`` (Edit Fields' JSON mode): the same relaxed syntax, repaired into the value it
  was meant to be: ``-1`` is a number, Python's ``True``/``False``/``None`` and JavaScript's
  ``undefined`` become JSON's, and the text may hold any JSON value.

Both give plain JSON values (dict, list, str, int, float, bool, None). Text that cannot be read
raises ``ValueError`` with the position.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from plivo_node.expressions.coercion import JS_WHITESPACE

_UNDEFINED: Final = object()  # a value JSON has no text for: its key is left out
_MAX_DEPTH: Final = 200
_NUMBER: Final = re.compile(
    r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+"
    r"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
)
_WORD: Final = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_REPAIRED_WORDS: Final = {"True": True, "False": False, "None": None, "undefined": None}


class _Reader:
    def __init__(self, text: str, *, repair: bool) -> None:
        self.text = text
        self.at = 0
        self.repair = repair

    def fail(self, what: str) -> ValueError:
        return ValueError(f"{what} at character {self.at + 1}")

    def skip(self) -> None:
        text = self.text
        while self.at < len(text):
            char = text[self.at]
            if char in JS_WHITESPACE:
                self.at += 1
            elif text.startswith("//", self.at):
                end = text.find("\n", self.at)
                self.at = len(text) if end < 0 else end + 1
            elif text.startswith("/*", self.at):
                end = text.find("*/", self.at + 2)
                if end < 0:
                    raise self.fail("an unclosed comment")
                self.at = end + 2
            else:
                return

    def peek(self) -> str:
        self.skip()
        return self.text[self.at] if self.at < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.at += 1

    def value(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise self.fail("nesting too deep")
        char = self.peek()
        if char == "{":
            return self.object(depth)
        if char == "[":
            return self.array(depth)
        if char in {'"', "'"}:
            return self.string(char)
        if char in {"-", "+"}:
            self.at += 1
            number = self.value(depth + 1)
            if not self.repair or not isinstance(number, int | float) or isinstance(number, bool):
                return _UNDEFINED  # an expression, not a literal
            return -number if char == "-" else number
        match = _NUMBER.match(self.text, self.at)
        if match:
            self.at = match.end()
            return _number(match.group(0))
        match = _WORD.match(self.text, self.at)
        if match:
            self.at = match.end()
            word = match.group(0)
            if word in ("true", "false"):
                return word == "true"
            if word == "null":
                return None
            if self.repair and word in _REPAIRED_WORDS:
                return _REPAIRED_WORDS[word]
            return word
        raise self.fail("unexpected text" if char else "unexpected end of text")

    def object(self, depth: int) -> dict[str, Any]:
        self.expect("{")
        result: dict[str, Any] = {}
        while self.peek() != "}":
            key = self.key()
            self.expect(":")
            value = self.value(depth + 1)
            if value is not _UNDEFINED:
                result[key] = value
            if self.peek() == ",":
                self.at += 1
            elif self.peek() != "}":
                raise self.fail("expected ',' or '}'")
        self.at += 1
        return result

    def key(self) -> str:
        char = self.peek()
        if char in {'"', "'"}:
            return self.string(char)
        match = _NUMBER.match(self.text, self.at) or _WORD.match(self.text, self.at)
        if not match:
            raise self.fail("expected a key")
        self.at = match.end()
        text = match.group(0)
        return text if _WORD.fullmatch(text) else _key_of_number(_number(text))

    def array(self, depth: int) -> list[Any]:
        self.expect("[")
        result: list[Any] = []
        while self.peek() != "]":
            if self.peek() == ",":  # an elision: a hole, null in JSON
                self.at += 1
                result.append(None)
                continue
            value = self.value(depth + 1)
            result.append(None if value is _UNDEFINED else value)
            if self.peek() == ",":
                self.at += 1
            elif self.peek() != "]":
                raise self.fail("expected ',' or ']'")
        self.at += 1
        return result

    def string(self, quote: str) -> str:
        self.at += 1
        parts: list[str] = []
        text = self.text
        while True:
            if self.at >= len(text) or text[self.at] == "\n":
                raise self.fail("an unclosed string")
            char = text[self.at]
            if char == quote:
                self.at += 1
                return "".join(parts)
            if char == "\\":
                parts.append(self.escape())
                continue
            parts.append(char)
            self.at += 1

    def escape(self) -> str:
        text = self.text
        self.at += 1
        if self.at >= len(text):
            raise self.fail("an unclosed string")
        char = text[self.at]
        self.at += 1
        if char in _ESCAPES:
            return _ESCAPES[char]
        if char == "\n":
            return ""  # a line continuation
        if char in "ux":
            if char == "u" and text.startswith("{", self.at):
                end = text.find("}", self.at)
                digits = text[self.at + 1 : end] if end > 0 else ""
                self.at = end + 1
            else:
                size = 4 if char == "u" else 2
                digits = text[self.at : self.at + size]
                self.at += size
            try:
                return chr(int(digits, 16))
            except ValueError:
                raise self.fail("a bad escape sequence") from None
        return char


def _number(text: str) -> int | float:
    if text[:2].lower() in ("0x", "0o", "0b"):
        return int(text[2:], {"x": 16, "o": 8, "b": 2}[text[1].lower()])
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text} is too large")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _key_of_number(number: int | float) -> str:
    return str(number) if isinstance(number, int) else repr(number)


def _read(text: str, *, repair: bool) -> Any:
    reader = _Reader(text, repair=repair)
    value = reader.value(0)
    if reader.peek():
        raise reader.fail("unexpected text after the value")
    return None if value is _UNDEFINED else value


def parse_js_object(text: str) -> dict[str, Any]:
    """n8n's ``acceptJSObject``: ``text`` as one JavaScript object literal."""
    if not text.strip(JS_WHITESPACE).startswith("{"):
        raise ValueError("the text is not an object literal")
    value = _read(text, repair=False)
    assert isinstance(value, dict)  # an object literal was read whole
    return value


def repair_json(text: str) -> Any:
    """n8n's ``repairJSON``: the JSON value ``text`` was meant to be."""
    return _read(text, repair=True)
