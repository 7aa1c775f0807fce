"""Interface placeholder: replaced by the real sandboxed expression engine."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class ExpressionContext:
    """What an expression can see for one item."""

    json: Mapping[str, Any]
    item_index: int
    parameters: Mapping[str, Any] = field(default_factory=dict)
    binary: Mapping[str, Any] = field(default_factory=dict)
    # $('Step name').item.json: the json of the named earlier step's item this item descends from.
    step_item: Callable[[str], Mapping[str, Any]] | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def is_expression(value: object) -> bool:
    return isinstance(value, str) and value.startswith("=")


class CompiledExpression:
    def __init__(self, source: str, *, parameter: str) -> None:
        raise NotImplementedError

    def evaluate(self, context: ExpressionContext) -> Any:
        raise NotImplementedError


def compile_expression(source: str, *, parameter: str) -> CompiledExpression:
    return CompiledExpression(source, parameter=parameter)
