"""Browser tests: ``plivo-node editor`` in a subprocess, driven in Debian's headless Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Editor:
    url: str
    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        """Everything the server wrote (stdout and stderr), once it has stopped."""
        return self.log.read_text(encoding="utf-8")


@pytest.fixture
def start_editor(tmp_path: Path) -> Iterator[Callable[..., Editor]]:
    started: list[Editor] = []

    def start(*args: str, cwd: Path | None = None) -> Editor:
        log = tmp_path / f"editor-{len(started)}.log"
        env = {**os.environ, "PLIVO_NODE_STATE_DIR": str(tmp_path / "state")}
        for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_URL"):
            env.pop(name, None)
        with log.open("w", encoding="utf-8") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "plivo_node.cli", "editor", *args, "--no-browser"],
                cwd=cwd or tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=sink,
                text=True,
            )
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("plivo-node editor: http://127.0.0.1:"), line + log.read_text()
        editor = Editor(line.split(": ", 1)[1].strip(), process, log)
        started.append(editor)
        return editor

    yield start
    for editor in started:
        editor.process.terminate()
        editor.process.wait(timeout=10)
        assert editor.process.stdout is not None
        with editor.log.open("a", encoding="utf-8") as sink:
            sink.write(editor.process.stdout.read())
        editor.process.stdout.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
