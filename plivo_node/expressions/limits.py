"""The sizes an expression may not exceed, and the checks that enforce them."""

from __future__ import annotations

from typing import Final

from plivo_node.errors import ExpressionError

MAX_SOURCE_CHARS: Final = 10_000
MAX_TEXT_CHARS: Final = 1_000_000
MAX_NUMBER_BITS: Final = 1024  # about 1.8e308, JavaScript's largest number
MAX_NESTING: Final = 40

NUMBER_TOO_LARGE: Final = "The number is too large (more than about 308 digits)"


def check_text_size(size: int) -> None:
    """Refuse text of ``size`` characters before it is built, when it would be too long."""
    if size > MAX_TEXT_CHARS:
        raise ExpressionError(
            f"The expression would produce {size:,} characters of text, more than the "
            f"{MAX_TEXT_CHARS:,} allowed",
            hint="build smaller values",
        )


def check_int(value: object) -> object:
    """``value`` itself, unless it is a whole number beyond JavaScript's range."""
    if isinstance(value, int) and value.bit_length() > MAX_NUMBER_BITS:
        raise ExpressionError(NUMBER_TOO_LARGE)
    return value
