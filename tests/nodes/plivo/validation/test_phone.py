"""Phone numbers: E.164 digits out, clear errors in, bulk lists split/checked/deduplicated."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.plivo.validation import phone
from plivo_node.nodes.plivo.validation.phone import (
    _nanp_number,
    normalize_number,
    normalize_sender,
    parse_destinations,
    parse_number,
    region_of,
)


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("+14155550100", "14155550100"),
        ("14155550100", "14155550100"),
        ("+1 (415) 555-0100", "14155550100"),
        (" +1.415.555.0100 ", "14155550100"),
        ("+44 20 7946 0958", "442079460958"),
        ("+91 98765 43210", "919876543210"),
        (14155550100, "14155550100"),
    ],
)
def test_valid_numbers_become_e164_digits(raw: object, digits: str) -> None:
    assert normalize_number(raw, parameter="to") == digits


@pytest.mark.parametrize(
    "raw", ["12345", "+1415555010", "+15555555555", "phone", "+1415555O100", "٤١٥٥٥٥٠١٠٠"]
)
def test_invalid_numbers_name_the_value_and_the_fix(raw: str) -> None:
    with pytest.raises(ParameterError) as caught:
        normalize_number(raw, parameter="to")
    assert f"'{raw}'" in caught.value.message
    assert caught.value.hint is not None
    assert "+14155550100" in caught.value.hint
    assert caught.value.parameter == "to"


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_missing_number(raw: object) -> None:
    with pytest.raises(ParameterError, match="no phone number"):
        normalize_number(raw, parameter="from")


def test_region_of_a_number() -> None:
    assert parse_number("+14155550100", parameter="to").region == "US"
    assert region_of("16135550123") == "CA"
    assert region_of("442079460958") == "GB"
    assert region_of("18765550123") == "JM"
    assert region_of("garbage") is None


def test_bulk_list_is_split_checked_and_deduplicated_in_order() -> None:
    assert parse_destinations("+14155550102<14155550101< +1 415 555 0102") == [
        "14155550102",
        "14155550101",
    ]


def test_bulk_error_names_the_position() -> None:
    with pytest.raises(ParameterError, match=r"'oops' \(destination 2 of 3\)"):
        parse_destinations("+14155550101<oops<+14155550102")


def test_bulk_with_an_empty_entry() -> None:
    with pytest.raises(ParameterError, match="destination 2 of 2 is empty"):
        parse_destinations("+14155550101<")


def test_bulk_limit_counts_unique_numbers() -> None:
    numbers = [f"+1415555{n:04d}" for n in range(1000)]
    assert len(parse_destinations("<".join([*numbers, *numbers]))) == 1000
    with pytest.raises(ParameterError, match="1001 unique destinations"):
        parse_destinations("<".join([*numbers, "+14155551000"]))


def test_sip_uris_only_where_allowed() -> None:
    assert parse_destinations("sip:alice@phone.plivo.com", allow_sip=True) == [
        "sip:alice@phone.plivo.com"
    ]
    with pytest.raises(ParameterError):
        parse_destinations("sip:alice@phone.plivo.com")
    with pytest.raises(ParameterError, match="SIP URI"):
        parse_destinations("sip:alice", allow_sip=True)


@pytest.mark.parametrize(
    ("raw", "sender"),
    [
        ("+14155550100", "14155550100"),
        ("MyShop", "MyShop"),
        ("My Shop", "MyShop"),
        ("55555", "55555"),
    ],
)
def test_senders_may_be_numbers_short_codes_or_sender_ids(raw: str, sender: str) -> None:
    assert normalize_sender(raw) == sender


@pytest.mark.parametrize("raw", ["TwelveLetter", "Shop!", "+1415555010"])
def test_bad_senders(raw: str) -> None:
    with pytest.raises(ParameterError) as caught:
        normalize_sender(raw)
    assert caught.value.parameter == "from"


def test_parsing_is_cached() -> None:
    phone._parse_digits.cache_clear()
    for _ in range(100):
        normalize_number("+14155550100", parameter="from")
    info = phone._parse_digits.cache_info()
    assert (info.misses, info.hits) == (1, 99)


def test_north_american_shortcut_matches_phonenumbers_parse() -> None:
    rng = random.Random(5)
    samples = [f"1{rng.randint(200, 999)}{rng.randint(0, 9_999_999):07d}" for _ in range(3000)]
    samples += ["14155550100", "12025550143", "14165550123", "18005550199", "19995550000"]
    for digits in samples:
        shortcut = _nanp_number(digits)
        assert shortcut is not None
        assert shortcut == phonenumbers.parse("+" + digits, None), digits
    for digits in ["10155550100", "11155550100", "1415555010", "141555501000", "441632960961"]:
        assert _nanp_number(digits) is None


def test_fast_paths_agree_with_phonenumbers_validation() -> None:
    rng = random.Random(9)
    area_codes = ["415", "202", "416", "604", "787", "876", "242", "268", "555", "800", "907"]
    samples = [f"1{rng.choice(area_codes)}{rng.randint(0, 9_999_999):07d}" for _ in range(3000)]
    samples += [f"{cc}{rng.randint(10**8, 10**10)}" for cc in ("44", "91", "49", "61", "33")]
    for digits in samples:
        reference = phonenumbers.parse("+" + digits, None)
        valid = phonenumbers.is_valid_number(reference)
        ours = phone._parse_digits.__wrapped__(digits)
        assert (ours is not None) == valid, digits
        if ours is not None:
            assert ours.region == phonenumbers.region_code_for_number(reference), digits
            assert ours.digits == digits
