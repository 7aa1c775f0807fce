"""Media/: multipart upload (one ``file`` part per file, ≤ 10 files, ≤ 2 MB each), get, list.

Only each file's name, type and size are kept: nothing is ever served back.
"""

from __future__ import annotations

import time
import uuid

from aiohttp import web

from plivo_sandbox.state import JsonDict
from plivo_sandbox.wire import (
    RejectedError,
    files,
    format_time,
    paged,
    respond,
    state_of,
    stored,
)

MEDIA_HOST = "https://media.plivo.com"


def add_routes(router: web.UrlDispatcher, base: str) -> None:
    router.add_post(base + "Media/", upload_media)
    router.add_get(base + "Media/", list_media)
    router.add_get(base + "Media/{media_id}/", get_media)


async def upload_media(request: web.Request) -> web.StreamResponse:
    uploads = files(request)
    if not uploads:
        raise RejectedError(400, "no file to upload: send multipart/form-data with 'file' parts")
    state = state_of(request)
    upload_time = _upload_time()
    objects: list[JsonDict] = []
    for upload in uploads:
        media_id = str(uuid.uuid4())
        media = {
            "content_type": upload.content_type,
            "file_name": upload.file_name,
            "media_id": media_id,
            "size": upload.size,
            "upload_time": upload_time,
            "media_url": f"{MEDIA_HOST}/Account/{state.auth_id}/Media/{media_id}",
        }
        state.media[media_id] = media
        objects.append({**media, "status": "success", "status_code": 201})
    return respond({"objects": objects}, 202)


def _upload_time() -> str:
    # Media times are ISO 8601 in UTC with a "Z", unlike message times.
    return format_time(time.time(), micro=True).replace(" ", "T").replace("+00:00", "Z")


async def get_media(request: web.Request) -> web.StreamResponse:
    media = stored(state_of(request).media, request.match_info["media_id"])
    return respond(media)


async def list_media(request: web.Request) -> web.StreamResponse:
    return paged(request, list(reversed(state_of(request).media.values())), "Media/")
