"""account.get: GET the account base itself; optionally every subaccount (PLIVO_API.md §11)."""

from __future__ import annotations

from plivo_node.core.items import JsonObject
from plivo_node.core.node import OperationContext
from plivo_node.nodes.plivo.resources._common import body_of, without_keys
from plivo_node.nodes.plivo.resources._paging import fetch_pages
from plivo_node.nodes.plivo.validation.fields import check_bool

ACCOUNT_PATH = ""
SUBACCOUNT_PATH = "Subaccount/"
# A subaccount listing carries its credentials; they never go into an output item.
SECRET_KEYS = ("auth_token", "new_auth_token")


async def get(ctx: OperationContext) -> list[JsonObject]:
    response = await ctx.client.request("GET", ACCOUNT_PATH)
    account = without_keys(body_of(response), SECRET_KEYS)
    wants_subaccounts = check_bool(
        ctx.params.get("subaccount", False), parameter="subaccount", label="Subaccount"
    )
    if wants_subaccounts:
        subaccounts = await fetch_pages(ctx.client, SUBACCOUNT_PATH, limit=None)
        account["subaccounts"] = [without_keys(sub, SECRET_KEYS) for sub in subaccounts]
    return [account]
