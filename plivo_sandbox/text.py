"""SMS text rules as Plivo applies them: GSM-7 or UCS-2, length limits and segment counts."""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 basic character set (one septet each) and its extension table (escape + char).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM_MAX_CHARS = 1600
UCS2_MAX_CHARS = 737


@dataclass(frozen=True)
class TextMeasure:
    """How Plivo would encode a text: ``length`` is septets (GSM-7) or UTF-16 units (UCS-2)."""

    encoding: str
    length: int
    segments: int

    @property
    def limit(self) -> int:
        """The longest text Plivo accepts in this encoding."""
        return GSM_MAX_CHARS if self.encoding == "GSM-7" else UCS2_MAX_CHARS

    @property
    def too_long(self) -> bool:
        return self.length > self.limit


def measure(text: str) -> TextMeasure:
    """Encoding, length and segment count of ``text``."""
    septets = 0
    for char in text:
        if char in _GSM_BASIC:
            septets += 1
        elif char in _GSM_EXTENDED:
            septets += 2
        else:
            # One character outside GSM-7 turns the whole message into UCS-2.
            units = len(text.encode("utf-16-le")) // 2
            return TextMeasure("UCS-2", units, _segments(units, 70, 67))
    return TextMeasure("GSM-7", septets, _segments(septets, 160, 153))


def _segments(length: int, single: int, per_part: int) -> int:
    if length <= single:
        return 1
    return -(-length // per_part)
