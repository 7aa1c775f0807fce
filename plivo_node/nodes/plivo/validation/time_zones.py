"""The time zones a destination may be in, for the pipeline's send window (libphonenumber's
time zone mapper, ``phonenumbers.timezone``).

A number maps to one zone or several (a US area code spanning two zones, a mobile number of a
country with several). Every zone is returned: the window must be open in all of them. A value
holding several ``<``-joined destinations returns the zones of all of them. When any
destination's zone cannot be told (a SIP URI, a number the mapper does not know), nothing is
returned, and the runtime refuses to guess.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import timezone as phone_time_zones

from plivo_node.nodes.plivo.validation.phone import BULK_SEPARATOR, strip_separators

UNKNOWN_ZONE = "Etc/Unknown"


@lru_cache(maxsize=4096)
def _zones_of_number(text: str) -> tuple[str, ...]:
    digits = strip_separators(text).removeprefix("+")
    if not digits.isdigit():
        return ()
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = phone_time_zones.time_zones_for_number(number)
    return tuple(zone for zone in zones if zone != UNKNOWN_ZONE)


def destination_time_zones(value: str) -> tuple[str, ...]:
    """Every zone the destinations of ``value`` may be in; () when one of them is unknown."""
    found: dict[str, None] = {}
    for entry in value.split(BULK_SEPARATOR):
        zones = _zones_of_number(entry)
        if not zones:
            return ()
        found.update(dict.fromkeys(zones))
    return tuple(found)
