"""Plivo's webhook signatures, checked as Plivo computes them (PLIVO_API.md section 18).

- V2 (messaging callbacks): ``Base64(HMAC-SHA256(token, scheme://authority/path + nonce))``;
  neither the body nor the query is signed, so the nonce is all that tells two requests apart.
- V3 (voice callbacks): the URL with its own query (sorted ``k=v&...``) and, for a POST, the
  form fields sorted and run together (``k1v1k2v2``), then ``"." + nonce``.

A header may carry several comma-separated signatures (a token being rotated): any match
passes. The ``Ma-`` header is the same signature made with the main account's token.

This is the receiving side only. The sandbox, which plays Plivo, signs with its own code
(plivo_sandbox/callbacks.py); tests check that the two agree and that both agree with the
vectors computed by Plivo's SDK (tests/fixtures/plivo_signatures.json).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit


def _mac(token: str, text: str) -> str:
    digest = hmac.new(token.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _base(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def v2_signature(token: str, url: str, nonce: str) -> str:
    """The V2 signature of a request to ``url`` (its query and fragment are not signed)."""
    return _mac(token, _base(url) + nonce)


def _sorted_pairs(params: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """One pair per value, keys in code-point order, a key's values sorted too."""
    return [(key, value) for key in sorted(params) for value in sorted(params[key])]


def _query_params(url: str) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return params


def v3_signed_text(method: str, url: str, params: Mapping[str, Sequence[str]], nonce: str) -> str:
    """The text V3 signs for a request: ``url`` with its query, ``params`` (form fields of a
    POST, query parameters of a GET), and the nonce."""
    query = _query_params(url)
    if method.upper() == "GET":
        merged = {**params, **query}  # the URL's own query wins a collision
        signed = "&".join(f"{key}={value}" for key, value in _sorted_pairs(merged))
        text = _base(url) + ("?" + signed if signed else "")
    else:
        q = "&".join(f"{key}={value}" for key, value in _sorted_pairs(query))
        b = "".join(f"{key}{value}" for key, value in _sorted_pairs(params))
        text = _base(url) + ("?" if q or b else "") + q + ("." if q and b else "") + b
    return text + "." + nonce


def v3_signature(
    token: str, method: str, url: str, params: Mapping[str, Sequence[str]], nonce: str
) -> str:
    return _mac(token, v3_signed_text(method, url, params, nonce))


def header_matches(header: str, expected: str) -> bool:
    """Whether any of the header's comma-separated signatures is ``expected`` (compared in
    constant time, so a timing probe learns nothing about the signature)."""
    return any(hmac.compare_digest(part.strip(), expected) for part in header.split(","))
