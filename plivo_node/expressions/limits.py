"""The sizes an expression may not exceed, and the one mechanism that enforces them.

Every builder of text or arrays (``+``, ``concat``, ``repeat``, ``padStart``, ``join``,
``split``, ``replace``, JSON text, splicing, ...) calls :func:`reserve` with the size it is
about to build, *before* building it. That checks the size of the one value, and charges it to
the evaluation's budget, so an expression cannot exhaust memory by building many values that
are each small enough either (``[s.repeat(1e6), s.repeat(1e6), ...]``).
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Final

from plivo_node.core.errors import ExpressionError

MAX_SOURCE_CHARS: Final = 10_000
MAX_TEXT_CHARS: Final = 1_000_000  # one string
MAX_ARRAY_ITEMS: Final = 100_000  # one array
MAX_BUILT_PER_ITEM: Final = 10_000_000  # characters and array items built by one evaluation
MAX_NESTING: Final = 40
MAX_DATA_DEPTH: Final = 200  # nested arrays/objects turned into text

# What the current evaluation has built so far; None outside an evaluation (no budget then).
_built: ContextVar[list[int] | None] = ContextVar("expression_built", default=None)


class EvaluationBudget:
    """``with EvaluationBudget():`` everything built inside counts against MAX_BUILT_PER_ITEM."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token: Token[list[int] | None] = _built.set([0])

    def __exit__(self, *_exc: object) -> None:
        _built.reset(self._token)


def reserve(*, chars: int = 0, items: int = 0) -> None:
    """Refuse, before it is built, a string of ``chars`` or an array of ``items`` that is too
    large, or that would take the evaluation past its budget; otherwise charge it."""
    check_text_size(chars)
    if items > MAX_ARRAY_ITEMS:
        raise ExpressionError(
            f"The expression would build an array of {items:,} items, more than the "
            f"{MAX_ARRAY_ITEMS:,} allowed",
            hint="build smaller arrays",
        )
    built = _built.get()
    if built is None:
        return
    built[0] += chars + items
    if built[0] > MAX_BUILT_PER_ITEM:
        raise ExpressionError(
            f"The expression builds more than {MAX_BUILT_PER_ITEM:,} characters and array "
            "items in total for one item",
            hint="build fewer or smaller values",
        )


def check_text_size(size: int) -> None:
    """Refuse text of ``size`` characters, when it would be too long (no charge)."""
    if size > MAX_TEXT_CHARS:
        raise ExpressionError(
            f"The expression would produce {size:,} characters of text, more than the "
            f"{MAX_TEXT_CHARS:,} allowed",
            hint="build smaller values",
        )
