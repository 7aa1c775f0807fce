"""`plivo-node serve` under load: signed callbacks acknowledged per second, acknowledgement
latency, and a SIGKILL in the middle of a burst.

    .venv/bin/python bench/serve_bench.py            # 5,000 events, then the kill test
    .venv/bin/python bench/serve_bench.py --events 2000 --kill-after 700

Setup: `plivo-node serve` runs in a subprocess (as a user runs it) on a free 127.0.0.1 port,
with an auto-reply pipeline (plivoTrigger -> plivo sms.send to ={{ $json.From }},
rateLimit: false) against a sandbox that runs in this process (its per-destination counts
prove "none twice"). The client posts form-encoded inbound-message callbacks, each with its
own V2 signature and nonce and its own sender, over `--connections` concurrent connections.
Every acknowledgement (200) means the event was committed (fsynced) to the queue; the events
also run (replies go to the sandbox) while the burst goes on, as they would in production.

1. Throughput: events acknowledged per second over the burst's wall time; p50 / p99 of the
   time from writing a request to reading its 200.
   Backlog (bench mode): how many acknowledged events had not yet run when the burst ended,
   and how long after it the last of them had run (serve acknowledges first and runs from its
   durable queue; this line shows runs are not deferred forever). The serve CPU per event of
   the bench mode covers the burst and that catch-up, so every run is paid for.
2. Kill: a second burst on a fresh state directory; `serve` is SIGKILLed once `--kill-after`
   events are acknowledged. A new `serve` on the same state directory runs what was queued.
   Checked: every acknowledged event ran (its sender got its reply) or, if its send was in
   flight at the kill, is reported as unknown_outcome; no sender got two replies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from plivo_node.nodes.plivo.signatures import v2_signature
from plivo_sandbox import Sandbox, SandboxConfig

AUTH_ID = "MABENCHACCOUNT000001"
AUTH_TOKEN = "serve-bench-token-0000000000000001"
OUR_NUMBER = "14155550100"

PIPELINE = """
version: 1
settings: {rateLimit: false, concurrency: 50, timeoutSeconds: 10}
steps:
  - name: Inbound
    node: plivoTrigger
    parameters: {events: [inboundMessage], path: bench}
  - name: Reply
    node: plivo
    onError: continueRegularOutput
    parameters:
      resource: sms
      operation: send
      from: "={{ $json.To }}"
      to: "={{ $json.From }}"
      message: "=re {{ $json.MessageUUID }}"
"""


def senders(count: int) -> list[str]:
    """Distinct US numbers in ten area codes (555-1000 to 555-9999 in each)."""
    areas = ["415", "212", "617", "312", "206", "303", "404", "512", "702", "919"]
    return [f"1{areas[i // 9000]}555{1000 + i % 9000:04d}" for i in range(count)]


def environment(sandbox: Sandbox, state: Path) -> dict[str, str]:
    """serve's environment: the sandbox's account and its own state directory."""
    return {
        **os.environ,
        "PLIVO_AUTH_ID": AUTH_ID,
        "PLIVO_AUTH_TOKEN": AUTH_TOKEN,
        "PLIVO_API_URL": sandbox.url,
        "PLIVO_NODE_STATE_DIR": str(state),
    }


async def start_serve(
    pipeline: Path, env: dict[str, str], *extra: str
) -> tuple[asyncio.subprocess.Process, str]:
    """serve in a subprocess, once it listens, and its webhook's URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "plivo_node.cli",
        "serve",
        str(pipeline),
        "--port",
        "0",
        *extra,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    url = ""
    while True:
        line = (await process.stdout.readline()).decode()
        if not line:
            raise SystemExit("serve ended before listening")
        found = re.search(r"(http://\S+/webhook/bench)", line)
        url = found.group(1) if found else url
        if "listening on" in line:
            return process, url


async def burst(
    url: str,
    numbers: list[str],
    connections: int,
    *,
    kill: asyncio.subprocess.Process | None = None,
    kill_after: int = 0,
) -> tuple[list[float], list[str], float]:
    """Post one signed inbound callback per number; the latencies (s) and senders acknowledged."""
    latencies: list[float] = []
    acked: list[str] = []
    pending = iter(numbers)
    killed = False

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal killed
        for number in pending:
            if killed:
                return
            nonce = "".join(secrets.choice("0123456789") for _ in range(20))
            headers = {
                "X-Plivo-Signature-V2": v2_signature(AUTH_TOKEN, url, nonce),
                "X-Plivo-Signature-V2-Nonce": nonce,
            }
            form = {
                "From": number,
                "To": OUR_NUMBER,
                "Text": "hi",
                "Type": "sms",
                "MessageUUID": f"bench-{number}",
            }
            started = time.perf_counter()
            try:
                async with session.post(url, data=form, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, OSError):
                if kill is not None:
                    return  # the server is gone
                raise
            if status != 200:
                raise SystemExit(f"unexpected {status}")
            latencies.append(time.perf_counter() - started)
            acked.append(number)
            if kill is not None and not killed and len(acked) >= kill_after:
                killed = True
                kill.send_signal(signal.SIGKILL)
                return

    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    return latencies, acked, time.perf_counter() - started


