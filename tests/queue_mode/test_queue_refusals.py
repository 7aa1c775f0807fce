"""What a queued run refuses before it reaches Redis (exit 2, nothing queued or sent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plivo_node.cli import main

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
