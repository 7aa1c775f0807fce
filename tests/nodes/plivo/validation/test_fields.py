"""Ordinary field checks: URLs, ids, country codes, whole numbers, dates, booleans, name lists."""

from __future__ import annotations

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.plivo.validation.fields import (
    check_bool,
    check_country_iso,
    check_date,
    check_http_url,
    check_int,
    check_names,
    check_numeric_id,
    split_list,
)


def test_http_urls() -> None:
    assert check_http_url(" https://e.com/a ", parameter="u", label="URL") == "https://e.com/a"
    # "http://[abc" makes urlsplit raise ValueError: it must still be a ParameterError.
    for bad in ["", "e.com", "ftp://e.com", "https://", "https://e.com/a b", "http://[abc"]:
        with pytest.raises(ParameterError):
            check_http_url(bad, parameter="u", label="URL")


def test_numeric_ids() -> None:
    assert check_numeric_id(" 123 ", parameter="app_id", label="Application ID") == "123"
    for bad in ["", "12a", "1/2", "١٢٣"]:
        with pytest.raises(ParameterError, match="Application ID"):
            check_numeric_id(bad, parameter="app_id", label="Application ID")


def test_country_iso() -> None:
    assert check_country_iso("gb") == "GB"
    for bad in ["GBR", "G", "", "G1"]:
        with pytest.raises(ParameterError, match="two-letter" if bad else "empty"):
            check_country_iso(bad)


@pytest.mark.parametrize(("raw", "value"), [(5, 5), (5.0, 5), ("7", 7), (" 8 ", 8)])
def test_whole_numbers(raw: object, value: int) -> None:
    assert check_int(raw, parameter="n", label="N") == value


# An Arabic-Indic five (int() reads it as 5); 5000 digits exceed int()'s own limit.
@pytest.mark.parametrize(
    "raw", [5.5, "five", None, True, [1], "\N{ARABIC-INDIC DIGIT FIVE}", "9" * 5000]
)
def test_not_whole_numbers(raw: object) -> None:
    with pytest.raises(ParameterError, match="whole number"):
        check_int(raw, parameter="n", label="N")


def test_bounds() -> None:
    with pytest.raises(ParameterError, match="at least 2"):
        check_int(1, parameter="n", label="N", minimum=2)
    with pytest.raises(ParameterError, match="at most 3"):
        check_int(4, parameter="n", label="N", maximum=3)


def test_dates() -> None:
    assert check_date("2024-02-29", parameter="d", label="D") == "2024-02-29"
    for bad in ["2023-02-29", "2024-2-1", "14/03/2024"]:
        with pytest.raises(ParameterError, match="YYYY-MM-DD"):
            check_date(bad, parameter="d", label="D")


def test_booleans() -> None:
    assert check_bool(raw=True, parameter="b", label="B") is True
    assert check_bool(" FALSE ", parameter="b", label="B") is False
    with pytest.raises(ParameterError):
        check_bool("yes", parameter="b", label="B")


def test_lists_and_names() -> None:
    assert split_list("a, b,,c ") == ["a", "b", "c"]
    assert split_list(["a", " ", 3]) == ["a", "3"]
    assert check_names("sms,voice,sms", parameter="s", label="S", choices={"sms", "voice"}) == [
        "sms",
        "voice",
    ]
    with pytest.raises(ParameterError, match="'fax'"):
        check_names(["fax"], parameter="s", label="S", choices={"sms"})