def output_count(state: Path) -> int:
    """Events that have run (one output line each for the bench pipeline)."""
    file = state / "serve" / "output" / "bench.jsonl"
    return file.read_bytes().count(b"\n") if file.exists() else 0


# How long the acknowledged events of a burst may take to run before the bench gives up.
CATCH_UP_LIMIT_SECONDS = 300.0


async def wait_until_run(state: Path, events: int) -> float:
    """Seconds until ``events`` events have run. Polled every 20 ms, reading only what the
    file gained (this process also hosts the sandbox the runs send to)."""
    started = time.perf_counter()
    file = state / "serve" / "output" / "bench.jsonl"
    count = 0
    with file.open("rb") as output:
        while count < events:
            count += output.read().count(b"\n")
            if time.perf_counter() - started > CATCH_UP_LIMIT_SECONDS:
                raise SystemExit(
                    f"only {count} of {events} events ran in {CATCH_UP_LIMIT_SECONDS:.0f} s"
                )
            await asyncio.sleep(0.02)
    return time.perf_counter() - started


def output_lines(state: Path) -> list[dict[str, object]]:
    file = state / "serve" / "output" / "bench.jsonl"
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text("utf-8").splitlines()]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def throughput(args: argparse.Namespace, work: Path, sandbox: Sandbox, label: str) -> None:
    pipeline = work / f"{label}.yaml"
    state = work / f"state-{label}"
    process, url = await start_serve(pipeline, environment(sandbox, state))
    server_cpu = cpu_seconds(process.pid)
    client_cpu = time.process_time()
    latencies, acked, elapsed = await burst(url, senders(args.events), args.connections)
    backlog = ""
    if label == "bench":
        waiting = len(acked) - output_count(state)
        catch_up = await wait_until_run(state, len(acked))
        backlog = (
            f"; backlog: {waiting} acknowledged events had not run at the end of the burst, "
            f"all had run {catch_up:.2f} s later"
        )
    server_cpu = cpu_seconds(process.pid) - server_cpu
    client_cpu = time.process_time() - client_cpu
    process.send_signal(signal.SIGINT)
    await process.wait()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"{label}: {len(acked)} signed events acknowledged in {elapsed:.2f} s = "
        f"{len(acked) / elapsed:,.0f}/s; ack latency p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"({args.connections} connections); CPU per event: serve "
        f"{server_cpu / len(acked) * 1000:.2f} ms, client + sandbox "
        f"{client_cpu / len(acked) * 1000:.2f} ms{backlog}"
    )


async def kill_test(args: argparse.Namespace, work: Path, sandbox: Sandbox) -> bool:
    pipeline = work / "bench.yaml"
    state = work / "state-kill"
    numbers = senders(args.events)
    before = dict(sandbox.state.destination_counts)
    process, url = await start_serve(pipeline, environment(sandbox, state))
    _lat, acked, _elapsed = await burst(
        url, numbers, args.connections, kill=process, kill_after=args.kill_after
    )
    await process.wait()
    ran_before = len(output_lines(state))
    process, _url = await start_serve(pipeline, environment(sandbox, state))
    # Every event committed before the kill runs now; wait until the output stops growing.
    last, quiet = -1, 0
    while quiet < 10:
        await asyncio.sleep(0.2)
        count = len(output_lines(state))
        quiet = quiet + 1 if count == last else 0
        last = count
    process.send_signal(signal.SIGINT)
    await process.wait()
    lines = output_lines(state)
    unknown = sum(
        1
        for line in lines
        if isinstance(line.get("error"), dict) and line["error"].get("code") == "unknown_outcome"
    )
    counts = {n: sandbox.state.destination_counts.get(n, 0) - before.get(n, 0) for n in numbers}
    twice = [n for n, c in counts.items() if c > 1]
    missing = [n for n in acked if counts[n] == 0]
    ok = not twice and len(missing) <= unknown
    print(
        f"kill: SIGKILL after {len(acked)} acknowledged ({ran_before} had run); after the "
        f"restart {len(lines)} events have run; replies: "
        f"{sum(1 for c in counts.values() if c == 1)} sent once, {len(twice)} twice, "
        f"{len(missing)} acknowledged without a reply, {unknown} unknown_outcome -> "
        f"{'OK' if ok else 'FAILED'}"
    )
    return ok


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--kill-after", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        (work / "bench.yaml").write_text(PIPELINE, encoding="utf-8")
        # The same server with a pipeline that ignores inbound messages: acceptance alone.
        ignoring = PIPELINE.replace("events: [inboundMessage]", "events: [messageStatus]")
        (work / "accept-only.yaml").write_text(ignoring, encoding="utf-8")
        config = SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN, callbacks=False)
        async with Sandbox(config) as sandbox:
            await throughput(args, work, sandbox, "accept-only")
            await throughput(args, work, sandbox, "bench")
            ok = await kill_test(args, work, sandbox)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
