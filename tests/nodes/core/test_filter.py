"""Filter (n8n-nodes-base.filter v2-2.3): keeps the items that pass, drops the others.

Pinned from packages/nodes-base/nodes/Filter/V2/FilterV2.node.ts; the conditions are the
same filter parameter as If's (see test_conditions.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import ParameterError
from plivo_node.nodes.core import filter_node

OPTED_IN = {
    "conditions": {
        "options": {
            "caseSensitive": True,
            "leftValue": "",
            "typeValidation": "strict",
            "version": 2,
        },
        "conditions": [
            {
                "id": "1",
                "leftValue": "={{ $json.optIn }}",
                "rightValue": "",
                "operator": {"type": "boolean", "operation": "true", "singleValue": True},
            }
        ],
        "combinator": "and",
    },
    "options": {},
}
PEOPLE = [{"name": "Ann", "optIn": True}, {"name": "Bob", "optIn": False}, {"name": "Cy"}]


def test_only_the_items_that_pass_are_kept(run_node: Any) -> None:
    assert run_node("filter", OPTED_IN, PEOPLE, type_version=2.2) == [(0, PEOPLE[0])]


def test_the_discarded_items_come_out_on_output_1_when_asked(run_node: Any) -> None:
    results = run_node("filter", OPTED_IN, PEOPLE, type_version=2.2, discarded_output=True)
    assert results == [(0, PEOPLE[0]), (1, PEOPLE[1]), (1, PEOPLE[2])]


def test_a_type_error_stops_the_item_with_its_index(run_node: Any) -> None:
    with pytest.raises(ParameterError) as caught:
        run_node("filter", OPTED_IN, [*PEOPLE, {"optIn": "yes"}], type_version=2.2)
    assert caught.value.item_index == 3
    assert caught.value.message == "Wrong type: 'yes' is a string but was expecting a boolean"


def test_loose_validation_reads_boolean_words(run_node: Any) -> None:
    loose = {**OPTED_IN, "conditions": {**OPTED_IN["conditions"], "options": {"version": 2}}}
    items = [{"optIn": "true"}, {"optIn": "false"}, {"optIn": 1}]
    assert run_node("filter", loose, items, type_version=2.2) == [(0, items[0]), (0, items[2])]


def test_filter_type_versions() -> None:
    with pytest.raises(ParameterError, match="Filter typeVersion 1 is not supported"):
        filter_node.execute({}, {}, item_index=0, type_version=1)
