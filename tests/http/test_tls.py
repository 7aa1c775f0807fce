"""TLS: aiohttp imported without its unused default contexts; every https request verified."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from plivo_node.core.errors import ConnectionFailedError
from plivo_node.http.aiohttp_import import verified_tls_context
from plivo_node.http.retry import RetryPolicy
from plivo_node.http.transport import HttpClient, ServiceProfile

PROBE = """
import json, os, sys
before = os.environ.get("SSL_CERT_FILE")
import plivo_node.http.transport
print(json.dumps({
    "aiohttp": "aiohttp" in sys.modules,
    "before": before,
    "after": os.environ.get("SSL_CERT_FILE"),
}))
"""


def _probe(env: dict[str, str]) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(completed.stdout)
    return result


@pytest.mark.parametrize("ca_file", [None, "/etc/custom-ca.pem"])
def test_the_ca_file_setting_is_put_back_after_importing_aiohttp(ca_file: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SSL_CERT_FILE"}
    if ca_file is not None:
        env["SSL_CERT_FILE"] = ca_file
    assert _probe(env) == {"aiohttp": True, "before": ca_file, "after": ca_file}


def test_the_https_context_verifies_certificates_and_host_names() -> None:
    context = verified_tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


@pytest.fixture
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def https_server(certificate_authority: trustme.CA) -> AsyncIterator[str]:
    """An https server on 127.0.0.1 whose certificate only ``certificate_authority`` signed."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(server_context)

    async def account(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/v1/account", account)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"https://127.0.0.1:{port}/v1/"
    finally:
        await runner.cleanup()


@pytest.fixture
def fresh_context() -> Iterator[None]:
    """The context reads the CA settings when built: build it anew for each test."""
    verified_tls_context.cache_clear()
    yield
    verified_tls_context.cache_clear()


def _client(base_url: str) -> HttpClient:
    profile = ServiceProfile(base_url=base_url, authorization="Basic eDp5")
    return HttpClient(profile, timeout=5.0, retry_policy=RetryPolicy(max_attempts=1))


@pytest.mark.usefixtures("fresh_context")
async def test_a_certificate_no_trusted_ca_signed_is_refused(
    https_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The system's CAs only (no SSL_CERT_FILE naming the test CA): verification must fail.
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    async with _client(https_server) as client:
        with pytest.raises(ConnectionFailedError) as caught:
            await client.request("GET", "account")
    assert "certificate" in str(caught.value.__cause__).lower()


@pytest.mark.usefixtures("fresh_context")
async def test_the_ca_file_the_user_names_is_trusted(
    https_server: str,
    certificate_authority: trustme.CA,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    ca_file = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    async with _client(https_server) as client:
        response = await client.request("GET", "account")
    assert response.body == {"ok": True}
