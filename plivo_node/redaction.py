"""A last guard against leaking secrets: every text that leaves the process passes through here.

Credentials register their secrets (the auth token, endpoint passwords given as parameters)
when they are loaded; :func:`redact` masks each of them wherever it appears.
"""

from __future__ import annotations

import threading

MASK = "********"
_MIN_SECRET_LENGTH = 4  # shorter strings would mask ordinary words and digits

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(secret: str | None) -> None:
    """Mask ``secret`` in every text passed to :func:`redact` from now on."""
    if secret and len(secret) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(secret)


def forget_secrets() -> None:
    """Drop every registered secret (tests use this between cases)."""
    with _lock:
        _secrets.clear()


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by a mask."""
    if not _secrets:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
