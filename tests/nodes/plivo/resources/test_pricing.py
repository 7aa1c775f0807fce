"""pricing.get: country ISO checked and upper-cased before the request."""

from __future__ import annotations

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.plivo.resources import pricing

PRICING = {"api_id": "25b3d816", "country": "United States", "country_iso": "US", "message": {}}


async def test_country_iso_is_upper_cased_into_the_query(plivo, run) -> None:
    plivo.reply("GET", "Pricing/", PRICING)
    output = await run(pricing.get, {"country_iso": " us "})
    [request] = plivo.requests
    assert (request.method, request.path, request.query) == (
        "GET",
        "Pricing/",
        {"country_iso": "US"},
    )
    assert output == [PRICING]


@pytest.mark.parametrize("bad", ["USA", "U", "", "1A", "Ü S"])
async def test_bad_country_iso_fails_before_any_request(plivo, run, bad: str) -> None:
    with pytest.raises(ParameterError) as caught:
        await run(pricing.get, {"country_iso": bad})
    assert caught.value.parameter == "country_iso"
    assert plivo.requests == []
