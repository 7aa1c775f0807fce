"""How exact the rate limiter is: 429s drawn and time taken against a server counting arrivals.

Run from the repository root with the project's virtualenv:

    .venv/bin/python bench/limiter_bench.py             # 900 sends at 300/5 s, 3 runs
    .venv/bin/python bench/limiter_bench.py --quick     # 90 sends at 30/0.5 s, 3 runs
    .venv/bin/python bench/limiter_bench.py --sends 600 --limit 100/2 --latency-ms 5-200

The server (this script with ``--serve``, in its own process) plays Plivo's limit as Plivo
applies it: each request first travels for half of a random round trip (``--latency-ms``,
uniform), is then counted at its *arrival* in a sliding window ``(t - period, t]`` and answered
202 or 429, and the answer travels back for the other half. The client is
:class:`plivo_node.http.transport.PlivoClient` with the CLI's defaults (concurrency 50, the
pipeline's ``rateLimit``, the default retry policy), sending ``POST Message/`` for every item at
once, as a run does.

Printed per run: the 429s the server answered, the most arrivals it saw in one window, the
elapsed time (first request to last answer), the ideal, and their ratio. The ideal is the
fastest schedule the limit allows from a cold start: ``floor((sends - 1) / requests) * period``
(900 at 300/5 s: 10 s), i.e. no latency and no concurrency bound at all.

The last two columns separate the limiter from the client's own pace. The first ``requests``
sends are never throttled, so how fast they arrive (``first window s``) is the machine's and
the concurrency's doing; the limit then forces arrival ``n`` to come at least ``k * period``
after arrival ``n - k * requests``. ``span/allowed`` is the last arrival (from the first) over
the earliest the limit allowed given this run's own first window: 1.000 means the limiter lost
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from plivo_node.core.errors import PlivoNodeError
from plivo_node.http.limiter import RateLimiter
from plivo_node.http.retry import RetryPolicy
from plivo_node.nodes.plivo.client import PlivoClient
from plivo_node.nodes.plivo.credentials import Credentials
from plivo_node.run.pipeline import DEFAULT_CONCURRENCY

AUTH_ID = "MABENCHLIMITER000001"
TARGET_RATIO = 1.05


@dataclass(frozen=True)
class Limit:
    requests: int
    period: float

    @classmethod
    def parse(cls, text: str) -> Limit:
        requests, _, period = text.partition("/")
        try:
            limit = cls(int(requests), float(period))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r}: write REQUESTS/SECONDS, e.g. 300/5"
            ) from None
        if limit.requests < 1 or limit.period <= 0:
            raise argparse.ArgumentTypeError(f"{text!r}: need >= 1 request per positive seconds")
        return limit

    def ideal(self, sends: int) -> float:
        return ((sends - 1) // self.requests) * self.period


def parse_latency(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    try:
        bounds = float(low) / 1000, float(high or low) / 1000
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write LOW-HIGH in ms, e.g. 20-80") from None
    if not 0 <= bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: need 0 <= LOW <= HIGH")
    return bounds


# --- the server: counts by arrival, like Plivo ------------------------------------------------


class ArrivalCounter:
    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.window: deque[float] = deque()
        self.accepted: list[float] = []
        self.rejected = 0

    def admit(self, now: float) -> bool:
        window = self.window
        while window and window[0] <= now - self.limit.period:
            window.popleft()
        if len(window) >= self.limit.requests:
            self.rejected += 1
            return False
        window.append(now)
        self.accepted.append(now)
        return True

    def arrivals(self) -> list[float]:
        """Accepted arrival times, in seconds from the first."""
        return [now - self.accepted[0] for now in self.accepted] if self.accepted else []

    def busiest_window(self) -> int:
        times, busiest, first = self.accepted, 0, 0
        for last, now in enumerate(times):
            while times[first] <= now - self.limit.period:
                first += 1
            busiest = max(busiest, last - first + 1)
        return busiest


def serve(limit: Limit, latency: tuple[float, float], seed: int) -> None:
    counter = ArrivalCounter(limit)
    rng = random.Random(seed)

    async def message(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(rng.uniform(*latency) / 2)  # on its way to the server
        admitted = counter.admit(asyncio.get_running_loop().time())
        await asyncio.sleep(rng.uniform(*latency) / 2)  # the answer on its way back
        if not admitted:
            return web.json_response({"api_id": "b", "error": "too many requests"}, status=429)
        return web.json_response({"api_id": "b", "message_uuid": ["u"]}, status=202)

    async def stats(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "accepted": len(counter.accepted),
                "rejected": counter.rejected,
                "busiest_window": counter.busiest_window(),
                "arrivals": counter.arrivals(),
            }
        )

    app = web.Application()
    app.router.add_post("/v1/Account/{auth_id}/Message/", message)
    app.router.add_get("/stats", stats)

    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = runner.addresses[0][1]
        print(port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# --- the client: plivo-node's own -------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    rejected: int
    busiest_window: int
    accepted: int
    failed: int
    elapsed: float
    span_over_allowed: float
    first_window: float  # seconds from the first arrival to arrival number ``requests``


async def send_all(base_url: str, sends: int, limit: Limit) -> tuple[float, int]:
    client = PlivoClient(
        Credentials(AUTH_ID, "bench-token-not-a-secret", base_url),
        concurrency=DEFAULT_CONCURRENCY,
        rate_limiter=RateLimiter((limit.requests, limit.period)),
        retry_policy=RetryPolicy(),
    )
    failed = 0

    async def one(index: int) -> None:
        nonlocal failed
        body = {"src": "14155550100", "dst": f"1202555{index:04d}", "text": "hi"}
        try:
            await client.request("POST", "Message/", body=body)
        except PlivoNodeError:
            failed += 1

    async with client:
        started = time.monotonic()
        # As the engine does: never more than ``concurrency`` items at a time.
        queue = iter(range(sends))

        async def worker() -> None:
            for index in queue:
                await one(index)

        await asyncio.gather(*(worker() for _ in range(DEFAULT_CONCURRENCY)))
        return time.monotonic() - started, failed


def run_once(sends: int, limit: Limit, latency_ms: str, seed: int) -> Result:
    command = [
        sys.executable,
        __file__,
        "--serve",
        "--limit",
        f"{limit.requests}/{limit.period}",
        "--latency-ms",
        latency_ms,
        "--seed",
        str(seed),
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        elapsed, failed = asyncio.run(send_all(f"http://127.0.0.1:{port}/v1/", sends, limit))
        stats = asyncio.run(fetch_stats(port))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return Result(
        rejected=stats["rejected"],
        busiest_window=stats["busiest_window"],
        accepted=stats["accepted"],
        failed=failed,
        elapsed=elapsed,
        span_over_allowed=span_over_allowed(stats["arrivals"], limit),
        first_window=stats["arrivals"][min(limit.requests, sends) - 1],
    )


def span_over_allowed(arrivals: list[float], limit: Limit) -> float:
    """The last arrival over the earliest the limit allowed after this run's first window."""
    if len(arrivals) <= limit.requests:
        return float("nan")
    windows = (len(arrivals) - 1) // limit.requests
    anchor = arrivals[len(arrivals) - 1 - windows * limit.requests]
    return arrivals[-1] / (anchor + windows * limit.period)


