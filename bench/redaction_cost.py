"""What the secrets guard costs per item, side by side with encoding the item's output line.

    .venv/bin/python bench/redaction_cost.py [--rounds N]

Every output line and journal row is checked for the run's secrets (the token, ``id:token``
and their escaped and base64 forms) before it is written; an item of a step with a secret
parameter also opens its own secrets scope. Printed as microseconds per call and as a ratio
to ``encode_line`` of the same item, which every item pays anyway.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable

from plivo_node.core.redaction import (
    finds_secret,
    forget_secrets,
    item_secrets,
    redact_json_text,
    register_secret,
)
from plivo_node.run.item_io import encode_line

ITEM = {
    "json": {
        "api_id": "5b0b3b4e-3d7e-4a4b-9a4c-1d2e3f4a5b6c",
        "message": "message(s) queued",
        "message_uuid": ["0c6a7a52-9a52-11ee-b9d1-0242ac120002"],
        "to": "+14155550101",
        "segments": 1,
    },
    "pairedItem": {"item": 12345},
}


def _per_call(function: Callable[[], object], rounds: int) -> float:
    """Microseconds per call: the best of five timings (the least disturbed by other load)."""
    return min(timeit.repeat(function, number=rounds, repeat=5)) / rounds * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100_000)
    args = parser.parse_args()
    forget_secrets()
    register_secret("Zm9vYmFyYmF6cXV4c2VjcmV0dG9rZW4xMjM0NTY3", auth_id="MAXXXXXXXXXXXXXXXXX1")
    line = encode_line(ITEM)
    row = f"[{line}]"

    def scope() -> None:
        with item_secrets(["Pw-long-9f3k2LqZ"]):
            pass

    encode = _per_call(lambda: encode_line(ITEM), args.rounds)
    figures = {
        "encode_line (paid anyway)": encode,
        "output line check (finds_secret)": _per_call(lambda: finds_secret(line), args.rounds),
        "journal row guard (redact_json_text)": _per_call(
            lambda: redact_json_text(row), args.rounds
        ),
        "item secrets scope (secret steps only)": _per_call(scope, args.rounds),
    }
    for name, micros in figures.items():
        print(f"{name:42} {micros:6.2f} µs  {micros / encode:5.2f} x encode_line")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
