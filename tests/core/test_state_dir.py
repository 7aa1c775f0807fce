"""The state directory: where it is, and a clear error when it cannot be made."""

from __future__ import annotations

from pathlib import Path

import pytest

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.state_dir import STATE_DIR_VARIABLE, ensure_state_dir, state_dir_path


def test_the_variable_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(STATE_DIR_VARIABLE, str(tmp_path / "state"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir_path() == tmp_path / "state"


def test_xdg_state_home_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(STATE_DIR_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir_path() == tmp_path / "xdg" / "plivo-node"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_dir_path() == tmp_path / "home" / ".local" / "state" / "plivo-node"


def test_created_owner_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(STATE_DIR_VARIABLE, str(tmp_path / "a" / "state"))
    made = ensure_state_dir()
    assert made.is_dir()
    assert made.stat().st_mode & 0o777 == 0o700


def test_uncreatable_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(STATE_DIR_VARIABLE, str(blocker / "state"))
    with pytest.raises(ConfigurationError) as raised:
        ensure_state_dir()
    assert str(blocker / "state") in str(raised.value)
    assert STATE_DIR_VARIABLE in str(raised.value)
