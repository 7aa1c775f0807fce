"""The shared getAll paging: returnAll across pages, limits below, at and above a page."""

from __future__ import annotations

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.plivo.resources import _paging, endpoint
from tests.nodes.plivo.resources.conftest import CannedReply

OBJECTS = [{"endpoint_id": str(n)} for n in range(47)]


def pages(plivo) -> list[tuple[str, str]]:
    return [(r.query["limit"], r.query["offset"]) for r in plivo.requests]


async def test_return_all_reads_until_a_short_page(plivo, run) -> None:
    plivo.paged("Endpoint/", OBJECTS)
    output = await run(endpoint.get_all, {"returnAll": True, "limit": 5})
    assert pages(plivo) == [("20", "0"), ("20", "20"), ("20", "40")]
    assert output == OBJECTS


async def test_return_all_stops_at_an_empty_page(plivo, run) -> None:
    plivo.paged("Endpoint/", OBJECTS[:40])
    output = await run(endpoint.get_all, {"returnAll": True})
    assert pages(plivo) == [("20", "0"), ("20", "20"), ("20", "40")]
    assert len(output) == 40


@pytest.mark.parametrize(
    ("limit", "expected_pages", "count"),
    [
        (3, [("3", "0")], 3),
        (20, [("20", "0")], 20),
        (41, [("20", "0"), ("20", "20"), ("1", "40")], 41),
        (100, [("20", "0"), ("20", "20"), ("20", "40")], 47),
    ],
)
async def test_limit_reads_only_what_is_needed(
    plivo, run, limit: int, expected_pages: list[tuple[str, str]], count: int
) -> None:
    plivo.paged("Endpoint/", OBJECTS)
    output = await run(endpoint.get_all, {"returnAll": False, "limit": limit})
    assert pages(plivo) == expected_pages
    assert output == OBJECTS[:count]


async def test_a_server_returning_more_than_asked_is_cut_to_the_limit(plivo, run) -> None:
    plivo.reply("GET", "Endpoint/", {"objects": OBJECTS[:20]})
    output = await run(endpoint.get_all, {"returnAll": False, "limit": 2})
    assert output == OBJECTS[:2]


async def test_missing_objects_key_reads_as_an_empty_page(plivo, run) -> None:
    plivo.reply("GET", "Endpoint/", {"api_id": "x"})
    assert await run(endpoint.get_all, {"returnAll": True}) == []


@pytest.mark.parametrize("limit", [0, -1, 2.5, "many", True])
async def test_a_bad_limit_fails_before_any_request(plivo, run, limit: object) -> None:
    with pytest.raises(ParameterError) as caught:
        await run(endpoint.get_all, {"returnAll": False, "limit": limit})
    assert caught.value.parameter == "limit"
    assert plivo.requests == []


async def test_a_server_ignoring_offset_stops_at_the_first_page_with_nothing_new(
    plivo, run
) -> None:
    """Such a server answered the first page again and again: returnAll looped forever."""
    plivo.reply("GET", "Endpoint/", {"meta": {"next": "/next"}, "objects": OBJECTS[:20]})
    output = await run(endpoint.get_all, {"returnAll": True})
    assert pages(plivo) == [("20", "0"), ("20", "20")]
    assert output == OBJECTS[:20]


async def test_a_page_repeating_part_of_the_last_one_adds_only_the_new_objects(plivo, run) -> None:
    plivo.reply("GET", "Endpoint/", {"objects": OBJECTS[:20]})
    plivo.reply("GET", "Endpoint/", {"objects": OBJECTS[10:25]})
    output = await run(endpoint.get_all, {"returnAll": True})
    assert output == OBJECTS[:25]


async def test_meta_next_null_ends_the_list_even_after_a_full_page(plivo, run) -> None:
    def page(request) -> CannedReply:
        offset = int(request.query["offset"])
        meta = {"next": None if offset == 20 else "/more"}
        return CannedReply(200, {"meta": meta, "objects": OBJECTS[offset : offset + 20]})

    plivo.respond("GET", "Endpoint/", page)
    output = await run(endpoint.get_all, {"returnAll": True})
    assert pages(plivo) == [("20", "0"), ("20", "20")]
    assert output == OBJECTS[:40]


async def test_an_endless_list_is_an_error_at_the_page_cap(plivo, run, monkeypatch) -> None:
    monkeypatch.setattr(_paging, "MAX_PAGES", 3)

    def endless(request) -> CannedReply:
        offset = int(request.query["offset"])
        objects = [{"endpoint_id": str(offset + n)} for n in range(20)]
        return CannedReply(200, {"meta": {"next": "/more"}, "objects": objects})

    plivo.respond("GET", "Endpoint/", endless)
    with pytest.raises(_paging.PagingError) as caught:
        await run(endpoint.get_all, {"returnAll": True})
    assert "after 3 pages (60 objects)" in str(caught.value)
    assert len(plivo.requests) == 3
