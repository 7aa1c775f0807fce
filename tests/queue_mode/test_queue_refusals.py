"""What a queued run refuses before it reaches Redis (exit 2, nothing queued or sent)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis as redis_lib

from plivo_node.cli import main
from tests.queue_mode.conftest import RedisServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "send_sms.yaml"


def test_a_send_window_is_refused_with_queue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Held items wait for a later pass of one process; chunks on workers make none."""
    pipeline = tmp_path / "windowed.yaml"
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "\nsteps:\n" in text
    pipeline.write_text(
        text.replace(
            "\nsteps:\n", '\nsettings:\n  sendWindow: {from: "09:00", to: "20:00"}\nsteps:\n'
        ),
        encoding="utf-8",
    )
    contacts = EXAMPLE.parent / "contacts.csv"
    # Port 1 on loopback: nothing listens, so reaching Redis would be a different error.
    code = main(
        ["run", str(pipeline), "--input", str(contacts), "--queue", "redis://127.0.0.1:1/0"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "sendWindow" in err
    assert "Traceback" not in err


def test_binary_data_over_the_bound_is_refused_naming_the_item(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    redis_server: RedisServer,
) -> None:
    """Binary data travels through Redis in the chunks: beyond the bound, exit 2 before
    anything is queued, naming the item and what to do instead."""
    import base64  # noqa: PLC0415
    import json  # noqa: PLC0415

    from plivo_node.queue import submit  # noqa: PLC0415

    monkeypatch.setattr(submit, "MAX_ITEM_BINARY", 4000)
    photo = {"mimeType": "image/jpeg", "fileName": "p.jpg"}
    items = [
        {"json": {"to": "+14155550101"}, "binary": {"p": {**photo, "data": "QUJD"}}},
        {"json": {"to": "+14155550102"}, "binary": {"p": {**photo, "data": "QUJD" * 1001}}},
    ]
    assert base64.b64decode(items[1]["binary"]["p"]["data"])  # type: ignore[index]
    (tmp_path / "items.json").write_text(json.dumps(items))
    monkeypatch.setenv("PLIVO_NODE_STATE_DIR", str(tmp_path / "state"))
    code = main(
        [
            "run",
            str(EXAMPLE),
            "--input",
            str(tmp_path / "items.json"),
            "--output",
            str(tmp_path / "out.jsonl"),
            "--queue",
            redis_server.url,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert "input item 1 carries 4,004 bytes of binary data" in err
    assert "reference the media by URL" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out.jsonl").exists() or not (tmp_path / "out.jsonl").read_text()
    client = redis_lib.Redis(port=redis_server.port)
    try:
        assert client.zcard("plivo-node:queue") == 0  # nothing queued
        assert client.scard("plivo-node:runs") == 0
    finally:
        client.close()
