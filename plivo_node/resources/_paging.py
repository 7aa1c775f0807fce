"""getAll's paging: Plivo lists 20 objects per page at most, walked by ``limit``/``offset``.

With ``returnAll`` every page is read until a short or empty one (as Plivo's own SDK does);
otherwise at most ``limit`` objects are read, the last page asking only for what is still
needed. Offsets count objects, not pages (PLIVO_API.md §3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plivo_node.context import ApiClient, JsonObject, OperationContext
from plivo_node.validation.fields import check_bool, check_int

PAGE_SIZE = 20


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


async def fetch_pages(
    client: ApiClient,
    path: str,
    *,
    limit: int | None,
    query: Mapping[str, Any] | None = None,
) -> list[JsonObject]:
    """Up to ``limit`` objects (all with ``None``) of a paged list, in Plivo's order."""
    objects: list[JsonObject] = []
    offset = 0
    while limit is None or len(objects) < limit:
        wanted = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - len(objects))
        page_query = {**(query or {}), "limit": wanted, "offset": offset}
        response = await client.request("GET", path, query=page_query)
        page = page_objects(response.body)
        objects.extend(page[:wanted])
        if len(page) < wanted:
            break
        offset += wanted
    return objects


async def list_all(
    ctx: OperationContext, path: str, *, query: Mapping[str, Any] | None = None
) -> list[JsonObject]:
    """A getAll operation's output: one object per item, honouring returnAll and limit."""
    return await fetch_pages(ctx.client, path, limit=requested_limit(ctx.params), query=query)
