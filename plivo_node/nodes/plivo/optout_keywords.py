"""Which inbound messages opt their sender out of (or back into) messages: PLIVO_API.md §20.

The rules are Plivo's own, so that the suppression list mirrors what Plivo's DND service does
with the same message:

- the whole message is the keyword, compared without regard to case;
- trailing spaces and newlines still count ("STOP\\n" is STOP); nothing else is stripped, so a
  sentence ("Stop it!"), punctuation ("STOP.") or leading text is not a keyword;
- opt-out: STOP, END, QUIT, CANCEL, UNSUB, STOP ALL and UNSUBSCRIBE (older docs list it; the
  newest list is shorter, and treating an old keyword as an opt-out errs on the side of not
  messaging someone who asked not to be);
- opt-in: START, YES, RESUME, RESUME ALL, UNSTOP, GO.

Plivo also classifies the message itself (``MessageIntent``: ``optout`` / ``optin``). Where it
says so, that wins: it is what Plivo's DND service acted on.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

OPT_OUT_KEYWORDS = frozenset({"STOP", "END", "QUIT", "CANCEL", "UNSUB", "STOP ALL", "UNSUBSCRIBE"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "RESUME", "RESUME ALL", "UNSTOP", "GO"})
# Trailing whitespace Plivo ignores: spaces, tabs and newlines.
_TRAILING = " \t\r\n"


class Intent(StrEnum):
    OPT_OUT = "optout"
    OPT_IN = "optin"


def keyword_of(text: str) -> tuple[Intent, str] | None:
    """The opt-out or opt-in keyword ``text`` is, upper-cased, or None."""
    word = text.rstrip(_TRAILING).upper()
    if word in OPT_OUT_KEYWORDS:
        return Intent.OPT_OUT, word
    if word in OPT_IN_KEYWORDS:
        return Intent.OPT_IN, word
    return None


def intent_of(params: Mapping[str, Any]) -> tuple[Intent, str] | None:
    """What an inbound message's callback parameters ask for, and why (the keyword, or
    Plivo's MessageIntent), or None for an ordinary message."""
    declared = str(params.get("MessageIntent") or "").strip().lower()
    text = params.get("Text")
    if text is None:
        text = params.get("Body")  # MMS and WhatsApp carry their text here
    found = keyword_of(text) if isinstance(text, str) else None
    if declared in (Intent.OPT_OUT, Intent.OPT_IN):
        intent = Intent(declared)
        if found is not None and found[0] is intent:
            return found
        return intent, f"MessageIntent {declared}"
    return found
