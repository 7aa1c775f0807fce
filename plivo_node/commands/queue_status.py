"""``plivo-node queue status --queue URL``: queued runs, their chunks, and the workers."""

from __future__ import annotations

import argparse
import json
from typing import Any

from plivo_node.core.words import counted


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("queue", help="look at a queue (queue mode)")
    queue_sub = parser.add_subparsers(dest="queue_command", metavar="{status}", required=True)
    status = queue_sub.add_parser(
        "status", help="pending, running and failed chunks per run, and the live workers"
    )
    status.add_argument("--queue", required=True, help="redis://HOST:PORT/DB")
    status.add_argument("--json", action="store_true", help="print the status as JSON")


# A run no worker has opened yet: its account is known once a worker resolves its credentials
# (workers read them from their own environment; nothing secret goes through Redis).
NOT_YET_KNOWN = "not yet known"
COUNTED = ("runs", "pending", "running", "failed", "done")


def _account_label(accounts: bytes | None) -> str:
    """A short label of the account(s) a run sends for: the start of each account key, a
    digest of the credentials (the token cannot be read back from it)."""
    if not accounts:
        return NOT_YET_KNOWN
    return "+".join(sorted(key[:8] for key in accounts.decode().split(",") if key))


def _totals(runs: list[dict[str, Any]]) -> dict[str, int]:
    totals = dict.fromkeys(COUNTED, 0)
    for run in runs:
        totals["runs"] += 1
        for what in COUNTED[1:]:
            totals[what] += int(run[what])
    return totals


def _by_account(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pending, running, failed and done chunks per account, accounts in label order."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        grouped.setdefault(str(run["account"]), []).append(run)
    return [{"account": label, **_totals(grouped[label])} for label in sorted(grouped)]


async def _status(url: str) -> dict[str, Any]:
    from plivo_node.queue import keys  # noqa: PLC0415
    from plivo_node.queue.chunks import RunState  # noqa: PLC0415
    from plivo_node.queue.engine import ChunkQueue  # noqa: PLC0415
    from plivo_node.queue.redis_url import check_server, connect, parse_queue_url  # noqa: PLC0415

    address = parse_queue_url(url)
    redis = connect(address)
    try:
        await check_server(redis, address)
        queue = await ChunkQueue.open(address)
        try:
            depth, oldest = await queue.depth(), await queue.oldest_wait()
        finally:
            await queue.close()
        runs = []
        for raw in sorted(await redis.smembers(keys.RUNS)):  # type: ignore[misc]
            state = RunState(redis, raw.decode())
            chunks = int(await redis.hget(state.meta, "chunks") or 0)  # type: ignore[misc]
            done = int(await redis.scard(state.done))  # type: ignore[misc]
            running = int(await redis.hlen(state.owners))  # type: ignore[misc]
            _after, results = await state.read_results("0", block_ms=0)
            failed = sum(1 for result in results if result.kind == "error")
            cancelled = await redis.hget(state.meta, "cancelled") == b"1"  # type: ignore[misc]
            accounts = await redis.hget(state.meta, "accounts")  # type: ignore[misc]
            runs.append(
                {
                    "run": state.run_id,
                    "account": _account_label(accounts),
                    "chunks": chunks,
                    "done": done - failed,
                    "failed": failed,
                    "running": running,
                    "pending": chunks - done - running,
                    "cancelled": cancelled,
                }
            )
        workers = []
        for raw_id in sorted(await redis.hkeys(keys.WORKERS)):  # type: ignore[misc]
            worker = raw_id.decode()
            alive = bool(await redis.exists(keys.worker_alive(worker)))
            workers.append({"worker": worker, "alive": alive})
        return {
            "queued_jobs": depth,
            "oldest_wait_seconds": oldest,
            "accounts": _by_account(runs),
            "totals": _totals(runs),
            "runs": runs,
            "workers": workers,
        }
    finally:
        await redis.aclose()


def run(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415  (imported when the command runs: --help stays light)

    status = asyncio.run(_status(args.queue))
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    oldest = status["oldest_wait_seconds"]
    waited = f", oldest waiting {oldest:.1f} s" if isinstance(oldest, float) else ""
    print(f"queued chunk jobs: {status['queued_jobs']}{waited}")
    for entry in [*status["accounts"], {"account": None, **status["totals"]}]:
        name = "total" if entry["account"] is None else f"account {entry['account']}"
        print(
            f"{name}: {counted(entry['runs'], 'run')}; chunks {entry['pending']} pending, "
            f"{entry['running']} running, {entry['failed']} failed, {entry['done']} done"
        )
    for entry in status["runs"]:
        flag = " (cancelled)" if entry["cancelled"] else ""
        print(
            f"run {entry['run']}{flag} (account {entry['account']}): {entry['chunks']} chunks, "
            f"{entry['done']} done, {entry['running']} running, {entry['pending']} pending, "
            f"{entry['failed']} failed"
        )
    for entry in status["workers"]:
        print(f"worker {entry['worker']}: {'alive' if entry['alive'] else 'gone'}")
    return 0
