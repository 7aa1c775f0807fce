"""MMS media rules: URLs, formats, sizes and counts."""

from __future__ import annotations

import base64

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.core.items import BinaryData
from plivo_node.nodes.plivo.validation.media import (
    MAX_UPLOAD_BYTES,
    MediaPlan,
    check_media_count,
    check_media_plan,
    collect_uploads,
    parse_media_urls,
)


def entry(size: int, mime_type: str, file_name: str | None = None) -> BinaryData:
    return BinaryData(
        data=base64.b64encode(bytes(size)).decode(), mime_type=mime_type, file_name=file_name
    )


def test_media_urls_from_a_string_or_a_list() -> None:
    assert parse_media_urls(" https://e.com/a.jpg, ,http://e.com/b ") == [
        "https://e.com/a.jpg",
        "http://e.com/b",
    ]
    assert parse_media_urls(["https://e.com/a.jpg"]) == ["https://e.com/a.jpg"]
    assert parse_media_urls("") == []
    assert parse_media_urls(None) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://e.com/doc.PDF",
        "https://e.com/x.webp?size=2",
        "file:///a.jpg",
        "e.com/a.jpg",
        "https://e.com/my photo.jpg",
        "http://[abc/a.jpg",
    ],
)
def test_bad_media_urls(url: str) -> None:
    with pytest.raises(ParameterError) as caught:
        parse_media_urls(url)
    assert url in caught.value.message


@pytest.mark.parametrize(
    "url", ["https://e.com/image.php?id=3", "https://e.com/media/42", "https://e.com/a.3gp"]
)
def test_urls_whose_type_cannot_be_told_pass(url: str) -> None:
    assert parse_media_urls(url) == [url]


@pytest.mark.parametrize(
    ("mime_type", "file_name"),
    [
        ("image/jpeg", None),
        ("image/png", "x.png"),
        ("image/gif", "x"),
        ("video/mp4", "x.mp4"),
        ("video/3gpp", "x.3gp"),
        ("audio/mpeg", "x.mp3"),
        ("audio/aac", "x.aac"),
        ("application/octet-stream", "x.JPG"),
        ("IMAGE/JPEG; charset=binary", "x"),
    ],
)
def test_allowed_upload_formats(mime_type: str, file_name: str | None) -> None:
    [upload] = collect_uploads({"data": entry(5, mime_type, file_name)}, ["data"])
    assert upload.data == bytes(5)
    assert upload.file_name == (file_name or "data")
    assert upload.content_type == mime_type


@pytest.mark.parametrize(
    ("mime_type", "file_name"),
    [
        ("application/pdf", "x.pdf"),
        ("image/webp", "x.jpg"),  # a specific mime type wins over the name
        ("application/octet-stream", "x.exe"),
        ("application/octet-stream", None),
        ("audio/wav", "x.wav"),
    ],
)
def test_refused_upload_formats(mime_type: str, file_name: str | None) -> None:
    with pytest.raises(ParameterError, match="not a format MMS carries") as caught:
        collect_uploads({"data": entry(5, mime_type, file_name)}, ["data"])
    assert caught.value.hint is not None
    assert "JPEG, PNG, GIF, MP4, 3GP, MP3, AAC" in caught.value.hint


def test_upload_size_limit_is_inclusive() -> None:
    collect_uploads({"d": entry(MAX_UPLOAD_BYTES, "image/png")}, ["d"])
    with pytest.raises(ParameterError, match=r"at most 2\.00 MB"):
        collect_uploads({"d": entry(MAX_UPLOAD_BYTES + 1, "image/png")}, ["d"])


def test_binary_data_that_is_not_base64_is_a_parameter_error() -> None:
    broken = BinaryData(data="abc", mime_type="image/png", file_name="x.png")  # bad padding
    with pytest.raises(ParameterError, match="valid base64") as caught:
        collect_uploads(
            {"photo": broken}, ["photo"], parameter="additionalFields.binary_properties"
        )
    assert caught.value.parameter == "additionalFields.binary_properties"


def test_a_missing_binary_property_lists_the_available_ones() -> None:
    with pytest.raises(ParameterError) as caught:
        collect_uploads({"photo": entry(1, "image/png"), "clip": entry(1, "video/mp4")}, ["data"])
    assert caught.value.hint is not None
    assert "clip, photo" in caught.value.hint


def test_count_limit_is_ten_in_total() -> None:
    check_media_count(urls=5, media_ids=3, uploads=2)
    with pytest.raises(ParameterError, match="11 media given"):
        check_media_count(urls=5, media_ids=3, uploads=3)


def test_total_size_counts_the_text_too() -> None:
    [a, b] = collect_uploads(
        {"a": entry(MAX_UPLOAD_BYTES, "image/png"), "b": entry(MAX_UPLOAD_BYTES, "image/png")},
        ["a", "b"],
    )
    [c] = collect_uploads({"c": entry(1024 * 1024 - 1, "image/png")}, ["c"])
    check_media_plan(MediaPlan(uploads=[a, b, c]))  # one byte under 5 MB
    with pytest.raises(ParameterError, match=r"under 5\.00 MB"):
        check_media_plan(MediaPlan(uploads=[a, b, c]), text="x")
