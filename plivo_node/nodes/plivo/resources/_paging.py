"""getAll's paging: Plivo lists 20 objects per page at most, walked by ``limit``/``offset``.

With ``returnAll`` every page is read until a short or empty one (as Plivo's own SDK does),
or one whose ``meta.next`` is null, or one that brings nothing new, within a page cap;
otherwise at most ``limit`` objects are read, the last page asking only for what is still
needed. Offsets count objects, not pages (PLIVO_API.md §3).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from plivo_node.core.api import ApiClient
from plivo_node.core.errors import ItemError
from plivo_node.core.items import JsonObject
from plivo_node.core.node import OperationContext
from plivo_node.nodes.plivo.validation.fields import check_bool, check_int

PAGE_SIZE = 20
# 10,000 pages are 200,000 objects: more applications, endpoints or numbers than an account has.
MAX_PAGES = 10_000


def requested_limit(params: Mapping[str, Any]) -> int | None:
    """How many objects to return: ``None`` for all (returnAll), else ``limit`` (≥ 1)."""
    if check_bool(params.get("returnAll", False), parameter="returnAll", label="Return All"):
        return None
    return check_int(params.get("limit", PAGE_SIZE), parameter="limit", label="Limit", minimum=1)


def page_objects(body: Mapping[str, Any] | None) -> list[JsonObject]:
    """The ``objects`` of a paged answer, each as a fresh dict."""
    objects = (body or {}).get("objects")
    if not isinstance(objects, list):
        return []
    return [dict(obj) for obj in objects if isinstance(obj, Mapping)]


class PagingError(ItemError):
    """A list never ends: more pages than any real account holds."""

    code = "paging_limit"


def _identity(obj: JsonObject) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def _has_no_next_page(body: Mapping[str, Any] | None) -> bool:
    """Plivo's ``meta.next`` is null on the last page (only an explicit null counts)."""
    meta = (body or {}).get("meta")
    return isinstance(meta, Mapping) and "next" in meta and meta["next"] is None


async def fetch_pages(
    client: ApiClient,
    path: str,
    *,
    limit: int | None,
    query: Mapping[str, Any] | None = None,
) -> list[JsonObject]:
    """Up to ``limit`` objects (all with ``None``) of a paged list, in Plivo's order.

    Paging stops at a short page, at ``meta.next: null`` and at a page with no object not seen
    before (a server that ignores ``offset`` answers the first page again and again); more than
    ``MAX_PAGES`` pages is an error rather than an endless loop.
    """
    objects: list[JsonObject] = []
    seen: set[str] = set()
    offset = 0
    pages = 0
    while limit is None or len(objects) < limit:
        if pages == MAX_PAGES:
            raise PagingError(
                f"{path} still had more objects after {MAX_PAGES:,} pages "
                f"({len(objects):,} objects); stopped rather than page on forever",
                hint="set Limit instead of Return All, or check that the API honours offset",
            )
        pages += 1
        wanted = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - len(objects))
        page_query = {**(query or {}), "limit": wanted, "offset": offset}
        response = await client.request("GET", path, query=page_query)
        page = page_objects(response.body)[:wanted]
        new = 0
        for obj in page:
            key = _identity(obj)
            if key not in seen:
                seen.add(key)
                objects.append(obj)
                new += 1
        if len(page) < wanted or not new or _has_no_next_page(response.body):
            break
        offset += wanted
    return objects


async def list_all(
    ctx: OperationContext, path: str, *, query: Mapping[str, Any] | None = None
) -> list[JsonObject]:
    """A getAll operation's output: one object per item, honouring returnAll and limit."""
    return await fetch_pages(ctx.client, path, limit=requested_limit(ctx.params), query=query)
