"""What hostile requests cost the sandbox server: memory kept and seconds to answer.

    .venv/bin/python bench/sandbox_attacks.py                  # this checkout
    .venv/bin/python bench/sandbox_attacks.py --source /old/checkout   # another one, to compare

Starts ``python -m plivo_sandbox --port 0`` (from ``--source`` when given) and prints:

- the server's resident memory before and after 150 unauthenticated POSTs of 1 MB each;
- the seconds to answer a send whose ``url`` is 40,000 characters of host then a space
  (a linear URL check answers at once; a backtracking one takes seconds), median of 3;
- the seconds to answer a JSON body nested 100,000 deep, and its status.

Figures depend on the machine; the test suite checks the answers, this script their cost.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

AUTH_ID = "MABENCH0000000000000"
AUTH_TOKEN = "bench-token"
AUTH = "Basic " + base64.b64encode(f"{AUTH_ID}:{AUTH_TOKEN}".encode()).decode()
MEGABYTE = 1024 * 1024


def start(source: str | None) -> tuple[subprocess.Popen[bytes], str]:
    # ``-m`` puts the working directory first on sys.path, ahead of the installed package.
    arguments = ["--port", "0", "--auth-id", AUTH_ID, "--auth-token", AUTH_TOKEN]
    process = subprocess.Popen(
        [sys.executable, "-m", "plivo_sandbox", *arguments],
        stdout=subprocess.PIPE,
        cwd=source or Path(__file__).resolve().parent.parent,
    )
    assert process.stdout is not None
    for raw in process.stdout:
        found = re.search(r"listening at (\S+)", raw.decode())
        if found:
            return process, f"{found.group(1)}Account/{AUTH_ID}/"
    raise SystemExit("the sandbox did not start")


def resident_megabytes(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.findall(r"VmRSS:\s+(\d+) kB", status)[0]) / 1024


async def unauthenticated_bodies(url: str) -> None:
    body = b'{"text": "' + b"x" * (MEGABYTE - 12) + b'"}'
    async with aiohttp.ClientSession() as session:
        for _ in range(150):
            async with session.post(
                url + "Message/", data=body, headers={"Content-Type": "application/json"}
            ) as response:
                await response.read()


async def timed_post(url: str, data: bytes) -> tuple[float, int]:
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        began = time.perf_counter()
        async with session.post(url + "Message/", data=data, headers=headers) as response:
            await response.read()
            return time.perf_counter() - began, response.status


async def measure(source: str | None) -> None:
    process, url = start(source)
    try:
        before = resident_megabytes(process.pid)
        await unauthenticated_bodies(url)
        after = resident_megabytes(process.pid)
        print(f"RSS before / after 150 unauthenticated 1 MB bodies: {before:.0f} / {after:.0f} MB")
        hostile = json.dumps(
            {
                "src": "14155550100",
                "dst": "14155550101",
                "text": "hi",
                "url": "http://" + "a" * 40_000 + " ",
            }
        ).encode()
        runs = [await timed_post(url, hostile) for _ in range(3)]
        seconds = statistics.median(run[0] for run in runs)
        print(f"40,000-character URL: answered {runs[0][1]} in {seconds:.3f} s (median of 3)")
        deep = b"[" * 100_000 + b"]" * 100_000
        seconds, status = await timed_post(url, deep)
        print(f"JSON nested 100,000 deep: answered {status} in {seconds:.3f} s")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="a checkout whose plivo_node to run instead of this one")
    args = parser.parse_args()
    asyncio.run(measure(args.source))


if __name__ == "__main__":
    main()
