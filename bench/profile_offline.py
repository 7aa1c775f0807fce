"""Per-item CPU cost of plivo-node with the network taken out: the engine's own overhead.

    .venv/bin/python bench/profile_offline.py [--items N] [--profile]

Runs ``plivo-node run`` in-process with ``PlivoClient.request`` replaced by a stub that
answers at once like the sandbox (202 with a message UUID), so what remains is everything
plivo-node does per item besides HTTP: reading the CSV, resolving expressions, validation,
the journal, the output file, progress and the summary. ``--profile`` adds cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workload import write_contacts, write_pipeline

from plivo_node.cli import main as cli_main
from plivo_node.core.api import ApiResponse, before_write
from plivo_node.nodes.plivo.client import PlivoClient


async def _instant_answer(
    self: PlivoClient, method: str, path: str, **_: Mapping[str, Any] | None
) -> ApiResponse:
    del self
    hook = before_write.get()
    # As the real transport does: the journal's in-flight mark is measured too.
    marking = hook() if hook is not None and method != "GET" else None
    if marking is not None:
        await marking
    if method == "POST" and path == "Message/":
        body = {
            "api_id": "bench",
            "message": "message(s) queued",
            "message_uuid": [str(uuid.uuid4())],
        }
        return ApiResponse(202, body)
    return ApiResponse(200, {"api_id": "bench", "country_iso": "US", "message": {}})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    PlivoClient.request = _instant_answer  # type: ignore[assignment,method-assign]
    os.environ.update(
        PLIVO_AUTH_ID="MABENCH0000000000000",
        PLIVO_AUTH_TOKEN="bench-token-not-a-secret",
        PLIVO_API_URL="http://127.0.0.1:9/v1/",  # never contacted: request is stubbed
    )
    with tempfile.TemporaryDirectory(prefix="plivo-node-offline-") as scratch:
        directory = Path(scratch)
        contacts = write_contacts(directory / "contacts.csv", args.items)
        pipeline = write_pipeline(directory / "bench.yaml", contacts, directory / "out.jsonl")
        argv = ["run", str(pipeline), "--live", "--no-progress"]
        profiler = cProfile.Profile() if args.profile else None
        started, cpu_started = time.perf_counter(), time.process_time()
        code = profiler.runcall(cli_main, argv) if profiler else cli_main(argv)
        cpu = time.process_time() - cpu_started
        wall = time.perf_counter() - started
    print(
        f"{args.items} items: {wall:.2f} s wall, {cpu / args.items * 1e6:.0f} µs CPU per item "
        f"(start-up included), exit {code}"
    )
    if profiler is not None:
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
