"""Plivo's webhook signatures: the verifier against vectors made with Plivo's SDK
(tests/fixtures/make_plivo_signatures.py), tampering, other URLs, rotated tokens, and the
sandbox's own signer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from plivo_node.core.node import WebhookRejection, WebhookRequest
from plivo_node.nodes.plivo.signatures import v2_signature, v3_signature
from plivo_node.nodes.plivo.trigger import verify_request
from plivo_sandbox.callbacks import v2_signature as sandbox_v2_signature

VECTORS = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "plivo_signatures.json").read_text("utf-8")
)


def _listed(params: dict[str, Any]) -> dict[str, list[str]]:
    return {k: v if isinstance(v, list) else [v] for k, v in params.items()}


@pytest.mark.parametrize("vector", VECTORS["v2"], ids=lambda v: v["url"])
def test_v2_matches_the_sdk(vector: dict[str, Any]) -> None:
    assert v2_signature(vector["token"], vector["url"], vector["nonce"]) == vector["signature"]


@pytest.mark.parametrize("vector", VECTORS["v3"], ids=lambda v: f"{v['method']} {v['url']}")
def test_v3_matches_the_sdk(vector: dict[str, Any]) -> None:
    signature = v3_signature(
        vector["token"],
        vector["method"],
        vector["url"],
        _listed(vector["params"]),
        vector["nonce"],
    )
    assert signature == vector["signature"]


TOKEN = "MjU3YTZhYjJmOGU0NGFlNzE4ZDk4NDE3YzlhNmZl"
MAIN = "ZTk5NTBlNzM1ZGNlOGNhZmI0ZDQ2NWNmYmI0NGVi"
URL = "https://example.ngrok.app/webhook/inbound"
INBOUND = {"From": "14155550100", "To": "14155550101", "Text": "hi", "MessageUUID": "m-1"}
CALL = {"CallUUID": "c-1", "CallStatus": "completed", "From": "14155550100", "Event": "Hangup"}


def _v2_request(headers: dict[str, str], url: str = URL, params: Any = None) -> WebhookRequest:
    return WebhookRequest(
        "POST", url, {k.lower(): v for k, v in headers.items()}, _listed(params or INBOUND)
    )


def _v2_headers(token: str, nonce: str = "123", url: str = URL) -> dict[str, str]:
    return {
        "X-Plivo-Signature-V2": v2_signature(token, url, nonce),
        "X-Plivo-Signature-V2-Nonce": nonce,
    }


def test_v2_accepts_a_good_signature_and_returns_its_nonce() -> None:
    assert verify_request(_v2_request(_v2_headers(TOKEN)), {"authToken": TOKEN}) == "V2:123"


def test_v2_refuses_another_url_a_wrong_token_and_a_missing_header() -> None:
    other = _v2_headers(TOKEN, url="https://example.ngrok.app/webhook/other")
    assert isinstance(verify_request(_v2_request(other), {"authToken": TOKEN}), WebhookRejection)
    wrong = _v2_headers("another-token-entirely-000000000")
    assert isinstance(verify_request(_v2_request(wrong), {"authToken": TOKEN}), WebhookRejection)
    rejection = verify_request(_v2_request({}), {"authToken": TOKEN})
    assert isinstance(rejection, WebhookRejection)
    assert "X-Plivo-Signature-V2-Nonce" in rejection.reason


def test_v2_several_signatures_any_match_passes_and_a_rotated_token_fails() -> None:
    old = "old-token-0000000000000000000000000000"
    headers = _v2_headers(TOKEN)
    both = {
        **headers,
        "X-Plivo-Signature-V2": v2_signature(old, URL, "123")
        + ", "
        + headers["X-Plivo-Signature-V2"],
    }
    assert verify_request(_v2_request(both), {"authToken": TOKEN}) == "V2:123"
    # After rotation the credentials hold the new token: a request signed with the old fails.
    assert isinstance(
        verify_request(_v2_request(_v2_headers(old)), {"authToken": TOKEN}), WebhookRejection
    )


def test_ma_header_is_checked_with_the_main_account_token() -> None:
    nonce = "77"
    headers = {
        "X-Plivo-Signature-Ma-V2": v2_signature(MAIN, URL, nonce),
        "X-Plivo-Signature-V2": "bm90IGl0",
        "X-Plivo-Signature-V2-Nonce": nonce,
    }
    fields = {"authToken": TOKEN, "mainAuthToken": MAIN}
    assert verify_request(_v2_request(headers), fields) == "V2:77"
    # Without the main token configured, the Ma- header is checked with the same token.
    assert isinstance(verify_request(_v2_request(headers), {"authToken": TOKEN}), WebhookRejection)


def _v3_request(params: dict[str, str], token: str, nonce: str = "9") -> WebhookRequest:
    listed = _listed(params)
    headers = {
        "x-plivo-signature-v3": v3_signature(token, "POST", URL, listed, nonce),
        "x-plivo-signature-v3-nonce": nonce,
    }
    return WebhookRequest("POST", URL, headers, listed)


def test_v3_signs_the_body_so_a_tampered_body_fails() -> None:
    request = _v3_request(CALL, TOKEN)
    assert verify_request(request, {"authToken": TOKEN}) == "V3:9"
    tampered = WebhookRequest(
        request.method, request.url, request.headers, {**request.params, "CallStatus": ["busy"]}
    )
    assert isinstance(verify_request(tampered, {"authToken": TOKEN}), WebhookRejection)


def test_a_voice_callback_with_only_a_v2_signature_is_refused() -> None:
    request = _v2_request(_v2_headers(TOKEN), params=CALL)
    rejection = verify_request(request, {"authToken": TOKEN})
    assert isinstance(rejection, WebhookRejection)
    assert "V3" in rejection.reason


def test_the_sandbox_signer_and_the_verifier_agree() -> None:
    url = "http://127.0.0.1:5678/webhook/status?x=1"
    assert sandbox_v2_signature(TOKEN, url, "42") == v2_signature(TOKEN, url, "42")
    headers = {
        "X-Plivo-Signature-V2": sandbox_v2_signature(TOKEN, url, "42"),
        "X-Plivo-Signature-V2-Nonce": "42",
    }
    status = {"MessageUUID": "m", "Status": "delivered", "To": "1415"}
    assert verify_request(_v2_request(headers, url, status), {"authToken": TOKEN}) == "V2:42"
