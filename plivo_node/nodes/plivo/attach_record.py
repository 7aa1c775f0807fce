"""What ``serve --attach`` changed on the account, written down before each change.

One JSON file in serve's state directory (``serve/attached.json``), one entry per attached
number: the account (Auth ID and API URL, never the token), the number, the application it
pointed at before (and its alias, for the record), the name of the application serve creates
for it and, once created, that application's id. An entry is written (and fsynced) before the
application is created, updated once its id is known, and removed only after the number is
restored and the application deleted. So a ``serve`` killed at any point leaves enough for
the next start to undo it: an application created but not yet recorded is found by its name.

Only one ``serve`` runs per state directory (the event queue's lock), so nothing else writes
this file meanwhile.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from plivo_node.core.errors import ConfigurationError

RECORD_FILE = "attached.json"


@dataclass(frozen=True)
class AttachEntry:
    auth_id: str
    api_url: str
    number: str
    app_name: str  # the application serve creates for the number
    previous_app_id: str | None  # None: the number had no application
    previous_alias: str | None
    created_app_id: str | None = None  # None until Plivo answered the create

    def created(self, app_id: str) -> AttachEntry:
        return replace(self, created_app_id=app_id)


class AttachRecord:
    """The file's entries; every change is on disk before the method returns."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / RECORD_FILE
        self._entries = self._read()

    def _read(self) -> list[AttachEntry]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [AttachEntry(**entry) for entry in raw["entries"]]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ConfigurationError(
                f"cannot read {self.path}, the record of numbers an earlier serve attached: {exc}",
                hint="restore those numbers' applications by hand (plivo-node run with "
                "number.update), then delete the file",
            ) from exc

    @property
    def entries(self) -> list[AttachEntry]:
        return list(self._entries)

    def put(self, entry: AttachEntry) -> None:
        """Add the entry, or replace the one for the same account and number."""
        kept = [e for e in self._entries if not _same(e, entry)]
        self._write([*kept, entry])

    def remove(self, entry: AttachEntry) -> None:
        self._write([e for e in self._entries if not _same(e, entry)])

    def _write(self, entries: list[AttachEntry]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not entries:
            self.path.unlink(missing_ok=True)
        else:
            text = json.dumps({"entries": [asdict(e) for e in entries]}, indent=2)
            temporary = self.path.with_suffix(".tmp")
            with temporary.open("w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename (or the unlink) itself survives a crash
        finally:
            os.close(directory)
        self._entries = entries


def _same(one: AttachEntry, other: AttachEntry) -> bool:
    return (one.auth_id, one.api_url, one.number) == (other.auth_id, other.api_url, other.number)
