"""Conference/ (live conferences): the list is a bare array of names, no paging envelope."""

from __future__ import annotations

from aiohttp import web

from plivo_sandbox.wire import deleted, not_found, respond, state_of, stored


def add_routes(router: web.UrlDispatcher, base: str) -> None:
    router.add_get(base + "Conference/", list_conferences)
    router.add_delete(base + "Conference/", hang_up_all)
    router.add_get(base + "Conference/{conference_name}/", get_conference)
    router.add_delete(base + "Conference/{conference_name}/", hang_up_conference)


async def list_conferences(request: web.Request) -> web.StreamResponse:
    return respond({"conferences": list(state_of(request).conferences)})


async def get_conference(request: web.Request) -> web.StreamResponse:
    # aiohttp hands over the name already URL-decoded ("My%20Conf%20Room" -> "My Conf Room").
    conference = stored(state_of(request).conferences, request.match_info["conference_name"])
    return respond(conference)


async def hang_up_conference(request: web.Request) -> web.StreamResponse:
    conferences = state_of(request).conferences
    if conferences.pop(request.match_info["conference_name"], None) is None:
        raise not_found()
    return deleted()


async def hang_up_all(request: web.Request) -> web.StreamResponse:
    state_of(request).conferences.clear()
    return deleted()
