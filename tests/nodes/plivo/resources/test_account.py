"""account.get: the account itself, and with subaccount=true every subaccount, tokens stripped."""

from __future__ import annotations

from plivo_node.nodes.plivo.resources import account

API_ID = "97ceeb52-58b6-11e1-86da-77300b68f8bb"
ACCOUNT = {
    "api_id": API_ID,
    "account_type": "standard",
    "auth_id": "MAXXXXXXXXXXXXXXXXXX",
    "name": "Jane Doe",
    "cash_credits": "4.88860",
    "resource_uri": "/v1/Account/MAXXXXXXXXXXXXXXXXXX/",
}


def subaccount(n: int) -> dict[str, object]:
    return {
        "auth_id": f"SA{n:018d}",
        "auth_token": f"secret-token-{n}",
        "new_auth_token": f"new-secret-{n}",
        "name": f"team-{n}",
        "enabled": True,
    }


async def test_gets_the_account_base_itself(plivo, run) -> None:
    plivo.reply("GET", "", ACCOUNT)
    output = await run(account.get, {"subaccount": False})
    assert [(r.method, r.path, r.query) for r in plivo.requests] == [("GET", "", {})]
    assert output == [ACCOUNT]


async def test_subaccounts_are_read_across_every_page_without_tokens(plivo, run) -> None:
    plivo.reply("GET", "", ACCOUNT)
    plivo.paged("Subaccount/", [subaccount(n) for n in range(45)])
    [output] = await run(account.get, {"subaccount": True})
    pages = [(r.path, r.query) for r in plivo.requests[1:]]
    assert pages == [
        ("Subaccount/", {"limit": "20", "offset": "0"}),
        ("Subaccount/", {"limit": "20", "offset": "20"}),
        ("Subaccount/", {"limit": "20", "offset": "40"}),
    ]
    assert [sub["name"] for sub in output["subaccounts"]] == [f"team-{n}" for n in range(45)]
    assert all(
        "auth_token" not in sub and "new_auth_token" not in sub for sub in output["subaccounts"]
    )
    assert "secret" not in repr(output)


async def test_an_exact_multiple_of_the_page_size_ends_on_an_empty_page(plivo, run) -> None:
    plivo.reply("GET", "", ACCOUNT)
    plivo.paged("Subaccount/", [subaccount(n) for n in range(20)])
    [output] = await run(account.get, {"subaccount": True})
    assert [r.query["offset"] for r in plivo.requests[1:]] == ["0", "20"]
    assert len(output["subaccounts"]) == 20
