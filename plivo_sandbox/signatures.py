"""Plivo's webhook signatures, as the sandbox (playing Plivo) computes them: PLIVO_API.md §18.

V2 signs messaging callbacks: the URL without query or fragment, joined with the nonce. V3
signs voice callbacks: the URL, its own query and the parameters sent, joined with the nonce.
Both are Base64(HMAC-SHA256(auth token, string to sign)). This is the sandbox's own code,
checked against vectors computed with Plivo's SDK (tests/fixtures/signatures/).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

NONCE_DIGITS = 20  # the length of the nonces in Plivo's examples


def new_nonce() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(NONCE_DIGITS))


def _mac(auth_token: str, text: str) -> str:
    digest = hmac.new(auth_token.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _base(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def v2_signature(auth_token: str, url: str, nonce: str) -> str:
    """V2: Base64(HMAC-SHA256(token, scheme://authority/path + nonce))."""
    return _mac(auth_token, _base(url) + nonce)


def _query_map(url: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        values.setdefault(key, []).append(value)
    return values


def _joined(values: Mapping[str, list[str]], *, pair: str, between: str) -> str:
    """Keys in code-point order, several values of a key sorted too."""
    return between.join(
        pair.join((key, value)) for key in sorted(values) for value in sorted(values[key])
    )


def v3_string_to_sign(method: str, url: str, params: Mapping[str, str], nonce: str) -> str:
    """What V3 signs for a callback of ``params`` sent with ``method`` to ``url``."""
    query = _query_map(url)
    sent = {key: [value] for key, value in params.items()}
    if method.upper() == "GET":
        merged = {**sent, **query}  # the URL's own query wins a collision
        q = _joined(merged, pair="=", between="&")
        signed_url = _base(url) + ("?" + q if q else "")
    else:
        q = _joined(query, pair="=", between="&")
        b = _joined(sent, pair="", between="")
        signed_url = _base(url)
        if q or b:
            signed_url += "?" + q + ("." if q and b else "") + b
    return f"{signed_url}.{nonce}"


def v3_signature(
    auth_token: str, method: str, url: str, params: Mapping[str, str], nonce: str
) -> str:
    """V3: Base64(HMAC-SHA256(token, signed URL + "." + nonce))."""
    return _mac(auth_token, v3_string_to_sign(method, url, params, nonce))
