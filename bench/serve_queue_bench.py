"""`plivo-node serve --queue`: acknowledgements per second and events run per second when the
workers run the events, next to `serve` running them itself.

Run from the repository root with the project's virtualenv (redis-server must be installed):

    .venv/bin/python bench/serve_queue_bench.py                 # 2,000 events, 1 and 2 workers
    .venv/bin/python bench/serve_queue_bench.py --events 500 --workers 1 2 4

Setup as bench/serve_bench.py (serve as a subprocess, the auto-reply pipeline, a sandbox in
this process, one sender per event, signed callbacks over ``--connections`` connections),
plus a redis-server (appendonly, own directory) and ``plivo-node worker`` subprocesses.
Printed per configuration: acknowledgements per second over the burst and their p50 / p99
latency; events run per second, from the first request to the last reply the sandbox
accepted; a check that every sender got exactly one reply; and the CPU time serve and the
workers spent per event (start-up included).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from queue_bench import start_redis
from serve_bench import (
    AUTH_ID,
    AUTH_TOKEN,
    PIPELINE,
    burst,
    cpu_seconds,
    environment,
    senders,
    start_serve,
)

from plivo_sandbox import Sandbox, SandboxConfig


async def start_worker(env: dict[str, str], queue: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "plivo_node.cli", "worker", "--queue", queue, "--chunks", "50",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def until_replied(sandbox: Sandbox, before: dict[str, int], count: int) -> None:
    def replied() -> int:
        return sum(sandbox.state.destination_counts.get(n, 0) - c for n, c in before.items())

    while replied() < count:  # noqa: ASYNC110 - other processes send the replies
        await asyncio.sleep(0.01)


async def one(
    args: argparse.Namespace, work: Path, sandbox: Sandbox, queue: str | None, workers: int
) -> None:
    label = f"serve --queue, {workers} worker{'s' if workers > 1 else ''}" if queue else "serve"
    state = work / f"state-{workers}-{bool(queue)}"
    env = environment(sandbox, state)
    processes = [await start_worker(env, str(queue)) for _ in range(workers if queue else 0)]
    extra = ("--queue", queue) if queue else ()
    serve, url = await start_serve(work / "bench.yaml", env, *extra)
    numbers = senders(args.events)
    before = {n: sandbox.state.destination_counts.get(n, 0) for n in numbers}
    started = time.perf_counter()
    latencies, acked, elapsed = await burst(url, numbers, args.connections)
    await until_replied(sandbox, before, len(acked))
    ran = time.perf_counter() - started
    serve_cpu = cpu_seconds(serve.pid)
    workers_cpu = sum(cpu_seconds(process.pid) for process in processes)
    serve.send_signal(signal.SIGINT)
    await serve.wait()
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        await process.wait()
    counts = [sandbox.state.destination_counts.get(n, 0) - before[n] for n in numbers]
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"{label}: {len(acked)} acknowledged at {len(acked) / elapsed:,.0f}/s (p50 "
        f"{statistics.median(latencies) * 1000:.1f} ms, p99 {p99:.1f} ms); all run in "
        f"{ran:.2f} s = {len(acked) / ran:,.0f} events/s; replies once each: "
        f"{'yes' if set(counts) == {1} else 'NO'}; CPU per event: serve "
        f"{serve_cpu / len(acked) * 1000:.1f} ms, workers {workers_cpu / len(acked) * 1000:.1f} ms",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        (work / "bench.yaml").write_text(PIPELINE, encoding="utf-8")
        config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN, callbacks=False)
        async with Sandbox(config) as sandbox:
            await one(args, work, sandbox, None, 0)
            for workers in args.workers:
                # A Redis of its own: the burst repeats the same callbacks, which a Redis
                # that saw them would rightly take for retries already run.
                redis_dir = work / f"redis-{workers}"
                redis_dir.mkdir()
                redis, queue = start_redis(redis_dir)
                try:
                    await one(args, work, sandbox, queue, workers)
                finally:
                    redis.send_signal(signal.SIGTERM)
                    redis.wait()


if __name__ == "__main__":
    asyncio.run(main())
