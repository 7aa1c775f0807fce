"""(a): ``plivo-node run`` in a subprocess, exactly as a user runs it, against the sandbox.

The journal is on (as in a normal run) and the output file is written. Items/s is taken over
the whole process's wall time, start-up included; peak memory is the process's peak RSS
(``ru_maxrss`` of that one child, from ``os.wait4``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox_process import RunningSandbox
from workload import write_pipeline

CLI = Path(sys.executable).with_name("plivo-node")


@dataclass(frozen=True)
class NodeRun:
    seconds: float
    cpu_seconds: float  # user + system time of the plivo-node process
    peak_rss_mb: float
    outputs: int


def run_plivo_node(sandbox: RunningSandbox, contacts: Path, count: int) -> NodeRun:
    with tempfile.TemporaryDirectory(prefix="plivo-node-bench-") as scratch:
        directory = Path(scratch)
        output = directory / "out.jsonl"
        pipeline = write_pipeline(directory / "bench.yaml", contacts, output)
        env = {
            **os.environ,
            "PLIVO_AUTH_ID": sandbox.auth_id,
            "PLIVO_AUTH_TOKEN": sandbox.auth_token,
            "PLIVO_API_URL": sandbox.url,
        }
        command = [str(CLI), "run", str(pipeline), "--live", "--no-progress"]
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        assert process.stderr is not None
        log = process.stderr.read()
        process.stderr.close()
        if process.returncode != 0:
            raise RuntimeError(f"plivo-node run exited {process.returncode}:\n{log}")
        with output.open("rb") as stream:
            outputs = sum(1 for _ in stream)
        if outputs != count:
            raise RuntimeError(f"expected {count} output items, got {outputs}:\n{log}")
        return NodeRun(
            seconds=seconds,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            peak_rss_mb=usage.ru_maxrss / 1024,
            outputs=outputs,
        )
