"""``python -m plivo_node.sandbox``: run a sandbox by hand (the real command is ``plivo-node``)."""

from __future__ import annotations

import argparse
import sys

from plivo_node.errors import ConfigurationError
from plivo_node.sandbox.config import (
    DEFAULT_AUTH_ID,
    DEFAULT_AUTH_TOKEN,
    FAULT_KINDS,
    FaultConfig,
    FaultKind,
    SandboxConfig,
)
from plivo_node.sandbox.server import run_forever


def _fault_kind(raw: str) -> FaultKind:
    for kind in FAULT_KINDS:
        if str(kind) == raw:
            return kind
    raise argparse.ArgumentTypeError(f"unknown fault kind {raw!r}; choose among {FAULT_KINDS}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m plivo_node.sandbox", description="Run a Plivo-compatible sandbox."
    )
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any)")
    parser.add_argument("--auth-id", default=DEFAULT_AUTH_ID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--fault-kind", type=_fault_kind, action="append", dest="fault_kinds")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = SandboxConfig(
            auth_id=args.auth_id,
            auth_token=args.auth_token,
            latency_ms=args.latency_ms,
            faults=FaultConfig(
                rate=args.fault_rate,
                seed=args.fault_seed,
                kinds=tuple(args.fault_kinds or (500,)),
            ),
        )
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def ready(url: str) -> None:
        print(f"Plivo sandbox listening on {url} (auth id {config.auth_id}); Ctrl-C stops it")

    try:
        run_forever(config, "127.0.0.1", args.port, ready)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
