"""Splitting a template's text into literal pieces and ``{{ }}`` segments."""

from __future__ import annotations

from plivo_node.expressions.tokens import SyntaxProblemError


def split_template(text: str) -> tuple[list[str], list[tuple[str, int]]]:
    """Split at ``{{ }}``: literal pieces (one more than segments) and (segment, offset) pairs.

    A "}}" inside a quoted string or closing a nested object literal does not end a segment.
    Statements (``{% %}``) are refused: only expressions are supported.
    """
    pieces: list[str] = []
    segments: list[tuple[str, int]] = []
    position = 0
    while (start := text.find("{{", position)) != -1:
        pieces.append(text[position:start])
        end = _segment_end(text, start + 2)
        segments.append((text[start + 2 : end], start + 2))
        position = end + 2
    pieces.append(text[position:])
    if any("{%" in piece for piece in pieces):
        raise SyntaxProblemError(
            "Statements such as {% if %} are not supported; only {{ }} expressions are",
            text.find("{%"),
            "write conditions inline, e.g. {{ $json.vip ? 'Hi VIP' : 'Hi' }}",
        )
    return pieces, segments


def _segment_end(text: str, cursor: int) -> int:
    """Where the ``}}`` closing the segment that starts at ``cursor`` is."""
    start, depth, length = cursor - 2, 0, len(text)
    while cursor < length:
        char = text[cursor]
        if char in "'\"`":
            quote_at = cursor
            cursor += 1
            while cursor < length and text[cursor] != char:
                cursor += 2 if text[cursor] == "\\" else 1
            if cursor >= length:
                raise SyntaxProblemError("This text has no closing quote", quote_at)
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0 and text.startswith("}}", cursor):
                return cursor
            depth = max(depth - 1, 0)
        cursor += 1
    raise SyntaxProblemError("'{{' has no closing '}}'", start)
