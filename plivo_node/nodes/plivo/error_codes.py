"""Plivo's message error codes (``error_code`` in a message record, ``ErrorCode`` in callbacks).

The table is PLIVO_API.md §19; Plivo's full list is at
https://plivo.com/docs/messaging/troubleshooting/error-codes. A code not in the table is
still reported, with a meaning that points to that list.
"""

from __future__ import annotations

from types import MappingProxyType

DELIVERED = "000"
OPTED_OUT = "200"
ERROR_CODES_URL = "https://plivo.com/docs/messaging/troubleshooting/error-codes"

MESSAGE_ERROR_CODES = MappingProxyType(
    {
        DELIVERED: "Delivered",
        "10": "Invalid message: a carrier rejected the content",
        "20": "Carrier network error; temporary, retry later",
        "30": "Spam detected or carrier filter",
        "40": "Invalid source number (malformed, not SMS-enabled, or not on the account)",
        "50": "Invalid destination number",
        "120": "MMS too large (text and media of 5 MB or more)",
        OPTED_OUT: "The destination has opted out (replied STOP)",
        "420": "Expired in the queue before it could be sent; not charged",
        "450": "Destination country not enabled in Geo Permissions",
        "900": "Insufficient credit",
    }
)


def normalized_code(raw: object) -> str | None:
    """An error code as Plivo's table keys it ("000", "30"), or None when there is none."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        return None
    if text.isdigit() and int(text) == 0:
        return DELIVERED
    return text.lstrip("0") if text.isdigit() else text


def error_meaning(raw: object) -> str | None:
    """What an error code means, or None when there is no code."""
    code = normalized_code(raw)
    if code is None:
        return None
    return MESSAGE_ERROR_CODES.get(code, f"Plivo error {code} (see {ERROR_CODES_URL})")
