"""No Operation, do nothing (n8n-nodes-base.noOp v1): every item passes on unchanged
(packages/nodes-base/nodes/NoOp/NoOp.node.ts)."""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.core import no_op


def test_items_pass_on_unchanged(run_node: Any) -> None:
    items = [{"a": 1}, {}, {"nested": {"b": [1, 2]}}]
    assert run_node("noOp", {}, items, type_version=1) == [(0, item) for item in items]


def test_a_parameter_is_refused_by_name() -> None:
    with pytest.raises(ParameterError) as caught:
        no_op.execute({"mode": "x"}, {}, item_index=4, type_version=1)
    assert (caught.value.parameter, caught.value.item_index) == ("mode", 4)
    assert "No Operation has no parameters" in caught.value.message


def test_no_op_type_versions() -> None:
    with pytest.raises(ParameterError, match="No Operation typeVersion 2 is not supported"):
        no_op.execute({}, {}, item_index=0, type_version=2)
