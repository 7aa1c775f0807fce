"""The sandbox server under attack: ``plivo-node sandbox`` in a subprocess, hit over loopback.

Each case is one misuse a client (or an attacker on the machine) can throw at the server:
the answer must be Plivo's error shape ``{"api_id", "error"}`` with the right status, the
server must not read what it need not read nor keep what it need not keep, and it must keep
serving: the module ends with ``plivo-node run`` sending through it as if nothing happened.
Sizes and counts are bounded so that every case stays fast.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.adversarial.conftest import AUTH_ID, AUTH_TOKEN, SMS_PIPELINE, Adversary

MEGABYTE = 1024 * 1024
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
AUTH = "Basic " + base64.b64encode(f"{AUTH_ID}:{AUTH_TOKEN}".encode()).decode()
ACCOUNT = f"/v1/Account/{AUTH_ID}/"
# Generous bounds on waits, so that a hung server fails the test instead of hanging the suite.
ANSWER_SECONDS = 15.0


@dataclass(frozen=True)
class CliSandbox:
    """A ``plivo-node sandbox`` subprocess listening on a free loopback port."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/"

    @property
    def account_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{ACCOUNT}"

    def resident_bytes(self) -> int:
        """The server process's resident memory (Linux)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        (kilobytes,) = re.findall(r"VmRSS:\s+(\d+) kB", status)
        return int(kilobytes) * 1024

    def stop(self) -> str:
        """SIGTERM, then its stderr (which must hold no traceback)."""
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=ANSWER_SECONDS)
        return err.decode("utf-8", "replace")


def start_cli_sandbox() -> CliSandbox:
    arguments = ["--port", "0", "--auth-id", AUTH_ID, "--auth-token", AUTH_TOKEN]
    process = subprocess.Popen(
        [sys.executable, "-m", "plivo_node.cli", "sandbox", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    for raw in process.stdout:
        line = raw.decode()
        if line.startswith("Plivo sandbox listening at"):
            port = int(re.findall(r":(\d+)/v1/", line)[0])
            return CliSandbox(process, port)
    process.kill()
    raise AssertionError(f"the sandbox did not start: {process.communicate()[1]!r}")


@pytest.fixture(scope="module")
def server() -> Iterator[CliSandbox]:
    """One sandbox for the module: every case also proves the earlier ones left it serving."""
    running = start_cli_sandbox()
    yield running
    err = running.stop()
    assert "Traceback" not in err, err
    assert running.process.returncode == 0, err


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    timeout = aiohttp.ClientTimeout(total=ANSWER_SECONDS)
    async with aiohttp.ClientSession(headers={"Authorization": AUTH}, timeout=timeout) as session:
        yield session


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    # Whether the server closed the connection after the answer (checked when asked for).
    closed: bool | None

    def json(self) -> dict[str, object]:
        parsed = json.loads(self.body)
        assert isinstance(parsed, dict)
        return parsed


async def raw_exchange(port: int, *chunks: bytes, check_closed: bool = False) -> RawAnswer:
    """Write ``chunks`` on a fresh connection and read the one answer (and the close, if asked)."""
    async with asyncio.timeout(ANSWER_SECONDS):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for chunk in chunks:
                writer.write(chunk)
                await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in filter(None, header_lines):
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            closed = await reader.read(1) == b"" if check_closed else None
            return RawAnswer(int(status_line.split()[1]), headers, body, closed)
        finally:
            writer.close()


def request_head(method: str, path: str, *headers: str, auth: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if auth:
        lines.append(f"Authorization: {AUTH}")
    return ("\r\n".join([*lines, *headers]) + "\r\n\r\n").encode("latin-1")


def assert_plivo_error(body: object, status_text: str | None = None) -> str:
    """``body`` is Plivo's error shape; returns its ``error``."""
    assert isinstance(body, dict), body
    assert set(body) == {"api_id", "error"}, body
    assert UUID.fullmatch(str(body["api_id"])), body
    error = body["error"]
    assert isinstance(error, str)
    assert len(error) <= 400, "an error text must stay short, whatever the client sent"
    if status_text is not None:
        assert status_text in error, error
    return error


async def assert_still_serving(http: aiohttp.ClientSession, server: CliSandbox) -> None:
    async with http.get(server.account_url) as response:
        assert response.status == 200
        assert (await response.json())["auth_id"] == AUTH_ID


# --- credentials before the body ----------------------------------------------------------------


async def test_an_unauthenticated_megabyte_body_is_refused_before_it_is_sent(
    server: CliSandbox,
) -> None:
    # Only the head goes out: a server that waited for the body would never answer.
    head = request_head(
        "POST",
        ACCOUNT + "Message/",
        "Content-Type: application/json",
        f"Content-Length: {MEGABYTE}",
        auth=False,
    )
    answer = await raw_exchange(server.port, head)
    assert answer.status == 401
    assert_plivo_error(answer.json(), "authentication failed")
    assert answer.headers.get("connection", "").lower() == "close"