async def fetch_stats(port: int) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /stats HTTP/1.0\r\nHost: bench\r\n\r\n")
    raw = await reader.read()
    writer.close()
    stats: dict[str, Any] = json.loads(raw.partition(b"\r\n\r\n")[2])
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="90 sends at 30/0.5 s")
    parser.add_argument("--sends", type=int, help="items to send (default 900)")
    parser.add_argument("--limit", type=Limit.parse, help="the server's limit (default 300/5)")
    parser.add_argument("--latency-ms", default="20-80", help="round trip LOW-HIGH ms (20-80)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    limit = args.limit or (Limit(30, 0.5) if args.quick else Limit(300, 5.0))
    latency = parse_latency(args.latency_ms)
    if args.serve:
        serve(limit, latency, args.seed)
        return
    sends = args.sends or (90 if args.quick else 900)
    ideal = limit.ideal(sends)
    print(
        f"{sends} sends, server limit {limit.requests}/{limit.period:g} s counted on arrival, "
        f"round trip {args.latency_ms} ms, client concurrency {DEFAULT_CONCURRENCY}; "
        f"ideal {ideal:.2f} s"
    )
    print("run  429s  busiest window  sent  failed  elapsed s  ratio  first window s  span/allowed")
    for run in range(1, args.runs + 1):
        result = run_once(sends, limit, args.latency_ms, args.seed + run)
        ratio = result.elapsed / ideal if ideal else float("nan")
        print(
            f"{run:>3}  {result.rejected:>4}  {result.busiest_window:>7} / {limit.requests:<6}"
            f"{result.accepted:>5}  {result.failed:>6}  {result.elapsed:>9.2f}  {ratio:>5.3f}"
            f"  {result.first_window:>14.2f}  {result.span_over_allowed:>12.3f}"
        )
    print(f"target: 0 x 429 and ratio <= {TARGET_RATIO}")


if __name__ == "__main__":
    main()
