"""Checks the node makes itself, before any request: phone numbers, SMS text, MMS media, fields.

Every check returns the value in its wire form or raises :class:`plivo_node.errors.ParameterError`
naming the parameter and saying how to fix it.
"""

from plivo_node.validation.media import (
    MediaPlan,
    check_media_plan,
    collect_uploads,
    parse_media_urls,
)
from plivo_node.validation.phone import (
    PhoneNumber,
    normalize_number,
    normalize_sender,
    parse_destinations,
    parse_number,
    region_of,
)
from plivo_node.validation.sms_encoding import TextEncoding, analyze_text, check_sms_text

__all__ = [
    "MediaPlan",
    "PhoneNumber",
    "TextEncoding",
    "analyze_text",
    "check_media_plan",
    "check_sms_text",
    "collect_uploads",
    "normalize_number",
    "normalize_sender",
    "parse_destinations",
    "parse_media_urls",
    "parse_number",
    "region_of",
]
