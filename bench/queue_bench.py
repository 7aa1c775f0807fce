"""Queue mode: how close 1, 2 and 4 workers come to the account's limit, and how they scale
when there is no limit.

Run from the repository root with the project's virtualenv (redis-server must be installed):

    .venv/bin/python bench/queue_bench.py              # both parts
    .venv/bin/python bench/queue_bench.py --part limit --sends 1500
    .venv/bin/python bench/queue_bench.py --part scale --sends 3000

Part ``limit``: a sandbox enforcing Plivo's 300 requests per 5 s (counted on arrival, 20 ms
latency) and a campaign of ``--sends`` SMS run by 1, 2 and 4 workers. Printed per worker count:
the 429s the workers received (their ``/metrics``), the span from the first message the
sandbox accepted to the last, the ideal span the limit allows from a cold start
(``floor((requests - 1) / 300) * 5`` s, where the requests are the sends plus each
worker's one credentials read) and their ratio (target for 4 workers: 0 x 429, ratio
<= 1.05).

Part ``scale``: the limits switched off (``rateLimit: false``, a sandbox without a limit) at
100 ms latency, concurrency 50 per chunk; 1 worker vs 4 workers, throughput from first
acceptance to last (target: 4 workers >= 1.5x one worker).

The sandbox runs in this process; redis-server, the workers and the run are subprocesses.
Workers are warmed with a small campaign first (their first chunk imports the runtime).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from plivo_sandbox import Sandbox, SandboxConfig

PIPELINE = """\
version: 1
name: Queue bench
input: {input}
output: {output}
settings:
  concurrency: {concurrency}
  rateLimit: {rate_limit}
steps:
  - name: Send
    node: plivo
    onError: continueRegularOutput
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{{{ $json.phone }}}}"
      message: "=Hi {{{{ $json.name }}}}"
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder),
            "--appendonly", "yes", "--maxmemory-policy", "noeviction", "--save", "",
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.02)
    raise RuntimeError("redis-server did not start")


def campaign(folder: Path, name: str, sends: int, *, limited: bool, concurrency: int) -> Path:
    contacts = folder / f"{name}.csv"
    contacts.write_text(
        "name,phone\n" + "".join(f"n{i},+1{4155000000 + i}\n" for i in range(sends))
    )
    pipeline = folder / f"{name}.yaml"
    pipeline.write_text(
        PIPELINE.format(
            input=contacts.name,
            output=f"{name}.jsonl",
            concurrency=concurrency,
            rate_limit="{requests: 300, perSeconds: 5}" if limited else "false",
        )
    )
    return pipeline


class Bench:
    def __init__(self, folder: Path, queue: str, sandbox: Sandbox) -> None:
        self.folder = folder
        self.queue = queue
        self.sandbox = sandbox
        self.env = {
            **os.environ,
            "PLIVO_AUTH_ID": sandbox.config.auth_id,
            "PLIVO_AUTH_TOKEN": sandbox.config.auth_token,
            "PLIVO_API_URL": sandbox.url,
            "PLIVO_NODE_STATE_DIR": str(folder / "state"),
        }
        self.workers: list[tuple[asyncio.subprocess.Process, int]] = []

    async def start_workers(self, count: int, *args: str) -> None:
        for _ in range(count):
            port = free_port()
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "plivo_node.cli", "worker", "--queue", self.queue,
                "--health-port", str(port), *args,
                env=self.env, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            self.workers.append((process, port))
        async with aiohttp.ClientSession() as session:
            for _process, port in self.workers:
                for _ in range(200):
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/healthz") as answer:
                            if answer.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.05)

    async def rejected(self) -> int:
        total = 0
        async with aiohttp.ClientSession() as session:
            for _process, port in self.workers:
                async with session.get(f"http://127.0.0.1:{port}/metrics") as answer:
                    text = await answer.text()
                found = re.search(r"^plivo_node_rate_limited_total (\d+)", text, re.MULTILINE)
                total += int(found.group(1)) if found else 0
        return total

    def workers_cpu(self) -> float:
        """CPU seconds the workers have used (Linux /proc)."""
        total = 0.0
        for process, _port in self.workers:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    async def stop_workers(self) -> None:
        for process, _port in self.workers:
            process.send_signal(signal.SIGTERM)
        for process, _port in self.workers:
            await process.wait()
        self.workers = []

    async def run(self, pipeline: Path, chunk_size: int) -> tuple[int, int, float]:
        """Run a campaign; returns (messages accepted, requests the sandbox received,
        first-to-last acceptance span)."""
        before = len(self.sandbox.state.messages)
        requests_before = self.sandbox.state.request_log.total
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "plivo_node.cli", "run", str(pipeline), "--queue", self.queue,
            "--chunk-size", str(chunk_size), "--no-progress",
            env=self.env, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _out, err = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"the run failed: {err.decode()}")
        messages = self.sandbox.state.messages[before:]
        times = [m["accepted_at"] for m in messages]
        requests = self.sandbox.state.request_log.total - requests_before
        return len(messages), requests, max(times) - min(times)


