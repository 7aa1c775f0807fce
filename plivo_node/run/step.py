"""A configured step, ready to run: what the pipeline loader builds and the engine runs.

Kept apart from the engine (:mod:`plivo_node.run.engine`) so that loading and validating a
pipeline does not import asyncio and the scheduler: ``validate`` never runs anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from plivo_node.core.node import MAIN_OUTPUTS, BulkOperation, Handler
from plivo_node.expressions import ExpressionContext

if TYPE_CHECKING:  # the send window imports asyncio, which validate does not need
    from plivo_node.run.send_window import WindowGate


class OnError(StrEnum):
    STOP_WORKFLOW = "stopWorkflow"
    CONTINUE_REGULAR_OUTPUT = "continueRegularOutput"
    CONTINUE_ERROR_OUTPUT = "continueErrorOutput"


class Resolver(Protocol):
    """What the executor needs of :class:`plivo_node.description.parameters.ParameterResolver`."""

    @property
    def resource(self) -> str: ...

    @property
    def operation(self) -> str: ...

    def resolve(self, context: ExpressionContext) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Step:
    """One configured step of a pipeline, ready to run."""

    name: str
    resolver: Resolver
    handler: Handler
    node: str = ""  # the node type's name
    on_error: OnError = OnError.STOP_WORKFLOW
    concurrency: int = 50
    # How many finished items may wait for an earlier, slower one (a send held by a timeout)
    # before no new item starts: large enough that one slow request does not stall the
    # batch, small enough that memory stays flat however large the batch is.
    window: int = 2048
    # How the step's items share requests (``bulk: true``); None: one item per request.
    bulk: BulkOperation[Any] | None = None
    raw_parameters: Mapping[str, Any] = field(default_factory=dict)
    # Input fields a secret parameter reads: never copied into an error item, always masked.
    secret_fields: frozenset[str] = frozenset()
    # Whether a parameter is a secret (an endpoint password); False spares each item the cost
    # of its own secrets scope.
    secret_parameters: bool = True
    # The node's outputs; the error output (continueErrorOutput) comes after them.
    outputs: tuple[str, ...] = MAIN_OUTPUTS
    # Whether an item a killed run left in flight must not be repeated (a send, a create).
    never_repeat: bool = False
    # How messages name the service the step talks to (an unknown outcome is checked there).
    service: str = "the service"
    # The node type's version the parameters were saved for (checked when the step was built).
    type_version: float = 1
    # The pipeline's send window, on a step that messages someone: items outside it are not
    # run in this pass (see plivo_node.run.send_window).
    send_window: WindowGate | None = None

    @property
    def error_output(self) -> int:
        return len(self.outputs)

    @property
    def resource(self) -> str:
        return self.resolver.resource

    @property
    def operation(self) -> str:
        return self.resolver.operation
