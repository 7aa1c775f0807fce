"""Throughput and memory of plivo-node against the sandbox, beside two baselines.

Run from the repository root with the project's virtualenv:

    .venv/bin/python bench/run_bench.py            # the full run (a few minutes)
    .venv/bin/python bench/run_bench.py --quick    # smaller batches, to try the script

(a) plivo-node run (CLI subprocess, journal on, output file written),
(b) raw aiohttp posting the same bodies at the same concurrency (the ceiling),
(c) a sequential loop, one request at a time (the n8n Plivo node's approach),
each against a fresh sandbox in its own process, at 0 ms and at 100 ms sandbox latency.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from plivo_node_run import run_plivo_node
from raw_clients import run_raw_concurrent, run_sequential
from sandbox_process import sandbox_process
from workload import CONCURRENCY, write_contacts

TARGET_AB = {0: 0.6, 100: 0.9}
TARGET_AC_100MS = 50.0
TARGET_MEMORY_GROWTH = 0.20


@dataclass(frozen=True)
class Sizes:
    big: int  # (a) and (b) throughput, and (a)'s large memory run
    small: int  # (a)'s small memory run
    at_100ms: int  # (a) and (b) at 100 ms
    sequential_0ms: int
    sequential_100ms: int


FULL = Sizes(
    big=100_000, small=10_000, at_100ms=20_000, sequential_0ms=20_000, sequential_100ms=200
)
QUICK = Sizes(big=20_000, small=2_000, at_100ms=5_000, sequential_0ms=2_000, sequential_100ms=50)


@dataclass
class Row:
    latency_ms: int
    variant: str
    items: int
    seconds: float
    peak_rss_mb: float | None = None
    cpu_seconds: float | None = None

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def _measure(latency_ms: int, variant: str, items: int, run: Callable[..., float]) -> Row:
    with sandbox_process(latency_ms) as sandbox:
        seconds = run(sandbox)
    row = Row(latency_ms, variant, items, seconds)
    print(f"  {variant:<28} {latency_ms:>3} ms  {items:>7} items  {row.rate:>8.0f}/s", flush=True)
    return row


def _node_row(latency_ms: int, items: int, contacts: Path) -> Row:
    with sandbox_process(latency_ms) as sandbox:
        result = run_plivo_node(sandbox, contacts, items)
    row = Row(
        latency_ms,
        "(a) plivo-node run",
        items,
        result.seconds,
        result.peak_rss_mb,
        result.cpu_seconds,
    )
    print(
        f"  {row.variant:<28} {latency_ms:>3} ms  {items:>7} items  {row.rate:>8.0f}/s  "
        f"CPU {result.cpu_seconds / items * 1e6:.0f} µs/item  "
        f"peak RSS {result.peak_rss_mb:.1f} MB",
        flush=True,
    )
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller batches (not the figures)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    print(
        f"plivo-node benchmark: {os.cpu_count()} cores, concurrency {CONCURRENCY}, "
        "rate limiter off, sandbox in its own process on 127.0.0.1",
        flush=True,
    )

    with tempfile.TemporaryDirectory(prefix="plivo-node-bench-") as scratch:
        directory = Path(scratch)
        big = write_contacts(directory / "big.csv", sizes.big)
        small = write_contacts(directory / "small.csv", sizes.small)
        mid = write_contacts(directory / "mid.csv", sizes.at_100ms)

        rows: dict[tuple[int, str], Row] = {}
        memory: dict[int, float] = {}
        for latency, items, contacts in ((0, sizes.big, big), (100, sizes.at_100ms, mid)):
            node = _node_row(latency, items, contacts)
            rows[latency, "a"] = node
            if latency == 0:
                memory[items] = node.peak_rss_mb or 0.0
            rows[latency, "b"] = _measure(
                latency,
                "(b) raw aiohttp",
                items,
                lambda sb, n=items: run_raw_concurrent(sb, n, CONCURRENCY),
            )
            sequential = sizes.sequential_0ms if latency == 0 else sizes.sequential_100ms
            rows[latency, "c"] = _measure(
                latency,
                "(c) sequential",
                sequential,
                lambda sb, n=sequential: run_sequential(sb, n),
            )
        memory[sizes.small] = _node_row(0, sizes.small, small).peak_rss_mb or 0.0

    _print_table(rows, memory, sizes)
    return 0


def _verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def _print_table(rows: dict[tuple[int, str], Row], memory: dict[int, float], sizes: Sizes) -> None:
    print()
    print(
        "| latency | (a) plivo-node items/s | (b) raw aiohttp items/s | (c) sequential items/s "
        "| a/b | a/c |"
    )
    print("|---|---|---|---|---|---|")
    for latency in (0, 100):
        a, b, c = rows[latency, "a"], rows[latency, "b"], rows[latency, "c"]
        print(
            f"| {latency} ms | {a.rate:,.0f} ({a.items:,} items) | {b.rate:,.0f} ({b.items:,}) | "
            f"{c.rate:,.1f} ({c.items:,}) | {a.rate / b.rate:.2f} | {a.rate / c.rate:.1f} |"
        )
    print()
    print(
        f"(c) at 100 ms sends a sample of {sizes.sequential_100ms} items: it is latency-bound "
        "(one request per ~100 ms), so a bigger batch only takes longer."
    )
    print("(a) items/s is over the plivo-node process's whole wall time, start-up included.")
    print()
    print("| items (0 ms) | peak RSS of the plivo-node process |")
    print("|---|---|")
    for items in sorted(memory):
        print(f"| {items:,} | {memory[items]:.1f} MB |")
    low, high = memory[sizes.small], memory[sizes.big]
    growth = (high - low) / low
    print()
    ab0 = rows[0, "a"].rate / rows[0, "b"].rate
    ab100 = rows[100, "a"].rate / rows[100, "b"].rate
    ac100 = rows[100, "a"].rate / rows[100, "c"].rate
    print("Targets:")
    print(f"  a/b at 0 ms   = {ab0:.2f} (>= {TARGET_AB[0]})  {_verdict(ab0 >= TARGET_AB[0])}")
    print(
        f"  a/b at 100 ms = {ab100:.2f} (>= {TARGET_AB[100]})  {_verdict(ab100 >= TARGET_AB[100])}"
    )
    print(
        f"  a/c at 100 ms = {ac100:.1f} (>= {TARGET_AC_100MS:.0f})  "
        f"{_verdict(ac100 >= TARGET_AC_100MS)}"
    )
    print(
        f"  peak RSS {sizes.big:,} vs {sizes.small:,} items = {growth:+.1%} "
        f"(<= {TARGET_MEMORY_GROWTH:.0%})  {_verdict(growth <= TARGET_MEMORY_GROWTH)}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
