"""Items: what flows between steps (n8n's ``INodeExecutionData``): json plus named binaries."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class BinaryData:
    """One named binary entry of an item, as n8n stores it (``data`` is base64)."""

    data: str
    mime_type: str
    file_name: str | None = None

    def content(self) -> bytes:
        return base64.b64decode(self.data, validate=False)

    def to_json(self) -> dict[str, Any]:
        """n8n's form of the entry (what :meth:`from_json` reads)."""
        entry: dict[str, Any] = {"data": self.data, "mimeType": self.mime_type}
        if self.file_name is not None:
            entry["fileName"] = self.file_name
        return entry

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> BinaryData:
        return cls(
            data=str(raw.get("data", "")),
            mime_type=str(raw.get("mimeType") or "application/octet-stream"),
            file_name=raw.get("fileName"),
        )


@dataclass(frozen=True)
class Item:
    """An input item: ``json`` plus optional named binary entries. Never mutated."""

    json: JsonObject
    binary: Mapping[str, BinaryData] = field(default_factory=dict)
