"""Profile (a) in-process: ``plivo-node run`` under cProfile against a sandbox process.

    .venv/bin/python bench/profile_node.py [--items N] [--latency-ms X] [--top 40]

Prints the functions with the most cumulative and internal time, to find per-item overhead.
``--pyinstrument`` uses pyinstrument's sampler instead (``pip install pyinstrument`` into the
venv; it is not a project dependency): its call tree is not inflated by cProfile's per-call
overhead, which exaggerates code made of many small calls.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
from pathlib import Path

from sandbox_process import sandbox_process
from workload import write_contacts, write_pipeline

from plivo_node.cli import main as cli_main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--save", type=Path, help="also write the raw profile here")
    parser.add_argument("--pyinstrument", action="store_true", help="sample instead of trace")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plivo-node-profile-") as scratch:
        directory = Path(scratch)
        contacts = write_contacts(directory / "contacts.csv", args.items)
        pipeline = write_pipeline(directory / "bench.yaml", contacts, directory / "out.jsonl")
        with sandbox_process(args.latency_ms) as sandbox:
            os.environ.update(
                PLIVO_AUTH_ID=sandbox.auth_id,
                PLIVO_AUTH_TOKEN=sandbox.auth_token,
                PLIVO_API_URL=sandbox.url,
            )
            argv = ["run", str(pipeline), "--live", "--no-progress"]
            if args.pyinstrument:
                return _sampled(argv)
            profiler = cProfile.Profile()
            code = profiler.runcall(cli_main, argv)
    if code != 0:
        print(f"plivo-node run exited {code}")
    if args.save:
        profiler.dump_stats(args.save)
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    return code


def _sampled(argv: list[str]) -> int:
    from pyinstrument import Profiler  # noqa: PLC0415 - optional, installed by hand

    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    code = cli_main(argv)
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False, show_all=False))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
