"""``--dry-run``: every item is resolved, validated and built into its request, nothing is sent.

:class:`DryRunClient` stands between the handlers and the real client. Reads (GET) go through,
so lookups and pricing still work; every write (sends, creates, updates, deletes, uploads) is
answered locally with the shape Plivo would give, so each handler runs to its output item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from plivo_node.context import ApiClient, ApiResponse, HttpMethod, UploadFile

DRY_RUN_ID = "dry-run"
_NOTE = "dry run: not sent"


def _destinations(raw: object) -> list[str]:
    """The unique destinations of a `<`-joined bulk string, in order (as Plivo dedupes them)."""
    return list(dict.fromkeys(part for part in str(raw or "").split("<") if part))


class DryRunClient:
    """An :class:`ApiClient` that performs reads and answers writes without sending them."""

    def __init__(self, inner: ApiClient) -> None:
        self._inner = inner
        self.writes = 0

    @property
    def auth_id(self) -> str:
        return self._inner.auth_id

    async def request(
        self,
        method: HttpMethod,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Sequence[UploadFile] | None = None,
    ) -> ApiResponse:
        if method == "GET":
            return await self._inner.request(method, path, query=query, body=body, files=files)
        self.writes += 1
        return _simulated(method, path, body or {}, files or ())


def _simulated(
    method: HttpMethod, path: str, body: Mapping[str, Any], files: Sequence[UploadFile]
) -> ApiResponse:
    if method == "DELETE":
        return ApiResponse(204, None)
    if path == "Message/":
        uuids = [f"{DRY_RUN_ID}-{n}" for n, _ in enumerate(_destinations(body.get("dst")), 1)]
        return ApiResponse(
            202,
            {
                "api_id": DRY_RUN_ID,
                "message": f"message(s) queued ({_NOTE})",
                "message_uuid": uuids,
            },
        )
    if path == "Call/":
        targets = _destinations(body.get("to"))
        request_uuid: str | list[str] = (
            DRY_RUN_ID
            if len(targets) <= 1
            else [f"{DRY_RUN_ID}-{n}" for n in range(1, len(targets) + 1)]
        )
        return ApiResponse(
            201,
            {
                "api_id": DRY_RUN_ID,
                "message": f"call fired ({_NOTE})",
                "request_uuid": request_uuid,
            },
        )
    if path == "Media/":
        objects = [
            {
                "media_id": f"{DRY_RUN_ID}-media-{n}",
                "file_name": f.file_name,
                "content_type": f.content_type,
                "size": len(f.data),
                "status": "success",
                "status_code": 201,
            }
            for n, f in enumerate(files, 1)
        ]
        return ApiResponse(201, {"api_id": DRY_RUN_ID, "objects": objects})
    if path.count("/") >= 2:  # Resource/{id}/: an update
        return ApiResponse(202, {"api_id": DRY_RUN_ID, "message": f"changed ({_NOTE})"})
    created: dict[str, Any] = {"api_id": DRY_RUN_ID, "message": f"created ({_NOTE})"}
    if path == "Application/":
        created["app_id"] = DRY_RUN_ID
    elif path == "Endpoint/":
        created.update(
            endpoint_id=DRY_RUN_ID, username=body.get("username"), alias=body.get("alias")
        )
    return ApiResponse(201, created)
