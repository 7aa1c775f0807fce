"""Reading a user's configuration file (pipeline, workflow) as text, with errors that say how
to fix it: one place for the unreadable-file and not-UTF-8 messages."""

from __future__ import annotations

from pathlib import Path

from plivo_node.core.errors import ProblemListError


def read_text_file(path: Path, error: type[ProblemListError], *, encoding: str = "utf-8") -> str:
    """The file's text; ``error(source, [problem])`` when it cannot be read or is not UTF-8."""
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(source, [f"cannot read the file: {exc.strerror or exc}"]) from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(
            source, [f"line {line}: the file is not UTF-8 text ({exc.reason}); save it as UTF-8"]
        ) from None
