"""The sandbox's bounds: a request log that cannot grow without end, bodies read within limits,
credentials checked before the body, linear checks on client input, short error texts."""

from __future__ import annotations

import io
import json
import re

import aiohttp

from plivo_sandbox import Sandbox
from plivo_sandbox.body import MAX_DEPTH, MAX_FIELDS
from plivo_sandbox.request_log import (
    MAX_RECORDED_BODY_CHARS,
    MAX_RECORDED_FIELD_CHARS,
    RequestLog,
    recorded_body,
)
from plivo_sandbox.state import MAX_FAULT_LOG_ENTRIES, SandboxState
from plivo_sandbox.wire import MAX_ERROR_CHARS, bounded_text, is_http_url

from .conftest import Api

MEGABYTE = 1024 * 1024


# --- the request log ----------------------------------------------------------------------------


def test_the_log_keeps_the_newest_entries_and_counts_them_all() -> None:
    log = RequestLog(max_entries=3)
    for index in range(10):
        assert log.record("GET", f"/p{index}/", {}, None) == index
    assert [entry.path for entry in log] == ["/p7/", "/p8/", "/p9/"]
    assert (len(log), log.total, log.dropped) == (3, 10, 7)
    assert log[-1].path == "/p9/"
    assert [entry.path for entry in log[-2:]] == ["/p8/", "/p9/"]
    assert log.by_sequence(8) == log[1]
    assert log.by_sequence(2) is None


def test_the_log_drops_the_oldest_entries_past_its_size_budget() -> None:
    log = RequestLog(max_entries=1000, max_chars=100_000)
    for _ in range(50):
        log.record("POST", "/x/", {}, {"text": "y" * 20_000})
    assert 4 <= len(log) <= 5
    assert log.total == 50


def test_a_body_plivo_would_accept_is_recorded_whole() -> None:
    bulk = "<".join(f"1415555{index:04d}" for index in range(1000))
    body = {"src": "14155550100", "dst": bulk, "text": "€" * 737, "url": "https://e.com/s"}
    assert recorded_body(body) == (body, len(json.dumps(body, ensure_ascii=False)))


def test_an_oversized_body_is_cut_field_by_field_and_secrets_stay_masked() -> None:
    body = {
        "password": "hunter22",
        "text": "x" * MEGABYTE,
        "nested": [["y" * 5000]],
        **{f"k{index}": "z" * 900 for index in range(200)},
    }
    kept, size = recorded_body(body)
    assert kept is not None
    assert kept["password"] == "********"
    assert kept["text"].startswith("x" * MAX_RECORDED_FIELD_CHARS)
    assert kept["text"].endswith(f"[{MEGABYTE} characters in all]")
    assert kept["nested"].startswith("[a list of")
    assert kept["…"].endswith("more fields not recorded")
    assert len(json.dumps(kept, ensure_ascii=False)) < 2 * MAX_RECORDED_BODY_CHARS
    assert size <= MAX_RECORDED_BODY_CHARS + 2 * MAX_RECORDED_FIELD_CHARS


def test_the_fault_log_is_bounded_and_its_count_exact() -> None:
    state = SandboxState(auth_id="MASANDBOX00000000000")
    for index in range(MAX_FAULT_LOG_ENTRIES + 50):
        state.record_fault(index, "POST", "/v1/" + "p" * 1000, "500")
    assert len(state.fault_log) == MAX_FAULT_LOG_ENTRIES
    assert state.faults_injected == MAX_FAULT_LOG_ENTRIES + 50
    assert state.fault_log[0].request_index == 50
    assert len(state.fault_log[-1].path) == 256


async def test_destination_counts_stay_exact_when_the_log_overflows(
    api: Api, sandbox: Sandbox
) -> None:
    sandbox.state.request_log = RequestLog(max_entries=5)
    for index in range(30):
        reply = await api.post(
            "Message/", {"src": "14155550100", "dst": "14155550101", "text": "a"}
        )
        assert reply.status == 202, index
    assert sandbox.state.count_for("+14155550101") == 30
    assert len(sandbox.state.request_log) == 5
    assert sandbox.state.request_log.total == 30


