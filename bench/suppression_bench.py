"""What the suppression list costs a 10,000-item run.

A 10,000-contact CSV is sent through one ``sms.send`` step with ``plivo-node run --sandbox
--dry-run`` (every item resolved, validated and screened; no HTTP, so the list's share of the
time is as large as it can be), once with ``settings.suppression: false`` and once with a list
of 10,000 numbers of which 500 are contacts of the batch. Each variant runs ``--repeat`` times
in a subprocess with its own state directory, the two variants alternating so that load from
other processes hits both alike; the fastest run of each is printed (the machine's noise only
ever adds time). Then, in this
process: how long loading the 10,000-entry list takes, and one lookup.

    .venv/bin/python bench/suppression_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = Path(sys.executable).with_name("plivo-node")
ITEMS = 10_000
LISTED = 10_000
LISTED_CONTACTS = 500

PIPELINE = """
version: 1
input: contacts.csv
output: out.jsonl
settings: {{rateLimit: false, concurrency: 100, costEstimate: false, suppression: {suppression}}}
steps:
  - name: Send
    node: plivo
    onError: continueRegularOutput
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{{{ $json.phone }}}}"
      message: "=Hi {{{{ $json.name }}}}, the sale ends Friday"
"""


def contact(n: int) -> str:
    return f"+1{212 + n // 10_000 * 100}555{n % 10_000:04d}"


def fill_list(state_dir: Path) -> None:
    os.environ["PLIVO_NODE_STATE_DIR"] = str(state_dir)
    from plivo_node.nodes.plivo.suppression import Source, opened  # noqa: PLC0415

    with opened() as suppression, suppression.connection:
        suppression.connection.execute("BEGIN")
        for n in range(LISTED - LISTED_CONTACTS):
            suppression.add(f"1303555{n:04d}", reason="keyword STOP", source=Source.KEYWORD)
        for n in range(0, ITEMS, ITEMS // LISTED_CONTACTS):
            number = contact(n).removeprefix("+")
            suppression.add(number, reason="keyword STOP", source=Source.KEYWORD)


def run_once(directory: Path, state_dir: Path) -> tuple[float, str]:
    env = {**os.environ, "PLIVO_NODE_STATE_DIR": str(state_dir)}
    command = [str(CLI), "run", str(directory / "p.yaml"), "--sandbox", "--dry-run"]
    command.append("--no-progress")
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory(prefix="suppression-bench-") as scratch:
        root = Path(scratch)
        rows = "".join(f"Contact {n},{contact(n)}\n" for n in range(ITEMS))
        (root / "contacts.csv").write_text("name,phone\n" + rows)
        listed_state = root / "listed"
        fill_list(listed_state)
        empty_state = root / "empty"
        variants = (
            ("suppression off", "false", empty_state),
            (f"list of {LISTED:,} ({LISTED_CONTACTS} in the batch)", "true", listed_state),
        )
        times: dict[str, list[float]] = {label: [] for label, _, _ in variants}
        logs: dict[str, str] = {}
        for _ in range(repeat):
            for label, setting, state in variants:
                (root / "p.yaml").write_text(PIPELINE.format(suppression=setting))
                seconds, logs[label] = run_once(root, state)
                times[label].append(seconds)
        for label, found in times.items():
            lines = logs[label].splitlines()
            summary = [line.strip() for line in lines if "suppression list" in line]
            print(
                f"{label:40s} fastest {min(found):6.2f} s of {repeat} runs "
                f"({ITEMS / min(found):,.0f} items/s) {summary}"
            )
        from plivo_node.core.node import RunSettings  # noqa: PLC0415
        from plivo_node.nodes.plivo.suppression_scope import (  # noqa: PLC0415
            screen_destinations,
            suppression_scope,
        )

        os.environ["PLIVO_NODE_STATE_DIR"] = str(listed_state)
        started = time.perf_counter()
        with suppression_scope(RunSettings()):
            loaded = time.perf_counter() - started
            lookups = 100_000
            started = time.perf_counter()
            for _ in range(lookups):
                screen_destinations(["14155550101"])
            per_lookup = (time.perf_counter() - started) / lookups
        print(f"loading the {LISTED:,}-entry list: {loaded * 1000:.1f} ms")
        print(f"one screened destination: {per_lookup * 1e6:.2f} µs")


if __name__ == "__main__":
    main()
