"""Start-up time of the commands people run most: wall time of a whole `plivo-node` process.

    python bench/startup_bench.py            # 5 runs of each command
    python bench/startup_bench.py --runs 10
    python bench/startup_bench.py --keep-env # keep PYTHONDONTWRITEBYTECODE if it is set
    python bench/startup_bench.py --checkout /tmp/old  # another checkout's code, to compare

Each command runs in a fresh subprocess (the installed `plivo-node` script of this Python);
the figures are min / median / max wall time over the runs, next to the target, and the
median CPU time (user + system) of the process, which other work on the machine disturbs
less. One untimed run of each command comes first, so the timed runs start the way a user's
second command does: the description cache filled, the bytecode of the package compiled. The
cache is a temporary directory of the benchmark's own (PLIVO_NODE_CACHE_DIR), never the user's.

An installed package has its bytecode compiled by pip; with PYTHONDONTWRITEBYTECODE=1, a
checkout whose bytecode was never written is compiled from source at every start (hundreds
of milliseconds), which says nothing about the program. So the variable is removed from the
commands' environment unless --keep-env is given.

The last row, `validate` with an empty cache each time, shows what the cache saves; it has
no target. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "send_sms.yaml"


@dataclass(frozen=True)
class Case:
    label: str
    arguments: list[str]
    target: float | None  # seconds; None: shown for comparison only
    fresh_cache: bool = False  # an empty description cache for every run


def _command() -> list[str]:
    script = Path(sys.executable).parent / "plivo-node"
    if script.exists():
        return [str(script)]
    found = shutil.which("plivo-node")
    return [found] if found else [sys.executable, "-m", "plivo_node.cli"]


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time_once(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall time, CPU time) of one run of ``command``."""
    cpu = _cpu_of_children()
    start = time.perf_counter()
    # cwd: not a checkout, whose plivo_node `python -m` would import instead of --checkout's.
    completed = subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        sys.exit(
            f"{' '.join(command)} exited {completed.returncode}:\n"
            f"{completed.stderr.decode(errors='replace')}"
        )
    return elapsed, _cpu_of_children() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep-env", action="store_true")
    parser.add_argument(
        "--checkout",
        type=Path,
        help="run `python -m plivo_node.cli` from this source tree instead of the installed script",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="plivo-node-startup-"))
    env = dict(os.environ)
    if not args.keep_env:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PLIVO_NODE_CACHE_DIR"] = str(work / "cache")
    # The run must use the sandbox, whatever the caller's environment holds.
    for name in ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_API_URL"):
        env.pop(name, None)
    output = str(work / "out.jsonl")
    cases = [
        Case("plivo-node --help", ["--help"], 0.3),
        Case("validate examples/send_sms.yaml", ["validate", str(EXAMPLE)], 0.4),
        Case(
            "run examples/send_sms.yaml --sandbox",
            ["run", str(EXAMPLE), "--sandbox", "--output", output, "--no-journal"],
            0.6,
        ),
        Case(
            "validate, empty description cache",
            ["validate", str(EXAMPLE)],
            None,
            fresh_cache=True,
        ),
    ]
    base = _command()
    if args.checkout is not None:
        env["PYTHONPATH"] = str(args.checkout.resolve())
        base = [sys.executable, "-m", "plivo_node.cli"]
    print(f"{args.runs} runs each; {' '.join(base)}; bytecode env kept: {args.keep_env}")
    print(f"{'command':<40} {'min':>7} {'median':>7} {'max':>7} {'target':>7} {'cpu med':>8}")
    try:
        for case in cases:
            command = [*base, *case.arguments]
            _time_once(command, env, work)  # untimed: fills the cache and the bytecode
            times, cpus = [], []
            for run in range(args.runs):
                run_env = env
                if case.fresh_cache:
                    run_env = {**env, "PLIVO_NODE_CACHE_DIR": str(work / f"fresh-{run}")}
                wall, cpu = _time_once(command, run_env, work)
                times.append(wall)
                cpus.append(cpu)
            target = f"{case.target:.2f}" if case.target is not None else "-"
            print(
                f"{case.label:<40} {min(times):7.3f} {statistics.median(times):7.3f} "
                f"{max(times):7.3f} {target:>7} {statistics.median(cpus):8.3f}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
