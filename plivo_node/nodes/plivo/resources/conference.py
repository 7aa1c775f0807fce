"""conference.getAll: GET Conference/, then each live conference's details (PLIVO_API.md §13).

Plivo lists live conferences as a bare array of names (no paging envelope), so the node asks
for each one's details, up to Limit. A conference that ends between the list and the lookup
answers 404; it is skipped, as it is no longer live.
"""

from __future__ import annotations

from urllib.parse import quote

from plivo_node.core.errors import NotFoundError
from plivo_node.core.items import JsonObject
from plivo_node.core.node import OperationContext
from plivo_node.nodes.plivo.resources._common import body_of, without_keys
from plivo_node.nodes.plivo.resources._paging import requested_limit

CONFERENCE_PATH = "Conference/"


def conference_path(name: str) -> str:
    # Names may hold spaces and slashes: quote everything so the name stays one path segment.
    return f"{CONFERENCE_PATH}{quote(name, safe='')}/"


async def get_all(ctx: OperationContext) -> list[JsonObject]:
    limit = requested_limit(ctx.params)
    response = await ctx.client.request("GET", CONFERENCE_PATH)
    names = body_of(response).get("conferences")
    conferences: list[JsonObject] = []
    for name in names if isinstance(names, list) else []:
        if limit is not None and len(conferences) >= limit:
            break
        try:
            details = await ctx.client.request("GET", conference_path(str(name)))
        except NotFoundError:
            continue
        conferences.append(without_keys(body_of(details), ("api_id",)))
    return conferences
