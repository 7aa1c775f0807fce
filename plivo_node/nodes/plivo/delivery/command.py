"""``plivo-node status OUTPUT.jsonl``: the delivery report of a run's messages.

States come first from the delivery store (status callbacks that ``serve`` recorded, and
earlier lookups), then, for messages not final there, from the API: one ``GET Message/{uuid}/``
each, within the account's rate limit. Per-message reads are used rather than the message list
because the list allows 20 requests a minute (400 records), while the account allows 300
requests per 5 s. Every state read is written back to the store, so a later report asks again
only about messages still pending.

Credentials come from the environment (PLIVO_AUTH_ID, PLIVO_AUTH_TOKEN, PLIVO_API_URL), which
is what ``plivo-node sandbox`` prints for itself; without them the report uses the store only.

Exit codes: 0 every message delivered, 1 some not delivered or still pending (at the timeout,
with ``--wait``), 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from plivo_node.core.errors import ConfigurationError, NotFoundError

if TYPE_CHECKING:
    from plivo_node.core.api import ApiClient
    from plivo_node.nodes.plivo.client import PlivoClient
    from plivo_node.nodes.plivo.delivery.report import ReportRow
    from plivo_node.nodes.plivo.delivery.store import DeliveryStore

EXIT_DELIVERED = 0
EXIT_NOT_DELIVERED = 1
DEFAULT_TIMEOUT = 600.0
DEFAULT_INTERVAL = 10.0
LOOKUP_CONCURRENCY = 20


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "status",
        help="delivery report of a run's messages (counts by state and error, per-item table)",
        description="Report where each message a run sent stands: counts by final state, "
        "counts by error code with their meanings, and a per-item table. Exit 0 when every "
        "message was delivered, 1 when some were not (or are still pending), 2 on bad usage.",
    )
    parser.add_argument("output", type=Path, help="the JSON Lines output of `plivo-node run`")
    parser.add_argument(
        "--input", type=Path, help="the run's input file, to show each item's row in the table"
    )
    parser.add_argument("--input-format", choices=["csv", "jsonl", "json"])
    parser.add_argument(
        "--wait", action="store_true", help="poll until every message is final or --timeout"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds --wait polls at most (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_INTERVAL,
        help=f"seconds between polls with --wait (default {DEFAULT_INTERVAL:g})",
    )
    parser.add_argument("--csv", type=Path, help="also write the per-item table to this CSV file")
    parser.add_argument(
        "--no-api", action="store_true", help="use the delivery store only; ask the API nothing"
    )


def run(args: argparse.Namespace) -> int:
    for name in ("timeout", "interval"):
        value = getattr(args, name)
        if not value > 0:
            raise ConfigurationError(
                f"--{name} must be a positive number of seconds, got {value}",
                hint=f"e.g. --{name} 60",
            )
    import asyncio  # noqa: PLC0415  (the parser is built for every command: keep it light)

    return asyncio.run(_status(args))


def _input_rows(path: Path | None, input_format: str | None) -> list[dict[str, object]] | None:
    if path is None:
        return None
    from plivo_node.run.item_io import read_items  # noqa: PLC0415

    return [dict(item.json) for item in read_items(path, input_format)]


async def _status(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415

    from plivo_node.nodes.plivo.delivery import report  # noqa: PLC0415
    from plivo_node.nodes.plivo.delivery.store import DeliveryStore  # noqa: PLC0415

    sent = report.read_sent_messages(args.output)
    if not sent:
        raise ConfigurationError(
            f"{args.output} records no sent message",
            hint="pass the --output file of a run whose steps send SMS or MMS",
        )
    input_rows = _input_rows(args.input, args.input_format)
    uuids = [m.message_uuid for m in sent if m.message_uuid is not None]
    deadline = time.monotonic() + args.timeout
    with DeliveryStore.in_state_dir() as store:
        use_api = not args.no_api and _client_from_environment() is not None
        if not use_api and not args.no_api:
            print(
                "plivo-node: no credentials in the environment: reporting from the delivery "
                "store only",
                file=sys.stderr,
            )
        while True:
            pending = _pending(store, uuids)
            client = _client_from_environment() if pending and use_api else None
            if client is not None:
                async with client:
                    await _look_up(client, store, pending)
                pending = _pending(store, uuids)
            if not pending or not args.wait or time.monotonic() >= deadline:
                break
            await asyncio.sleep(min(args.interval, max(deadline - time.monotonic(), 0.0)))
        rows = report.build_rows(sent, store.lookup(uuids), input_rows)
    print(report.format_report(rows))
    if args.csv is not None:
        report.write_csv(rows, args.csv)
    return _exit_code(rows)


def _exit_code(rows: Sequence[ReportRow]) -> int:
    delivered = all(row.state == "delivered" for row in rows)
    return EXIT_DELIVERED if delivered else EXIT_NOT_DELIVERED


def _pending(store: DeliveryStore, uuids: Sequence[str]) -> list[str]:
    known = store.lookup(uuids)
    return [uuid for uuid in dict.fromkeys(uuids) if uuid not in known or not known[uuid].final]


def _client_from_environment() -> PlivoClient | None:
    from plivo_node.http.limiter import RateLimiter  # noqa: PLC0415
    from plivo_node.nodes.plivo.client import PlivoClient  # noqa: PLC0415
    from plivo_node.nodes.plivo.credentials import resolve_credentials  # noqa: PLC0415
    from plivo_node.nodes.plivo.factory import PLIVO_RATE_LIMIT  # noqa: PLC0415

    credentials = resolve_credentials(None, os.environ)
    if credentials is None:
        return None
    return PlivoClient(
        credentials, concurrency=LOOKUP_CONCURRENCY, rate_limiter=RateLimiter(PLIVO_RATE_LIMIT)
    )


async def _look_up(client: ApiClient, store: DeliveryStore, uuids: Sequence[str]) -> None:
    """Read each message's record (a bounded number at a time) into the store."""
    import asyncio  # noqa: PLC0415

    from plivo_node.nodes.plivo.resources.message import message_path  # noqa: PLC0415

    gate = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def one(message_uuid: str) -> None:
        async with gate:
            try:
                response = await client.request("GET", message_path(message_uuid))
            except NotFoundError:
                return  # not (yet) known to the API: stays "unknown" in the report
        store.record_api(response.body or {})

    await asyncio.gather(*(one(uuid) for uuid in uuids))
