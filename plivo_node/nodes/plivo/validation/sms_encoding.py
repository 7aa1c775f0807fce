"""SMS text: which encoding Plivo will use, how many segments it bills, and the length limits.

GSM 03.38 (GSM-7) covers the basic table below; the extension table's characters are sent as
escape + character and so take two septets. A single character outside both tables makes
Plivo send the whole message as UCS-2. Segment sizes follow PLIVO_API.md §9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from plivo_node.core.errors import ParameterError

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 basic character set (127 characters; position 0x1B is the escape, not a character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# GSM 03.38 extension table: each costs two septets (escape + character).
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PER_SEGMENT, GSM7_MAX = 160, 153, 1600
UCS2_SINGLE, UCS2_PER_SEGMENT, UCS2_MAX = 70, 67, 737


@dataclass(frozen=True)
class TextEncoding:
    """How a text goes out.

    ``length`` is in septets for GSM-7 (extension characters count 2) and in UTF-16 code units
    for UCS-2 (a character outside the Basic Multilingual Plane, such as most emoji, takes 2).
    ``ucs2_trigger`` is the first character that forced UCS-2, if any.
    """

    encoding: Encoding
    length: int
    segments: int
    ucs2_trigger: str | None = None
    ucs2_trigger_position: int | None = None  # 1-based character position

    @property
    def limit(self) -> int:
        return GSM7_MAX if self.encoding == "GSM-7" else UCS2_MAX


def _segments(length: int, single: int, per_segment: int) -> int:
    if length == 0:
        return 0
    if length <= single:
        return 1
    return math.ceil(length / per_segment)


def analyze_text(text: str) -> TextEncoding:
    """The encoding, length and segment count of ``text`` (no limit check)."""
    if GSM7_BASIC.issuperset(text):
        # The usual case, checked in one C-level pass: every character is one septet. (A
        # cache would not help: personalised texts are all different.)
        length = len(text)
        return TextEncoding(
            encoding="GSM-7",
            length=length,
            segments=_segments(length, GSM7_SINGLE, GSM7_PER_SEGMENT),
        )
    return _analyze_by_character(text)


@lru_cache(maxsize=1024)
def _analyze_by_character(text: str) -> TextEncoding:
    septets = 0
    for position, char in enumerate(text, start=1):
        if char in GSM7_BASIC:
            septets += 1
        elif char in GSM7_EXTENSION:
            septets += 2
        else:
            units = len(text.encode("utf-16-le")) // 2
            return TextEncoding(
                encoding="UCS-2",
                length=units,
                segments=_segments(units, UCS2_SINGLE, UCS2_PER_SEGMENT),
                ucs2_trigger=char,
                ucs2_trigger_position=position,
            )
    return TextEncoding(
        encoding="GSM-7", length=septets, segments=_segments(septets, GSM7_SINGLE, GSM7_PER_SEGMENT)
    )


def describe_char(char: str) -> str:
    """A character as users can recognise it even when it is invisible: ``'é' (U+00E9)``."""
    return f"{char!r} (U+{ord(char):04X})"


def check_sms_text(text: str, *, parameter: str = "message") -> TextEncoding:
    """``text``'s encoding, or a :class:`ParameterError` when it is over Plivo's limit."""
    result = analyze_text(text)
    if result.length <= result.limit:
        return result
    if result.ucs2_trigger is not None:
        trigger = describe_char(result.ucs2_trigger)
        raise ParameterError(
            f"message is {result.length} characters in UCS-2 encoding, over Plivo's limit of "
            f"{UCS2_MAX}; {trigger} at position {result.ucs2_trigger_position} is not in the "
            "GSM-7 alphabet, so the whole message is sent as UCS-2",
            hint=f"shorten the message to {UCS2_MAX} characters, or replace {trigger} so it "
            f"can go as GSM-7 (limit {GSM7_MAX})",
            parameter=parameter,
        )
    raise ParameterError(
        f"message is {result.length} characters in GSM-7 encoding, over Plivo's limit of "
        f"{GSM7_MAX} (the characters ^ {{ }} [ ] ~ \\ | € count twice)",
        hint=f"shorten the message to {GSM7_MAX} characters or fewer",
        parameter=parameter,
    )
