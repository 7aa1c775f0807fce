"""``plivo-node queue status --queue URL``: queued runs, their chunks, and the workers."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("queue", help="look at a queue (queue mode)")
    queue_sub = parser.add_subparsers(dest="queue_command", metavar="{status}", required=True)
    status = queue_sub.add_parser(
        "status", help="pending, running and failed chunks per run, and the live workers"
    )
    status.add_argument("--queue", required=True, help="redis://HOST:PORT/DB")
    status.add_argument("--json", action="store_true", help="print the status as JSON")


async def _status(url: str) -> dict[str, object]:
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
            runs.append(
                {
                    "run": state.run_id,
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
    runs = status["runs"]
    assert isinstance(runs, list)
    for entry in runs:
        flag = " (cancelled)" if entry["cancelled"] else ""
        print(
            f"run {entry['run']}{flag}: {entry['chunks']} chunks, {entry['done']} done, "
            f"{entry['running']} running, {entry['pending']} pending, {entry['failed']} failed"
        )
    workers = status["workers"]
    assert isinstance(workers, list)
    for entry in workers:
        print(f"worker {entry['worker']}: {'alive' if entry['alive'] else 'gone'}")
    return 0
