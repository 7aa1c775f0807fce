"""The Plivo Trigger's step parameters that shape its webhook: signature checks and the answer
to a voice callback.

- ``validateSignature`` (n8n's parameter, default true). False accepts a callback that carries
  no signature at all (a proxy that strips headers, a test tool); a callback whose signature
  is present and wrong is still refused, so switching it off never lets a forged request in
  that claims to be Plivo's. ``serve`` prints a warning on stderr for such a webhook.
- ``callAnswer`` / ``callAnswerText``: an answer_url must return Plivo XML (PLIVO_API.md §10.1,
  §17.3), not "OK". Every voice callback (answer, ring, hangup) gets the same XML; Plivo acts
  on the answer's and ignores the others'. ``empty`` (``<Response/>``): the call ends at once;
  ``busy`` / ``rejected``: ``<Hangup reason=...>``, the call is refused unanswered; ``speak``:
  ``callAnswerText`` is spoken, then the call ends. Messaging callbacks keep "OK".

The values are read when ``serve`` starts, so they must be constants, not expressions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from xml.sax.saxutils import escape

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.node import WebhookOptions, WebhookReply

VALIDATE_SIGNATURE: Final = "validateSignature"
CALL_ANSWER: Final = "callAnswer"
CALL_ANSWER_TEXT: Final = "callAnswerText"
XML_CONTENT_TYPE: Final = "text/xml"
# Plivo reads at most 100 KB of answer XML; a spoken sentence is far below it.
MAX_SPEAK_CHARS: Final = 2000

_ANSWERS: Final = {
    "empty": "<Response/>",
    "busy": '<Response><Hangup reason="busy"/></Response>',
    "rejected": '<Response><Hangup reason="rejected"/></Response>',
}
CALL_ANSWERS: Final = (*_ANSWERS, "speak")


def _constant(parameters: Mapping[str, Any], name: str, *, default: object) -> object:
    value = parameters.get(name, default)
    if isinstance(value, str) and value.startswith("="):
        raise ConfigurationError(
            f"parameter {name} is an expression; serve reads it once, before any callback",
            hint=f"give {name} a constant value",
        )
    return value


def signatures_required(parameters: Mapping[str, Any]) -> bool:
    value = _constant(parameters, VALIDATE_SIGNATURE, default=True)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise ConfigurationError(
        f"parameter {VALIDATE_SIGNATURE} must be true or false, not {value!r}",
        hint=f"write {VALIDATE_SIGNATURE}: true (the default) or false",
    )


def call_answer_xml(parameters: Mapping[str, Any]) -> str:
    """The Plivo XML every voice callback of this webhook is answered with."""
    answer = str(_constant(parameters, CALL_ANSWER, default="empty") or "empty").strip()
    if answer in _ANSWERS:
        return _ANSWERS[answer]
    if answer != "speak":
        raise ConfigurationError(
            f"parameter {CALL_ANSWER} is {answer!r}, which is not an answer this trigger gives",
            hint=f"choose among {', '.join(CALL_ANSWERS)}",
        )
    text = str(_constant(parameters, CALL_ANSWER_TEXT, default="") or "").strip()
    if not text or len(text) > MAX_SPEAK_CHARS:
        raise ConfigurationError(
            f"parameter {CALL_ANSWER_TEXT} must hold the sentence to speak "
            f"(1-{MAX_SPEAK_CHARS} characters) when {CALL_ANSWER} is speak",
            hint=f"set {CALL_ANSWER_TEXT}, e.g. 'Sorry we missed you, we will text you back'",
        )
    return f"<Response><Speak>{escape(text)}</Speak></Response>"


def webhook_options(parameters: Mapping[str, Any], voice_kinds: tuple[str, ...]) -> WebhookOptions:
    reply = WebhookReply(call_answer_xml(parameters), XML_CONTENT_TYPE)
    return WebhookOptions(
        signatures_required=signatures_required(parameters),
        replies=dict.fromkeys(voice_kinds, reply),
    )
