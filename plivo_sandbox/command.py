"""The sandbox's command-line options, shared by ``plivo-node sandbox`` and ``python -m``."""

from __future__ import annotations

import argparse
import math

from plivo_sandbox.config import (
    DEFAULT_AUTH_ID,
    DEFAULT_AUTH_TOKEN,
    FAULT_KINDS,
    FaultConfig,
    FaultKind,
    SandboxConfig,
)
from plivo_sandbox.server import run_forever

DEFAULT_PORT = 8089


def _rate(text: str) -> tuple[int, float]:
    requests, _, seconds = text.partition("/")
    try:
        rate = int(requests), float(seconds or 1)
    except ValueError:
        rate = (0, 0.0)
    if rate[0] < 1 or not 0 < rate[1] < math.inf:  # NaN fails this too
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a rate; write REQUESTS/SECONDS with at least 1 request and a "
            "positive, finite number of seconds, e.g. 300/5"
        )
    return rate


def _fault_kinds(text: str) -> tuple[FaultKind, ...]:
    by_name = {str(kind): kind for kind in FAULT_KINDS}
    kinds = []
    for name in (part.strip() for part in text.split(",") if part.strip()):
        if name not in by_name:
            choices = ", ".join(by_name)
            raise argparse.ArgumentTypeError(f"unknown fault kind {name!r}; choose among {choices}")
        kinds.append(by_name[name])
    return tuple(kinds)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any)"
    )
    parser.add_argument("--auth-id", default=DEFAULT_AUTH_ID, help="the Auth ID it accepts")
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN, help="the token it accepts")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay before every answer")
    parser.add_argument(
        "--rate-limit",
        type=_rate,
        metavar="REQUESTS/SECONDS",
        help="answer 429 past this rate, counted as requests arrive, e.g. 300/5 (Plivo's "
        "limit); default: no limit",
    )
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of requests that fail (0..1)"
    )
    parser.add_argument("--fault-seed", type=int, default=0, help="seed of the fault sequence")
    parser.add_argument(
        "--delivery-seconds",
        type=float,
        default=0.0,
        help="seconds a message takes from queued to its outcome, and a call to hang up "
        "(default 0: at once)",
    )
    parser.add_argument(
        "--fault-kinds",
        type=_fault_kinds,
        default=(500,),
        help="comma-separated: 429, 500, 503, reset, reset_after, timeout (default 500)",
    )


def serve(args: argparse.Namespace) -> None:
    """Run the sandbox the options describe until Ctrl-C or SIGTERM."""
    config = SandboxConfig(
        auth_id=args.auth_id,
        auth_token=args.auth_token,
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        faults=FaultConfig(rate=args.fault_rate, seed=args.fault_seed, kinds=args.fault_kinds),
        delivery_seconds=args.delivery_seconds,
    )

    def ready(url: str) -> None:
        print(f"Plivo sandbox listening at {url}")
        print(f"  PLIVO_API_URL={url}")
        print(f"  PLIVO_AUTH_ID={config.auth_id}")
        print(f"  PLIVO_AUTH_TOKEN={config.auth_token}")
        print("Press Ctrl+C to stop.", flush=True)

    run_forever(config, args.host, args.port, ready)
