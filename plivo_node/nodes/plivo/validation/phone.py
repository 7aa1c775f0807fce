"""Phone numbers: parse, check and normalise to what Plivo's wire uses (E.164 digits, no "+").

Numbers are accepted with a leading "+" or as bare international digits, with the separators
people type (spaces, dashes, dots, parentheses) stripped. Parsing goes through
``phonenumbers``; results are cached because a batch usually repeats the same sender and
often the same recipients, and parsing is the costly part. ``phonenumbers`` (about 50 ms to
import with its metadata) is imported by the first number checked, not by this module: a
``validate`` whose constant numbers passed before never needs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.plivo.validation.fields import text_value

if TYPE_CHECKING:
    import phonenumbers

# Plivo's own limit for `<`-joined bulk destinations (unique numbers).
MAX_BULK_DESTINATIONS = 1000
BULK_SEPARATOR = "<"
FORMAT_HINT = "use international format with the country code, like +14155550100"

_SEPARATORS = str.maketrans("", "", " \t-.()")
_SIP_URI = re.compile(r"^sips?:[^@\s<]+@[^@\s<]+$", re.IGNORECASE)
# Alphanumeric sender IDs (some countries) and short codes: Plivo accepts them as `src`.
_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$")
_SHORT_CODE = re.compile(r"^\d{3,8}$")


@dataclass(frozen=True)
class PhoneNumber:
    """A valid number: its E.164 digits without "+" and its region (ISO 3166 alpha-2)."""

    digits: str
    region: str | None


def strip_separators(text: str) -> str:
    """``text`` without surrounding space and the separators people type (spaces, -, ., ())."""
    return text.strip().translate(_SEPARATORS)


def _lookup(text: str) -> PhoneNumber | None:
    """The number ``text`` spells, or ``None`` when it is not a valid number."""
    # "+14155550100" and "14155550100" are one number: one cache entry, so that region_of()
    # on the E.164 digits of a number validated moments ago is a cache hit.
    return _parse_digits(strip_separators(text).removeprefix("+"))


# Small on purpose: it pays off for the numbers a batch repeats (the sender, a few recipients),
# not for 100,000 distinct recipients, and every entry stays in memory for the whole run.
@lru_cache(maxsize=4096)
def _parse_digits(digits: str) -> PhoneNumber | None:
    """The number for international digits without "+", or ``None`` when it is not valid."""
    if not digits.isdigit() or not digits.isascii():
        return None
    import phonenumbers  # noqa: PLC0415  (see the module's docstring)

    nanp = _nanp_number(digits)
    nanp_main_region = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1][0]  # "US"
    if nanp is not None and phonenumbers.is_valid_number_for_region(nanp, nanp_main_region):
        # libphonenumber tries +1's main region first, so a number valid there is one of its
        # numbers: region_code_for_number would only repeat this work.
        return PhoneNumber(digits=digits, region=nanp_main_region)
    try:
        parsed = nanp or phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    # phonenumbers.is_valid_number(n) is is_valid_number_for_region(n, region_code_for_number(n));
    # finding the region is the costly part, so it is done once and reused for the result.
    region = phonenumbers.region_code_for_number(parsed)
    if region is None or not phonenumbers.is_valid_number_for_region(parsed, region):
        return None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return PhoneNumber(digits=e164.removeprefix("+"), region=region)


def _nanp_number(digits: str) -> phonenumbers.PhoneNumber | None:
    """A North American number (+1 and ten digits), built without phonenumbers.parse.

    parse() spends most of its time on work that cannot apply here: with ten national digits
    starting 2-9 there is no national prefix to strip and no extension, so the number is
    exactly country code 1 and those ten digits. US and Canadian campaigns are the common
    case, and this halves their cost; every other number takes the full parser.
    """
    if len(digits) == 11 and digits[0] == "1" and digits[1] not in "01":
        import phonenumbers  # noqa: PLC0415  (already imported by the caller)

        return phonenumbers.PhoneNumber(country_code=1, national_number=int(digits[1:]))
    return None


def _invalid(
    value: str, parameter: str, *, position: str = "", hint: str = FORMAT_HINT
) -> ParameterError:
    return ParameterError(
        f"'{value}'{position} is not a valid phone number", hint=hint, parameter=parameter
    )


def parse_number(raw: object, *, parameter: str) -> PhoneNumber:
    """One phone number, or a :class:`ParameterError` that names the value and the fix."""
    text = text_value(raw)
    if not text:
        raise ParameterError("no phone number given", hint=FORMAT_HINT, parameter=parameter)
    number = _lookup(text)
    if number is None:
        raise _invalid(text, parameter)
    return number


def normalize_number(raw: object, *, parameter: str) -> str:
    """One phone number as E.164 digits, no "+": ``"+1 (415) 555-0100"`` → ``"14155550100"``."""
    return parse_number(raw, parameter=parameter).digits


def region_of(digits: str) -> str | None:
    """The region code ("US", "CA", ...) of a number, or ``None`` when it is not valid."""
    number = _lookup(digits)
    return number.region if number else None


def normalize_sender(raw: object, *, parameter: str = "from") -> str:
    """An SMS sender: a phone number, a short code, or an alphanumeric sender ID (≤ 11 chars)."""
    text = text_value(raw)
    if not text:
        raise ParameterError(
            "no sender given",
            hint="set From to a Plivo number like +14155550100, or set a Powerpack UUID",
            parameter=parameter,
        )
    cleaned = strip_separators(text)
    if _SHORT_CODE.match(cleaned) or _SENDER_ID.match(cleaned):
        return cleaned
    number = _lookup(cleaned)
    if number is None:
        raise ParameterError(
            f"'{text}' is not a valid phone number, short code or alphanumeric sender ID",
            hint=f"{FORMAT_HINT}; a sender ID is 1 to 11 letters and digits",
            parameter=parameter,
        )
    return number.digits


def parse_destinations(raw: object, *, parameter: str = "to", allow_sip: bool = False) -> list[str]:
    """Split a `<`-joined destination list, check each entry, drop duplicates (order kept).

    Numbers come back as E.164 digits; with ``allow_sip`` a ``sip:user@host`` URI passes
    through unchanged.
    """
    entries = [entry.strip() for entry in text_value(raw).split(BULK_SEPARATOR)]
    if not any(entries):
        raise ParameterError("no destination given", hint=FORMAT_HINT, parameter=parameter)
    total = len(entries)
    hint = (
        f"{FORMAT_HINT}, or a SIP URI like sip:alice@phone.plivo.com" if allow_sip else FORMAT_HINT
    )
    unique: dict[str, None] = {}
    for position, entry in enumerate(entries, start=1):
        if not entry:
            raise ParameterError(
                f"destination {position} of {total} is empty",
                hint="separate destinations with a single '<', like +14155550100<+14155550101",
                parameter=parameter,
            )
        if allow_sip and _SIP_URI.match(entry):
            unique[entry] = None
            continue
        number = _lookup(entry)
        if number is None:
            where = f" (destination {position} of {total})" if total > 1 else ""
            raise _invalid(entry, parameter, position=where, hint=hint)
        unique[number.digits] = None
    if len(unique) > MAX_BULK_DESTINATIONS:
        raise ParameterError(
            f"{len(unique)} unique destinations given; "
            f"Plivo accepts at most {MAX_BULK_DESTINATIONS} per request",
            hint=f"split the list into batches of {MAX_BULK_DESTINATIONS} or fewer",
            parameter=parameter,
        )
    return list(unique)


def join_destinations(destinations: list[str]) -> str:
    """The wire form of a destination list: `<`-joined."""
    return BULK_SEPARATOR.join(destinations)
