"""The ``$`` variables, built per item from its :class:`ExpressionContext`.

``$json $binary $itemIndex $parameter $now $today $input $('Step') $node["Step"]``; the
translator names each ``$x`` as the Jinja variable ``dollar_x`` (``$`` itself as ``dollar``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from plivo_node.core.errors import ExpressionError
from plivo_node.expressions.coercion import to_string
from plivo_node.expressions.context import ExpressionContext
from plivo_node.expressions.dates import start_of_day
from plivo_node.expressions.limits import reserve
from plivo_node.expressions.values import JsFunction, JsObject


def _step_json(context: ExpressionContext, name: str) -> Mapping[str, Any]:
    if context.step_item is None:
        raise ExpressionError(
            f"There is no step named '{name}' to read from",
            hint="$('Step name') reads an earlier step of the same pipeline",
        )
    try:
        return context.step_item(name)
    except KeyError:
        raise ExpressionError(
            f"There is no step named '{name}' before this one",
            hint="check the step name's spelling and that the step runs earlier",
        ) from None


class _StepReference(JsObject):
    """``$('Step name')``: only ``.item`` (the paired item) is available."""

    label = "a step reference"

    def __init__(self, context: ExpressionContext, name: str) -> None:
        self.context = context
        self.name = name

    def js_get(self, key: str) -> object:
        if key == "item":
            return {"json": _step_json(self.context, self.name)}
        raise ExpressionError(
            f"$('{self.name}') has no property '{key}'",
            hint=f"use $('{self.name}').item.json.<field>",
        )


class _NodeReferences(JsObject):
    """``$node["Step name"]``, the older form: ``.json`` of the paired item."""

    label = "$node"

    def __init__(self, context: ExpressionContext) -> None:
        self.context = context

    def js_get(self, key: str) -> object:
        return {"json": _step_json(self.context, key)}


class _Input(JsObject):
    """``$input``: the current item, and all input items when the caller provides them."""

    label = "$input"

    def __init__(self, context: ExpressionContext) -> None:
        self.context = context

    def _items(self) -> list[dict[str, Any]]:
        if self.context.input_items is None:
            raise ExpressionError(
                "$input.all(), first() and last() are not available here",
                hint="use $input.item.json or $json for the current item",
            )
        reserve(items=len(self.context.input_items))
        return [{"json": item} for item in self.context.input_items]

    def js_get(self, key: str) -> object:
        if key == "item":
            return {"json": self.context.json, "binary": self.context.binary}
        if key == "all":
            return JsFunction("all", self._items)
        if key == "first":
            return JsFunction("first", lambda: next(iter(self._items()), None))
        if key == "last":
            return JsFunction("last", lambda: items[-1] if (items := self._items()) else None)
        return super().js_get(key)


# Jinja name -> how to build its value for one item.
VARIABLES: Final[dict[str, Callable[[ExpressionContext], object]]] = {
    "dollar_json": lambda context: context.json,
    "dollar_binary": lambda context: context.binary,
    "dollar_itemIndex": lambda context: context.item_index,
    "dollar_position": lambda context: context.item_index,
    "dollar_thisItemIndex": lambda context: context.item_index,
    "dollar_parameter": lambda context: context.parameters,
    "dollar_now": lambda context: context.now,
    "dollar_today": lambda context: start_of_day(context.now),
    "dollar_input": _Input,
    "dollar_node": _NodeReferences,
    "dollar": lambda context: JsFunction(
        "$", lambda name: _StepReference(context, to_string(name))
    ),
}
