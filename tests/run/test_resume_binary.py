"""A resume gives replayed items their binary entries back, so a later step that runs fresh
(an MMS send of the item's image, say) sees the same item the interrupted run saw."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from plivo_node.core.items import BinaryData, Item
from plivo_node.core.node import OperationContext, Routed
from plivo_node.run.engine import Step
from plivo_node.run.journal import RunJournal
from plivo_node.run.runner import execute

PHOTO = BinaryData(data="iVBORw0KGgo=", mime_type="image/png", file_name="photo.png")
MADE = BinaryData(data="aGk=", mime_type="text/plain", file_name="made.txt")


class Params:
    resource = None
    operation = None

    def resolve(self, context: Any) -> dict[str, Any]:
        return dict(context.json)


async def pass_on(ctx: OperationContext) -> list[Routed]:
    # Even items keep the input's binary (as If and Filter do); odd ones get new binary.
    binary = ctx.item.binary if ctx.params["n"] % 2 == 0 else {"made": MADE}
    return [Routed(0, dict(ctx.item.json), binary)]


async def describe_binary(ctx: OperationContext) -> list[dict[str, Any]]:
    seen = {name: [e.mime_type, e.file_name, e.data] for name, e in ctx.item.binary.items()}
    return [{"n": ctx.params["n"], "binary": seen}]


STEPS = [
    Step(name="Pass", resolver=Params(), handler=pass_on),
    Step(name="Describe", resolver=Params(), handler=describe_binary),
]


async def run(journal: RunJournal) -> list[dict[str, Any]]:
    lines: list[str] = []
    items = [Item(json={"n": n}, binary={"photo": PHOTO}) for n in range(4)]
    await execute(STEPS, items, {}, lines.append, journal=journal)
    await journal.close(finished=False)
    return [json.loads(line)["json"] for line in lines]


async def test_replayed_items_carry_their_binary_to_a_step_that_runs_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    first = await run(RunJournal.open(path, run_key="k", resume=False))
    assert first[0]["binary"] == {"photo": ["image/png", "photo.png", PHOTO.data]}
    assert first[1]["binary"] == {"made": ["text/plain", "made.txt", MADE.data]}

    # As if the run had been killed after the first step: the second step's items are gone.
    with closing(sqlite3.connect(path)) as connection, connection:
        stored = [row[0] for row in connection.execute("SELECT outputs FROM item WHERE step = 0")]
        connection.execute("DELETE FROM item WHERE step = 1")
    # The input's own binary is journaled as a mark, not copied; new binary is kept whole.
    assert all(PHOTO.data not in outputs for outputs in stored)
    assert sum(MADE.data in outputs for outputs in stored) == 2

    resumed = await run(RunJournal.open(path, run_key="k", resume=True))
    assert resumed == first
