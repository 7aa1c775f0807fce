"""conference.getAll: the name list, then each conference's details, up to Limit."""

from __future__ import annotations

from plivo_node.nodes.plivo.resources import conference

API_ID = "97ceeb52-58b6-11e1-86da-77300b68f8bb"


def details(name: str) -> dict[str, object]:
    return {
        "api_id": API_ID,
        "conference_name": name,
        "conference_run_time": "590",
        "conference_member_count": "1",
        "members": [{"member_id": "17", "muted": False}],
    }


def serve(plivo, names: list[str], *, ended: tuple[str, ...] = ()) -> None:
    plivo.reply("GET", "Conference/", {"api_id": API_ID, "conferences": names})
    for name in names:
        if name in ended:
            plivo.reply(
                "GET", f"Conference/{name}/", {"api_id": API_ID, "error": "not found"}, status=404
            )
        else:
            plivo.reply("GET", f"Conference/{name}/", details(name))


async def test_one_item_per_conference_with_quoted_names(plivo, run) -> None:
    serve(plivo, ["My Conf Room", "a/b"])
    output = await run(conference.get_all, {"returnAll": True})
    assert [r.raw_path for r in plivo.requests] == [
        "Conference/",
        "Conference/My%20Conf%20Room/",
        "Conference/a%2Fb/",
    ]
    assert [item["conference_name"] for item in output] == ["My Conf Room", "a/b"]
    assert output[0]["members"] == [{"member_id": "17", "muted": False}]
    assert all("api_id" not in item for item in output)


async def test_limit_stops_the_detail_lookups(plivo, run) -> None:
    serve(plivo, ["one", "two", "three"])
    output = await run(conference.get_all, {"returnAll": False, "limit": 2})
    assert [item["conference_name"] for item in output] == ["one", "two"]
    assert len(plivo.requests) == 3


async def test_a_conference_that_ended_meanwhile_is_skipped(plivo, run) -> None:
    serve(plivo, ["one", "gone", "three"], ended=("gone",))
    output = await run(conference.get_all, {"returnAll": False, "limit": 2})
    assert [item["conference_name"] for item in output] == ["one", "three"]


async def test_no_live_conferences(plivo, run) -> None:
    serve(plivo, [])
    assert await run(conference.get_all, {"returnAll": True}) == []
