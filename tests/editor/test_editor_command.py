"""``plivo-node editor``: listed in the help, and its help imports nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.cli.test_lazy_imports import HEAVY, PROBE


def test_the_editor_command_is_listed_and_its_help_is_light() -> None:
    for arguments in (["--help"], ["editor", "--help"]):
        completed = subprocess.run(
            [sys.executable, "-c", PROBE, json.dumps(HEAVY), *arguments],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        result = json.loads(completed.stdout.splitlines()[-1])
        assert result == {"code": 0, "imported": []}
        assert "editor" in completed.stdout
    assert "--no-browser" in completed.stdout
    assert "--port" in completed.stdout