async def test_expect_100_continue_is_granted_only_with_the_right_credentials(
    server: CliSandbox,
) -> None:
    body = json.dumps({"src": "14155550100", "dst": "14155550103", "text": "hi"}).encode()
    expect = ("Content-Type: application/json", f"Content-Length: {len(body)}")
    # A stranger gets the final answer at once, and is never asked for the body.
    head = request_head("POST", ACCOUNT + "Message/", *expect, "Expect: 100-continue", auth=False)
    answer = await raw_exchange(server.port, head)
    assert answer.status == 401
    assert_plivo_error(answer.json(), "authentication failed")
    # The account holder is asked for it, and the send goes through.
    async with asyncio.timeout(ANSWER_SECONDS):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(
                request_head("POST", ACCOUNT + "Message/", *expect, "Expect: 100-continue")
            )
            assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
            writer.write(body)
            assert (await reader.readuntil(b"\r\n")).startswith(b"HTTP/1.1 202")
        finally:
            writer.close()


async def test_unauthenticated_megabyte_bodies_do_not_pin_memory(
    http: aiohttp.ClientSession,
) -> None:
    # Before the fix, 150 such requests pinned 145 MB in the request log.
    fresh = start_cli_sandbox()
    try:
        before = fresh.resident_bytes()
        body = b"{" + b'"text": "' + b"x" * (MEGABYTE - 12) + b'"}'
        timeout = aiohttp.ClientTimeout(total=ANSWER_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as stranger:
            for _ in range(150):
                async with stranger.post(
                    fresh.account_url + "Message/",
                    data=body,
                    headers={"Content-Type": "application/json"},
                ) as response:
                    assert response.status == 401
                    assert_plivo_error(await response.json())
        grown = fresh.resident_bytes() - before
        assert grown < 40 * MEGABYTE, f"the sandbox grew by {grown / MEGABYTE:.0f} MB"
        await assert_still_serving(http, fresh)
    finally:
        err = fresh.stop()
    assert "Traceback" not in err


# --- regexes and sizes on client input ----------------------------------------------------------


async def test_a_40_kilobyte_url_is_refused_and_named(
    server: CliSandbox, http: aiohttp.ClientSession
) -> None:
    # Before the fix, the URL check backtracked quadratically: 40 kB froze the server for 10 s.
    hostile = "http://" + "a" * 40_000 + " "
    sends = [
        ("Message/", {"src": "14155550100", "dst": "14155550101", "text": "hi", "url": hostile}),
        (
            "Message/",
            {"src": "14155550100", "dst": "14155550101", "type": "mms", "media_urls": [hostile]},
        ),
        ("Call/", {"from": "14155550100", "to": "14155550101", "answer_url": hostile}),
        ("Application/", {"app_name": "hostile", "answer_url": hostile}),
    ]
    for path, payload in sends:
        async with http.post(server.account_url + path, json=payload) as response:
            assert response.status == 400, path
            error = assert_plivo_error(await response.json(), "is not an http(s) URL")
            assert "characters left out" in error
    # The same length without the trailing space is a valid URL, accepted as such.
    fine = {"src": "14155550100", "dst": "14155550102", "text": "hi", "url": hostile.strip()}
    async with http.post(server.account_url + "Message/", json=fine) as response:
        assert response.status == 202


async def test_json_nested_100000_deep_is_a_400(server: CliSandbox) -> None:
    for document in (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", b"[" * 100_000):
        head = request_head(
            "POST",
            ACCOUNT + "Message/",
            "Content-Type: application/json",
            f"Content-Length: {len(document)}",
        )
        answer = await raw_exchange(server.port, head + document)
        assert answer.status == 400
        assert_plivo_error(answer.json())
    # Shallower, but still past the bound: refused before anything is done with it.
    document = b'{"dst": ' + b"[" * 40 + b"]" * 40 + b"}"
    head = request_head(
        "POST",
        ACCOUNT + "Message/",
        "Content-Type: application/json",
        f"Content-Length: {len(document)}",
    )
    answer = await raw_exchange(server.port, head + document)
    assert answer.status == 400
    assert_plivo_error(answer.json(), "nests deeper than")


async def test_numbers_json_does_not_have_are_a_400(
    server: CliSandbox, http: aiohttp.ClientSession
) -> None:
    base = '{"src": "14155550100", "dst": "14155550101", "text": "hi", "trackable": %s}'
    for number in ("NaN", "Infinity", "-Infinity", "1e999", "9" * 5000):
        async with http.post(
            server.account_url + "Message/",
            data=base % number,
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 400, number
            assert_plivo_error(await response.json(), "not valid JSON")


async def test_query_strings_with_huge_values_are_answered_in_plivo_shape(
    server: CliSandbox, http: aiohttp.ClientSession
) -> None:
    # Within the request-line limit: an ordinary filter that matches nothing.
    async with http.get(server.account_url + "Message/", params={"message_state": "x" * 7000}) as r:
        assert r.status == 200
        assert (await r.json())["objects"] == []
    # Past it (8 kB): refused before any route, still in Plivo's shape.
    for query in ("message_state=" + "x" * 40_000, "a=1&" * 5_000):
        head = request_head("GET", f"{ACCOUNT}Message/?{query}")
        answer = await raw_exchange(server.port, head, check_closed=True)
        assert answer.status in {400, 414}
        assert_plivo_error(answer.json())
        assert answer.closed


# --- methods, paths, content types --------------------------------------------------------------


async def test_unknown_methods_are_405_with_allow_and_unknown_paths_404(
    server: CliSandbox, http: aiohttp.ClientSession
) -> None:
    for method, path in [
        ("PATCH", "Message/"),
        ("PUT", "Message/"),
        ("PUT", "Application/"),
        ("DELETE", "Message/"),
        ("PROPFIND", "Number/"),
        ("PATCH", ""),
    ]:
        async with http.request(method, server.account_url + path, json={"a": 1}) as response:
            assert response.status == 405, (method, path)
            assert_plivo_error(await response.json(), "method not allowed")
            assert "GET" in response.headers["Allow"] or "POST" in response.headers["Allow"]
    for path in ("Nothing/", "Message/a/b/c/d/", "Pricing/x/"):
        async with http.patch(server.account_url + path, json={}) as response:
            assert response.status == 404, path
            assert_plivo_error(await response.json(), "not found")


async def test_path_traversal_like_paths_are_404_or_401_never_a_file(
    server: CliSandbox, http: aiohttp.ClientSession
) -> None:
    paths = [
        f"{ACCOUNT}../../../../etc/passwd",
        f"{ACCOUNT}%2e%2e/%2e%2e/etc/passwd/",
        f"{ACCOUNT}Message/..%2f..%2f..%2fetc%2fpasswd/",
        "/v1/Account/..%2fMAOTHER0000000000000/Message/",
        f"/{'/' * 50}{ACCOUNT}",
        f"{ACCOUNT}Message/%00/",
        f"{ACCOUNT}Message/\u2025\u2025/",
    ]
    for path in paths:
        head = request_head("GET", path.encode("utf-8").decode("latin-1"))
        answer = await raw_exchange(server.port, head)
        assert answer.status in {301, 400, 401, 404}, (path, answer)
        assert b"root:" not in answer.body
        if answer.status != 301:
            assert_plivo_error(answer.json())
    await assert_still_serving(http, server)


async def test_bad_content_types_and_encodings_are_415(
    server: CliSandbox, http: aiohttp.ClientSession
) -> None:
    payload = json.dumps({"src": "14155550100", "dst": "14155550101", "text": "hi"}).encode()
    for headers, data in [
        ({"Content-Type": "text/plain"}, payload),
        ({"Content-Type": "application/xml"}, b"<dst>14155550101</dst>"),
        ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, gzip.compress(payload)),
    ]:
        async with http.post(server.account_url + "Message/", data=data, headers=headers) as r:
            assert r.status == 415, headers
            assert_plivo_error(await r.json())


async def test_invalid_utf8_bodies_are_400_naming_the_encoding(
    server: CliSandbox, http: aiohttp.ClientSession
) -> None:
    multipart = (
        b'--bound\r\nContent-Disposition: form-data; name="dst"\r\n\r\n\xff\xfe\r\n--bound--\r\n'
    )
    for headers, data in [
        ({"Content-Type": "application/json"}, b'{"dst": "\xff\xfe"}'),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"dst=\xff\xfe"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"dst=%ff%fe"),
    ]:
        async with http.post(server.account_url + "Message/", data=data, headers=headers) as r:
            assert r.status == 400, data
            assert_plivo_error(await r.json(), "UTF-8")
    headers = {"Content-Type": "multipart/form-data; boundary=bound"}
    async with http.post(server.account_url + "Media/", data=multipart, headers=headers) as r:
        assert r.status == 400
        assert_plivo_error(await r.json(), "UTF-8")


async def test_a_form_with_thousands_of_keys_is_400(
    server: CliSandbox, http: aiohttp.ClientSession
) -> None:
    form = "&".join(f"k{index}=v" for index in range(5_000))
    document = json.dumps({f"k{index}": "v" for index in range(5_000)})
    for content_type, data in [
        ("application/x-www-form-urlencoded", form),
        ("application/json", document),
    ]:
        async with http.post(
            server.account_url + "Message/", data=data, headers={"Content-Type": content_type}
        ) as r:
            assert r.status == 400, content_type
            assert_plivo_error(await r.json(), "more than 256 fields")


# --- sizes and framing --------------------------------------------------------------------------


async def test_an_oversized_body_is_413_before_it_is_sent(server: CliSandbox) -> None:
    head = request_head(
        "POST",
        ACCOUNT + "Message/",
        "Content-Type: application/json",
        f"Content-Length: {2 * MEGABYTE}",
    )
    answer = await raw_exchange(server.port, head)
    assert answer.status == 413
    assert_plivo_error(answer.json(), "larger than")
    assert answer.headers.get("connection", "").lower() == "close"


async def test_an_oversized_chunked_body_is_413_once_it_passes_the_bound(
    server: CliSandbox, http: aiohttp.ClientSession
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(20):  # 1.25 MB, with no Content-Length to check up front
            yield b"x" * 64 * 1024

    async with http.post(
        server.account_url + "Message/", data=chunks(), headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 413
        assert_plivo_error(await response.json(), "larger than")


@pytest.mark.parametrize(
    "content_length",
    ["99999999999999999999999999", "-1", "abc", "1, 2", "0x10"],
)
async def test_absurd_content_lengths_are_400_in_plivo_shape(
    server: CliSandbox, content_length: str
) -> None:
    head = request_head(
        "POST",
        ACCOUNT + "Message/",
        "Content-Type: application/json",
        f"Content-Length: {content_length}",
    )
    answer = await raw_exchange(server.port, head + b"{}")
    assert answer.status in {400, 413}, answer
    assert_plivo_error(answer.json())


async def test_header_floods_are_refused_in_plivo_shape(
    server: CliSandbox, http: aiohttp.ClientSession
) -> None:
    many = [f"X-Flood-{index}: {index}" for index in range(500)]
    huge = [f"X-Huge: {'h' * 100_000}"]
    for headers in (many, huge):
        head = request_head("GET", ACCOUNT, *headers)
        answer = await raw_exchange(server.port, head, check_closed=True)
        assert answer.status in {400, 431}
        assert_plivo_error(answer.json())
        assert answer.closed
    await assert_still_serving(http, server)


@pytest.mark.slow
async def test_slowloris_connections_do_not_starve_other_clients(
    server: CliSandbox, http: aiohttp.ClientSession
) -> None:
    writers = []
    try:
        for _ in range(50):
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"POST " + ACCOUNT.encode() + b"Message/ HTTP/1.1\r\nHost: x\r\n")
            writers.append(writer)
        for round_ in range(3):  # a header line now and then, never the end of the head
            for writer in writers:
                writer.write(f"X-Slow-{round_}: 1\r\n".encode())
            await asyncio.sleep(0.2)
            await assert_still_serving(http, server)
    finally:
        for writer in writers:
            writer.close()


async def test_non_numeric_and_negative_paging_is_400_naming_the_parameter(
    server: CliSandbox, http: aiohttp.ClientSession
) -> None:
    for query, named in [
        ({"limit": "abc"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1e3"}, "limit"),
        ({"limit": "9" * 5000}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "ten"}, "offset"),
        ({"offset": "1.5"}, "offset"),
    ]:
        async with http.get(server.account_url + "Message/", params=query) as response:
            assert response.status == 400, query
            assert_plivo_error(await response.json(), named)


# --- and it still sends, exactly once -----------------------------------------------------------

PIPELINE = SMS_PIPELINE


async def test_after_every_attack_a_run_through_it_sends_each_message_once(
    server: CliSandbox, http: aiohttp.ClientSession, adversary: Adversary
) -> None:
    phones = [f"+1415555{index:04d}" for index in range(7100, 7140)]
    rows = "".join(f"N{index},{phone}\n" for index, phone in enumerate(phones))
    adversary.write("contacts.csv", "name,phone\n" + rows)
    pipeline = adversary.write("p.yaml", PIPELINE)
    before = await message_count(http, server)
    run = await adversary.run(
        "run", str(pipeline), "--no-progress", env=adversary.env(PLIVO_API_URL=server.url)
    )
    assert run.code == 0, run
    adversary.assert_clean(run)
    assert await message_count(http, server) - before == len(phones)
    out = [json.loads(line) for line in (adversary.root / "out.jsonl").read_text().splitlines()]
    uuids = [uuid for item in out for uuid in item["json"]["message_uuid"]]
    assert len(uuids) == len(set(uuids)) == len(phones)
    for uuid in uuids:
        async with http.get(f"{server.account_url}Message/{uuid}/") as response:
            assert response.status == 200


async def message_count(http: aiohttp.ClientSession, server: CliSandbox) -> int:
    async with http.get(server.account_url + "Message/", params={"limit": "1"}) as response:
        assert response.status == 200
        return int((await response.json())["meta"]["total_count"])
