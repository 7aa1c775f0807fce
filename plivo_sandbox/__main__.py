"""``python -m plivo_sandbox``: the same as ``plivo-node sandbox``."""

from __future__ import annotations

import argparse
import contextlib
import sys

from plivo_node.core.errors import ConfigurationError
from plivo_sandbox.command import add_arguments, serve


def main(argv: list[str] | None = None, *, prog: str = "python -m plivo_sandbox") -> int:
    """Run the sandbox until stopped; ``prog`` names the command in help and errors."""
    parser = argparse.ArgumentParser(prog=prog, description="Run a Plivo-compatible sandbox.")
    add_arguments(parser)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            serve(parser.parse_args(argv))
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
