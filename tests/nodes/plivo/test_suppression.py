"""The suppression list: keyword rules, callbacks applied idempotently, the store itself."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from plivo_node.core.errors import ConfigurationError
from plivo_node.nodes.plivo.optout_keywords import Intent, intent_of, keyword_of
from plivo_node.nodes.plivo.suppression import (
    Source,
    apply_inbound,
    apply_status,
    database_path,
    opened,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", (Intent.OPT_OUT, "STOP")),
        ("stop", (Intent.OPT_OUT, "STOP")),
        ("Stop \n", (Intent.OPT_OUT, "STOP")),  # trailing spaces and newlines still count
        ("stop all", (Intent.OPT_OUT, "STOP ALL")),
        ("UNSUB", (Intent.OPT_OUT, "UNSUB")),
        ("Unsubscribe", (Intent.OPT_OUT, "UNSUBSCRIBE")),
        ("end", (Intent.OPT_OUT, "END")),
        ("quit\r\n", (Intent.OPT_OUT, "QUIT")),
        ("cancel", (Intent.OPT_OUT, "CANCEL")),
        ("start", (Intent.OPT_IN, "START")),
        ("Yes", (Intent.OPT_IN, "YES")),
        ("resume all", (Intent.OPT_IN, "RESUME ALL")),
        ("UNSTOP", (Intent.OPT_IN, "UNSTOP")),
        ("go", (Intent.OPT_IN, "GO")),
        ("Stop it!", None),  # a sentence is not a keyword
        ("STOP.", None),  # nor is a keyword with punctuation
        ("please stop", None),
        ("", None),
        ("STOPALL", None),
    ],
)
def test_keywords_follow_plivos_rules(text: str, expected: tuple[Intent, str] | None) -> None:
    assert keyword_of(text) == expected


def test_plivos_message_intent_wins_and_mms_body_is_read() -> None:
    assert intent_of({"Text": "Stop it!", "MessageIntent": "optout"}) == (
        Intent.OPT_OUT,
        "MessageIntent optout",
    )
    assert intent_of({"Text": "STOP", "MessageIntent": "optout"}) == (Intent.OPT_OUT, "STOP")
    assert intent_of({"Body": "start", "Type": "mms"}) == (Intent.OPT_IN, "START")
    assert intent_of({"Text": "hello", "MessageIntent": ""}) is None
    assert intent_of({"Text": "HELP", "MessageIntent": "help"}) is None


def test_stop_adds_the_sender_once_and_start_removes_it() -> None:
    stop = {"From": "14155550101", "To": "14155550100", "Text": "stop ", "MessageUUID": "u1"}
    first = apply_inbound(stop)
    assert (first.action, first.number, first.reason) == ("added", "14155550101", "keyword STOP")
    again = apply_inbound(stop)  # Plivo retried the callback
    assert again.action == "already"
    with opened() as suppression:
        entries = suppression.entries()
    assert [(e.number, e.source, e.reason, e.via) for e in entries] == [
        ("14155550101", "keyword", "keyword STOP", "14155550100")
    ]
    assert apply_inbound({**stop, "Text": "START"}).action == "removed"
    assert apply_inbound({**stop, "Text": "START"}).action == "absent"
    with opened() as suppression:
        assert suppression.entries() == []


def test_ordinary_messages_and_senders_that_are_not_numbers_change_nothing() -> None:
    assert apply_inbound({"From": "14155550101", "Text": "Stop it!"}).action == "none"
    assert apply_inbound({"From": "PLIVO", "Text": "STOP"}).action == "none"
    with opened() as suppression:
        assert suppression.entries() == []


def test_opt_out_error_code_adds_the_destination_other_codes_do_not() -> None:
    status = {
        "MessageUUID": "m1",
        "Status": "failed",
        "From": "14155550100",
        "To": "+1 415 555 0102",
    }
    assert apply_status({**status, "ErrorCode": "30"}).action == "none"
    assert apply_status({**status, "Status": "delivered"}).action == "none"
    added = apply_status({**status, "ErrorCode": "200"})
    assert (added.action, added.number) == ("added", "14155550102")
    assert apply_status({**status, "ErrorCode": 200}).action == "already"
    with opened() as suppression:
        entry = suppression.get("14155550102")
    assert entry is not None
    assert entry.source == Source.ERROR_CODE
    assert "error 200" in entry.describe()


def test_the_database_lives_in_the_state_dir_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLIVO_NODE_STATE_DIR", str(tmp_path / "state"))
    apply_status({"ErrorCode": "200", "To": "14155550102"})
    path = database_path()
    assert path.parent == tmp_path / "state"
    assert path.stat().st_mode & 0o777 == 0o600
    rows = sqlite3.connect(path).execute("SELECT number FROM suppression").fetchall()
    assert rows == [("14155550102",)]


def _open_at(path: str, start: Any) -> str:
    start.wait()
    try:
        for _ in range(100):  # as a worker does for chunk after chunk
            with opened(Path(path)) as listed:
                listed.numbers()
    except ConfigurationError as error:
        return str(error)
    return "ok"


def test_processes_opening_and_closing_one_list_at_once_all_open_it(tmp_path: Path) -> None:
    # Queue workers sharing a state directory open the list for every chunk: the first ones
    # race to create it and switch it to WAL, and the last one to close a connection
    # checkpoints it while others open theirs. None of this may refuse a worker.
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Barrier(6)
        path = str(tmp_path / "suppression.sqlite")
        with context.Pool(6) as pool:
            results = pool.starmap(_open_at, [(path, start)] * 6)
    assert results == ["ok"] * 6
