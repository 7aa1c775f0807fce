"""``plivo-node worker --queue redis://HOST:PORT/DB``: run queued chunks (see
:mod:`plivo_node.queue.worker`)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "worker", help="run the chunks of queued runs (queue mode, Redis)"
    )
    parser.add_argument("--queue", required=True, help="redis://HOST:PORT/DB")
    parser.add_argument(
        "--concurrency",
        type=int,
        help="items in flight per chunk (default: the pipeline's settings.concurrency)",
    )
    parser.add_argument(
        "--chunks", type=int, default=2, help="chunks run at once by this worker (default 2)"
    )
    parser.add_argument(
        "--health-port",
        type=int,
        help="serve /healthz and /metrics (Prometheus) on 127.0.0.1:PORT",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415  (imported when the command runs: --help stays light)

    from plivo_node.core.errors import ConfigurationError  # noqa: PLC0415
    from plivo_node.queue.redis_url import parse_queue_url  # noqa: PLC0415
    from plivo_node.queue.worker import QueueWorker  # noqa: PLC0415

    if args.concurrency is not None and not 1 <= args.concurrency <= 100:
        raise ConfigurationError(
            f"--concurrency {args.concurrency} is out of range", hint="give 1 to 100"
        )
    if args.chunks < 1:
        raise ConfigurationError(f"--chunks {args.chunks} is out of range", hint="give 1 or more")
    worker = QueueWorker(
        parse_queue_url(args.queue), concurrency=args.concurrency, chunks_at_once=args.chunks
    )
    return asyncio.run(worker.serve(health_port=args.health_port))
