"""A queued run's API clients: each node type's client with its account's shared limits.

Workers open them to run chunks, and the run opens them after its chunks for what a run in
one process does after its last item (the cost estimate's price lookups): either way every
request to an account passes the one window, in-flight bound and 429 pause on Redis.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from plivo_node.core.node import RunClient
from plivo_node.queue.limits import AccountLimits
from plivo_node.run.engine import Step
from plivo_node.run.pipeline import PipelineSpec

if TYPE_CHECKING:
    from plivo_node.commands.run_setup import ApiTarget
    from plivo_node.run.registry import LoadedNode


def account_key(node: str, fields: Mapping[str, str]) -> str:
    """Which account a node's limits are shared by: a digest of its credentials (never the
    credentials themselves), so every worker sending for one account shares one window."""
    digest = hashlib.sha256(node.encode())
    for name, value in sorted(fields.items()):
        digest.update(b"\0" + name.encode() + b"\0" + value.encode())
    return digest.hexdigest()[:24]


@dataclass(frozen=True)
class SharedClient:
    target: ApiTarget
    client: RunClient
    account: str
    limits: AccountLimits


async def open_shared_clients(
    stack: contextlib.AsyncExitStack[Any],
    redis: aioredis.Redis,
    spec: PipelineSpec,
    steps: list[Step],
    nodes: list[LoadedNode],
    *,
    mode: str,
    owner: str,
) -> list[SharedClient]:
    """Each node's client (credentials found as ``run`` finds them), open until ``stack``
    closes, its limits those of its account on ``redis``."""
    from plivo_node.commands.run_setup import api_targets, client_options  # noqa: PLC0415

    opened = []
    for target in await stack.enter_async_context(api_targets(spec, mode, nodes)):
        options = client_options(spec, steps, target.factory, retry_unknown=False)
        account = account_key(target.node.name, target.fields)
        limits = AccountLimits(redis, account, owner=owner, lease_seconds=options.timeout * 2 + 5)
        options = dataclasses.replace(options, shared_limits=limits)
        client = await stack.enter_async_context(target.factory.connect(target.fields, options))
        opened.append(SharedClient(target, client, account, limits))
    return opened
