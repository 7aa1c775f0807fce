"""Manual Trigger (n8n-nodes-base.manualTrigger v1): a run's start. n8n emits one empty item
(packages/nodes-base/nodes/ManualTrigger/ManualTrigger.node.ts); given input items, the
trigger emits those instead."""

from __future__ import annotations

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.core import manual_trigger


def test_without_input_one_empty_item() -> None:
    assert manual_trigger.execute({}, []) == [(0, {})]


def test_the_input_items_in_order() -> None:
    items = [{"to": "+14155550100"}, {"to": "+14155550101"}]
    assert manual_trigger.execute({"notice": ""}, items) == [(0, items[0]), (0, items[1])]


def test_anything_but_the_notice_is_refused() -> None:
    with pytest.raises(ParameterError) as caught:
        manual_trigger.execute({"interval": 5}, [])
    assert caught.value.parameter == "interval"


def test_manual_trigger_type_versions() -> None:
    with pytest.raises(ParameterError, match="Manual Trigger typeVersion 2 is not supported"):
        manual_trigger.execute({}, [], type_version=2)
