"""The Jinja sandbox that runs translated expressions, every hook replaced by our allowlist.

Attribute and item access go through :func:`~plivo_node.expressions.members.member`, and only
:class:`~plivo_node.expressions.values.JsFunction` can be called; the translator writes every
operator as such a call (:mod:`.operators`), so Jinja's own operators are never used. Jinja's
own globals, filters and tests are removed, so nothing of Jinja's is reachable either.
"""

from __future__ import annotations

from typing import Any, Final

from jinja2.sandbox import SandboxedEnvironment

from plivo_node.core.errors import ExpressionError
from plivo_node.expressions.members import member
from plivo_node.expressions.values import JsFunction, capitalized, kind


class _ExpressionEnvironment(SandboxedEnvironment):
    def getattr(self, obj: Any, attribute: str) -> Any:
        return member(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        return member(obj, argument)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:  # noqa: ARG002
        if isinstance(obj, JsFunction) and not kwargs:
            return obj(*args)
        raise ExpressionError(f"{capitalized(kind(obj))} is not a function and cannot be called")


def _new_environment() -> _ExpressionEnvironment:
    environment = _ExpressionEnvironment(autoescape=False)
    # Nothing of Jinja's own is reachable: no range, lipsum, cycler, joiner, namespace, dict.
    environment.globals.clear()
    environment.filters.clear()
    environment.tests.clear()
    return environment


ENVIRONMENT: Final = _new_environment()
