"""MMS media rules (PLIVO_API.md §7 and §8), checked before any request, upload included.

At most 10 media per message (URLs + media ids + uploads), each upload at most 2 MB, text
plus uploads under 5 MB, and only the formats MMS carries everywhere: JPEG, PNG, GIF, MP4,
3GP, MP3, AAC. A media URL's content is only known to Plivo, so a URL is refused only when its
path names a file type outside that list; an upload is judged by its mime type, or by its
file name when the mime type is the generic ``application/octet-stream``.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from plivo_node.core.api import UploadFile
from plivo_node.core.errors import ParameterError
from plivo_node.core.items import BinaryData
from plivo_node.nodes.plivo.validation.fields import http_url_parts, split_list

MAX_MEDIA = 10
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 5 * 1024 * 1024
ALLOWED_FORMATS = "JPEG, PNG, GIF, MP4, 3GP, MP3, AAC"

ALLOWED_MIME_TYPES = frozenset(
    {
        "image/jpeg",
        "image/jpg",
        "image/pjpeg",
        "image/png",
        "image/gif",
        "video/mp4",
        "video/3gpp",
        "audio/3gpp",
        "audio/mpeg",
        "audio/mp3",
        "audio/aac",
        "audio/x-aac",
        "audio/aacp",
    }
)
ALLOWED_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "gif", "mp4", "3gp", "3gpp", "mp3", "aac"})
# File types people try to send that MMS does not carry everywhere; a URL ending in one of
# these is refused. Other endings (".php", none at all) may still serve an image, so they pass.
REFUSED_EXTENSIONS = frozenset(
    {
        "pdf", "vcf", "vcard", "txt", "csv", "json", "xml", "html", "htm", "doc", "docx",
        "xls", "xlsx", "ppt", "pptx", "zip", "rar", "gz", "wav", "ogg", "oga", "flac",
        "amr", "m4a", "wma", "webp", "bmp", "tif", "tiff", "svg", "heic", "heif", "ico",
        "mov", "avi", "mkv", "webm", "wmv", "flv", "mpeg", "mpg", "3g2", "3gpp2",
    }
)  # fmt: skip
_GENERIC_MIME_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


@dataclass(frozen=True)
class MediaPlan:
    """Everything a message will carry: URLs, existing media ids, and files still to upload."""

    urls: list[str] = field(default_factory=list)
    media_ids: list[str] = field(default_factory=list)
    uploads: list[UploadFile] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.urls) + len(self.media_ids) + len(self.uploads)


def _extension(name: str) -> str:
    return PurePosixPath(name).suffix.lower().removeprefix(".")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.2f} MB"


def parse_media_urls(raw: object, *, parameter: str = "media_urls") -> list[str]:
    """Media URLs from a comma-separated string or a list; each an http(s) URL, type allowed."""
    urls = split_list(raw)
    for url in urls:
        parts = http_url_parts(url)
        if parts is None:
            raise ParameterError(
                f"media URL '{url}' is not an http(s) URL",
                hint="give full URLs like https://example.com/photo.jpg, separated by commas",
                parameter=parameter,
            )
        if _extension(parts.path) in REFUSED_EXTENSIONS:
            raise ParameterError(
                f"media URL '{url}' points to a .{_extension(parts.path)} file, "
                "a format MMS does not carry",
                hint=f"use one of these formats: {ALLOWED_FORMATS}",
                parameter=parameter,
            )
    return urls


def _is_allowed_format(entry: BinaryData) -> bool:
    mime_type = entry.mime_type.split(";", 1)[0].strip().lower()
    if mime_type in ALLOWED_MIME_TYPES:
        return True
    if mime_type in _GENERIC_MIME_TYPES and entry.file_name:
        return _extension(entry.file_name) in ALLOWED_EXTENSIONS
    return False


def collect_uploads(
    binary: Mapping[str, BinaryData], names: list[str], *, parameter: str = "binary_properties"
) -> list[UploadFile]:
    """The item's binary entries named in ``names`` as upload files, format and size checked."""
    uploads: list[UploadFile] = []
    for name in names:
        entry = binary.get(name)
        if entry is None:
            available = ", ".join(sorted(binary)) or "none"
            raise ParameterError(
                f"the item has no binary property '{name}'",
                hint=f"use one of the item's binary properties ({available})",
                parameter=parameter,
            )
        file_name = entry.file_name or name
        if not _is_allowed_format(entry):
            raise ParameterError(
                f"binary property '{name}' ({file_name}, {entry.mime_type}) "
                "is not a format MMS carries",
                hint=f"use one of these formats: {ALLOWED_FORMATS}",
                parameter=parameter,
            )
        try:
            content = entry.content()
        except binascii.Error:  # e.g. truncated base64 in the input file
            raise ParameterError(
                f"binary property '{name}' ({file_name}) does not hold valid base64 data",
                hint="check that the item's binary 'data' is the file's complete base64 text",
                parameter=parameter,
            ) from None
        if len(content) > MAX_UPLOAD_BYTES:
            raise ParameterError(
                f"binary property '{name}' ({file_name}) is {_megabytes(len(content))}; "
                f"Plivo accepts at most {_megabytes(MAX_UPLOAD_BYTES)} per file",
                hint="compress or resize the file",
                parameter=parameter,
            )
        uploads.append(UploadFile(file_name=file_name, content_type=entry.mime_type, data=content))
    return uploads


def check_media_count(
    *, urls: int, media_ids: int, uploads: int, parameter: str = "media_urls"
) -> None:
    """At most 10 media per message, counting URLs, media ids and uploads together."""
    total = urls + media_ids + uploads
    if total > MAX_MEDIA:
        raise ParameterError(
            f"{total} media given ({urls} URLs, {media_ids} media ids, {uploads} uploads); "
            f"an MMS carries at most {MAX_MEDIA}",
            hint=f"send at most {MAX_MEDIA} media per message",
            parameter=parameter,
        )


def check_media_plan(
    plan: MediaPlan,
    *,
    text: str = "",
    count_parameter: str = "media_urls",
    size_parameter: str = "binary_properties",
) -> MediaPlan:
    """Check the totals: at most 10 media, text plus uploads under 5 MB."""
    check_media_count(
        urls=len(plan.urls),
        media_ids=len(plan.media_ids),
        uploads=len(plan.uploads),
        parameter=count_parameter,
    )
    total = len(text.encode("utf-8")) + sum(len(upload.data) for upload in plan.uploads)
    if total >= MAX_TOTAL_BYTES:
        raise ParameterError(
            f"text and uploaded media add up to {_megabytes(total)}; an MMS must stay under "
            f"{_megabytes(MAX_TOTAL_BYTES)}",
            hint="send fewer or smaller files",
            parameter=size_parameter,
        )
    return plan
