"""How fast the delivery store records status callbacks, as serve's trigger calls it.

    .venv/bin/python bench/delivery_store_bench.py [--messages N]

Records N messages x 3 callbacks (queued, sent, delivered) with ``record_status`` (which
opens the state directory's store for each call), then the same through one open
``DeliveryStore``, and reads them all back with ``lookup``. Prints callbacks per second and
the p50 / p99 of one ``record_status`` call. The state directory is a temporary one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        os.environ["PLIVO_NODE_STATE_DIR"] = state
        from plivo_node.nodes.plivo.delivery import DeliveryStore, record_status  # noqa: PLC0415

        uuids = [str(uuid.uuid4()) for _ in range(args.messages)]
        events = [
            {"MessageUUID": u, "Status": s, "Sequence": str(n), "To": "14155550101"}
            for n, s in enumerate(("queued", "sent", "delivered"), start=1)
            for u in uuids
        ]
        durations = []
        started = time.perf_counter()
        for event in events:
            before = time.perf_counter()
            record_status(event)
            durations.append(time.perf_counter() - before)
        elapsed = time.perf_counter() - started
        quantiles = statistics.quantiles(durations, n=100)
        print(
            f"record_status: {len(events)} callbacks in {elapsed:.2f} s = "
            f"{len(events) / elapsed:,.0f}/s; p50 {quantiles[49] * 1000:.2f} ms, "
            f"p99 {quantiles[98] * 1000:.2f} ms"
        )
        with DeliveryStore.in_state_dir() as store:
            started = time.perf_counter()
            for event in events:
                store.record_callback({**event, "MessageUUID": event["MessageUUID"] + "-b"})
            elapsed = time.perf_counter() - started
            print(f"one open store: {len(events) / elapsed:,.0f} callbacks/s")
            started = time.perf_counter()
            found = store.lookup(uuids)
            elapsed = time.perf_counter() - started
            print(f"lookup: {len(found)} messages in {elapsed * 1000:.1f} ms")


if __name__ == "__main__":
    main()