# --- credentials before the body ----------------------------------------------------------------


async def test_an_unauthenticated_body_is_neither_read_nor_logged(sandbox: Sandbox) -> None:
    body = json.dumps({"text": "x" * MEGABYTE, "dst": "14155550101"}).encode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            sandbox.account_url + "Message/",
            data=io.BytesIO(body),
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 401
        assert set(await response.json()) == {"api_id", "error"}
    logged = sandbox.state.request_log[-1]
    assert (logged.method, logged.body) == ("POST", None)
    assert sandbox.state.count_for("+14155550101") == 0


async def test_a_body_for_a_route_that_does_not_exist_is_not_read(
    api: Api, sandbox: Sandbox
) -> None:
    for method, path in (("PUT", "Message/"), ("POST", "Nothing/")):
        reply = await api.call(method, path, json={"text": "never read"})
        assert reply.status in {404, 405}
        assert sandbox.state.request_log[-1].body is None


# --- bodies within bounds -----------------------------------------------------------------------


def in_lists(count: int) -> object:
    value: object = "leaf"
    for _ in range(count):
        value = [value]
    return value


async def test_json_may_nest_up_to_the_bound_and_no_deeper(api: Api) -> None:
    # The body object is level 1, so a value may sit in MAX_DEPTH - 1 lists.
    reply = await api.post("Message/", {"dst": in_lists(MAX_DEPTH - 1)})
    assert reply.status == 400
    assert "nests" not in reply.body["error"]  # refused by the route, not by the parser
    reply = await api.post("Message/", {"dst": in_lists(MAX_DEPTH)})
    assert reply.status == 400
    assert f"nests deeper than {MAX_DEPTH} levels" in reply.body["error"]


async def test_field_count_bound_is_exact(api: Api) -> None:
    many = {f"k{index}": "v" for index in range(MAX_FIELDS - 3)}
    reply = await api.post(
        "Message/", {"src": "14155550100", "dst": "14155550102", "text": "a", **many}
    )
    assert reply.status == 202
    reply = await api.post("Message/", {f"k{index}": "v" for index in range(MAX_FIELDS + 1)})
    assert reply.status == 400
    assert f"more than {MAX_FIELDS} fields" in reply.body["error"]


# --- linear checks and short error texts --------------------------------------------------------

_BACKTRACKING_URL = re.compile(r"https?://[^\s/]+\S*")


def test_the_url_check_accepts_exactly_what_the_old_pattern_did() -> None:
    samples = [
        "http://a",
        "https://example.com/x?y=1",
        "http:///path",
        "http://",
        "http://a b",
        "http://a/ ",
        "ftp://a",
        "https://a/b/c",
        "http://[::1]:80/",
        "http://a\t",
        "https:// a",
    ]
    for sample in samples:
        assert is_http_url(sample) == bool(_BACKTRACKING_URL.fullmatch(sample)), sample


def test_the_url_check_answers_hostile_inputs_correctly() -> None:
    # The backtracking pattern is quadratic (2 s at 20,000 characters, so ~13 s for the first
    # of these); the answer is what counts.
    assert not is_http_url("http://" + "a" * 50_000 + " ")
    assert not is_http_url("http://" + "a/" * 25_000 + " x")
    assert is_http_url("http://" + "a" * 50_000)


def test_long_error_texts_keep_their_head_and_tail() -> None:
    text = "url 'http://" + "a" * 40_000 + "' is not an http(s) URL"
    bounded = bounded_text(text)
    assert len(bounded) < MAX_ERROR_CHARS + 60
    assert bounded.startswith("url 'http://aaa")
    assert bounded.endswith("' is not an http(s) URL")
    assert "characters left out" in bounded
    assert bounded_text("short") == "short"
