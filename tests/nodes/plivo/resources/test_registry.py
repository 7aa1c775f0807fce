"""The registry holds exactly the node's 21 operations, each an async handler."""

from __future__ import annotations

import inspect

from plivo_node.nodes.plivo.description import plivo_description
from plivo_node.nodes.plivo.resources import HANDLERS

EXPECTED = {
    ("sms", "send"),
    ("mms", "send"),
    ("call", "make"),
    ("account", "get"),
    ("application", "create"),
    ("application", "delete"),
    ("application", "get"),
    ("application", "getAll"),
    ("application", "update"),
    ("conference", "getAll"),
    ("endpoint", "create"),
    ("endpoint", "delete"),
    ("endpoint", "get"),
    ("endpoint", "getAll"),
    ("endpoint", "update"),
    ("message", "get"),
    ("message", "getAll"),
    ("number", "get"),
    ("number", "getAll"),
    ("number", "update"),
    ("pricing", "get"),
}


def test_registry_covers_exactly_the_21_operations() -> None:
    assert set(HANDLERS) == EXPECTED
    assert len(EXPECTED) == 21


def test_each_handler_is_a_coroutine_named_after_its_operation() -> None:
    for (resource, operation), handler in HANDLERS.items():
        assert inspect.iscoroutinefunction(handler)
        assert handler.__module__ == f"plivo_node.nodes.plivo.resources.{resource}"
        expected_name = "get_all" if operation == "getAll" else operation
        assert handler.__name__ == expected_name


def test_registry_matches_the_manifest_operations() -> None:
    assert set(HANDLERS) == set(plivo_description().operations())
