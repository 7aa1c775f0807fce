"""The per-item input of an expression: the item itself, its index, and what it may look up."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ExpressionContext:
    """What an expression can see for one item."""

    json: Mapping[str, Any]
    item_index: int
    parameters: Mapping[str, Any] = field(default_factory=dict)
    binary: Mapping[str, Any] = field(default_factory=dict)
    # $('Step name').item.json: the json of the named earlier step's item this item descends from.
    step_item: Callable[[str], Mapping[str, Any]] | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # $input.all()/first()/last(): the json of every input item of the step, when the caller has it.
    input_items: Sequence[Mapping[str, Any]] | None = None
