"""The sandbox's own V2 / V3 signer reproduces signatures computed with Plivo's SDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from plivo.utils.signature_v3 import validate_v3_signature

from plivo_sandbox.signatures import new_nonce, v2_signature, v3_signature

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "signatures" / "vectors.json").read_text("utf-8")
)
NONCE = VECTORS["nonce"]


@pytest.mark.parametrize("vector", VECTORS["v2"], ids=lambda v: v["url"])
def test_v2_matches_the_sdk_vectors(vector: dict[str, str]) -> None:
    assert v2_signature(vector["token"], vector["url"], NONCE) == vector["signature"]


@pytest.mark.parametrize("vector", VECTORS["v3"], ids=lambda v: f"{v['method']} {v['url']}")
def test_v3_matches_the_sdk_vectors(vector: dict[str, Any]) -> None:
    signature = v3_signature(
        vector["token"], vector["method"], vector["url"], vector["params"], NONCE
    )
    assert signature == vector["signature"]


def test_the_vectors_cover_both_methods_queries_and_tokens() -> None:
    v3 = VECTORS["v3"]
    assert {v["method"] for v in v3} == {"GET", "POST"}
    assert any("?" in v["url"] and v["params"] for v in v3)
    assert len({v["token"] for v in v3}) == 2
    assert len({v["signature"] for v in v3}) == len(v3)  # no two cases collapse into one


def test_a_fresh_nonce_signs_what_the_sdk_validates() -> None:
    params = {"CallUUID": "x", "CallStatus": "completed", "Duration": "30"}
    url = "http://127.0.0.1:9/hangup?run=1"
    nonce = new_nonce()
    assert len(nonce) == 20
    assert nonce.isdigit()
    signature = v3_signature("token", "POST", url, params, nonce)
    assert validate_v3_signature("POST", url, nonce, "token", signature, params)
    assert not validate_v3_signature(
        "POST", url, nonce, "token", signature, {**params, "Duration": "31"}
    )
