"""``plivo-node status``: registered here, implemented by the node whose messages it reports.

A delivery report is about one service's message states and error codes, so its code lives
with that node (plivo_node/nodes/plivo/delivery/command.py); this module only hands the CLI
its parser and its entry point, importing the implementation when the command runs.
"""

from __future__ import annotations

import argparse
import importlib

IMPLEMENTATION = "plivo_node.nodes.plivo.delivery.command"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    importlib.import_module(IMPLEMENTATION).register(subparsers)


def run(args: argparse.Namespace) -> int:
    result: int = importlib.import_module(IMPLEMENTATION).run(args)
    return result
