"""SMS encoding and segments (PLIVO_API.md §9), table-driven, and the length limits."""

from __future__ import annotations

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.plivo.validation.sms_encoding import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    analyze_text,
    check_sms_text,
)


def test_the_gsm7_tables_have_their_standard_sizes() -> None:
    assert len(GSM7_BASIC) == 127  # 128 positions, one of them the escape
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "encoding", "length", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("hello", "GSM-7", 5, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("a" * 1600, "GSM-7", 1600, 11),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters count twice
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 159 + "[", "GSM-7", 161, 2),
        ("{}[]~\\|^€\f", "GSM-7", 20, 1),
        ("Ünïcödé? No: ä ö ñ ü à é è are GSM-7", "UCS-2", 36, 1),  # 'ï' is not
        ("ж" * 70, "UCS-2", 70, 1),
        ("ж" * 71, "UCS-2", 71, 2),
        ("ж" * 134, "UCS-2", 134, 2),
        ("ж" * 135, "UCS-2", 135, 3),
        ("a" * 150 + "ж", "UCS-2", 151, 3),  # one character turns all of it into UCS-2
        ("😀" * 35, "UCS-2", 70, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, "UCS-2", 72, 2),
        ("€" * 5 + "ж", "UCS-2", 6, 1),  # in UCS-2 the euro is one character again
    ],
)
def test_encoding_length_and_segments(text: str, encoding: str, length: int, segments: int) -> None:
    result = analyze_text(text)
    assert (result.encoding, result.length, result.segments) == (encoding, length, segments)


def test_the_character_that_forced_ucs2_is_reported() -> None:
    result = analyze_text("Hi 👋 there ж")
    assert result.ucs2_trigger == "👋"
    assert result.ucs2_trigger_position == 4


def test_limits_are_inclusive() -> None:
    assert check_sms_text("a" * 1600).segments == 11
    assert check_sms_text("ж" * 737).segments == 11


def test_too_long_gsm7_message() -> None:
    with pytest.raises(ParameterError) as caught:
        check_sms_text("a" * 1599 + "€")
    error = caught.value
    assert error.parameter == "message"
    assert "1601 characters in GSM-7" in error.message
    assert "1600" in error.message


def test_too_long_ucs2_message_names_the_culprit() -> None:
    with pytest.raises(ParameterError) as caught:
        check_sms_text("a" * 700 + "\N{RIGHT SINGLE QUOTATION MARK}" + "b" * 37)
    error = caught.value
    assert "738 characters in UCS-2" in error.message
    assert "737" in error.message
    assert "U+2019" in error.message
    assert "position 701" in error.message
    assert error.hint is not None
    assert "1600" in error.hint