async def limit_part(folder: Path, queue: str, sends: int) -> None:
    print(f"limit: {sends} sends at 300/5 s, sandbox counting arrivals, 20 ms latency")
    print("workers  requests  429s  span s  ideal s  span/ideal")
    async with Sandbox(SandboxConfig(latency_ms=20, rate_limit=(300, 5.0))) as sandbox:
        bench = Bench(folder, queue, sandbox)
        for workers in (1, 2, 4):
            await bench.start_workers(workers)
            warm = campaign(folder, f"warm{workers}", 4 * workers, limited=True, concurrency=50)
            await bench.run(warm, 1)
            await asyncio.sleep(5.5)  # the warm-up's requests leave the window
            rejected_before = await bench.rejected()
            pipeline = campaign(folder, f"limit{workers}", sends, limited=True, concurrency=50)
            count, requests, span = await bench.run(pipeline, 100)
            rejected = await bench.rejected() - rejected_before
            await bench.stop_workers()
            assert count == sends, f"{count} messages for {sends} sends"
            # Every request counts in the account's window: the sends, each worker's one
            # credentials read when it opens the run, and the retries of any 429.
            ideal = ((requests - 1) // 300) * 5.0
            print(
                f"{workers:7d}  {requests:8d}  {rejected:4d}  {span:6.2f}  {ideal:7.2f}  "
                f"{span / ideal:10.3f}"
            )
            await asyncio.sleep(5.5)


async def scale_part(folder: Path, queue: str, sends: int) -> None:
    print(f"scale: {sends} sends, limits off, 100 ms latency, concurrency 50 per worker")
    print("workers  span s  sends/s  vs 1 worker  CPU s: workers  sandbox")
    base = None
    async with Sandbox(SandboxConfig(latency_ms=100)) as sandbox:
        bench = Bench(folder, queue, sandbox)
        for workers in (1, 4):
            await bench.start_workers(workers, "--concurrency", "50", "--chunks", "1")
            warm = campaign(folder, f"swarm{workers}", 4 * workers, limited=False, concurrency=50)
            await bench.run(warm, 1)
            pipeline = campaign(folder, f"scale{workers}", sends, limited=False, concurrency=50)
            workers_cpu, sandbox_cpu = bench.workers_cpu(), time.process_time()
            count, _requests, span = await bench.run(pipeline, 200)
            workers_cpu = bench.workers_cpu() - workers_cpu
            sandbox_cpu = time.process_time() - sandbox_cpu
            await bench.stop_workers()
            assert count == sends, f"{count} messages for {sends} sends"
            rate = count / span
            base = base or rate
            print(
                f"{workers:7d}  {span:6.2f}  {rate:7.1f}  {rate / base:10.2f}x  "
                f"{workers_cpu:14.1f}  {sandbox_cpu:7.1f}"
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["limit", "scale", "both"], default="both")
    parser.add_argument("--sends", type=int, default=None)
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is not installed")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="queue-bench-") as name:
        folder = Path(name)
        redis, queue = start_redis(folder)
        try:
            if args.part in ("limit", "both"):
                await limit_part(folder, queue, args.sends or 1500)
            if args.part in ("scale", "both"):
                await scale_part(folder, queue, args.sends or 3000)
        finally:
            redis.send_signal(signal.SIGTERM)
            redis.wait()


if __name__ == "__main__":
    asyncio.run(main())
