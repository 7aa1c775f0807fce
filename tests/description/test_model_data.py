"""Building the description models from JSON data: exact types, located problems, round trips."""

from __future__ import annotations

import json

import pytest

from plivo_node.description import NodeDescription, OptionValue, Property
from plivo_node.description.model_data import ModelDataError
from plivo_node.nodes.plivo.description import manifest_path

PROPERTY = {"displayName": "Speed", "name": "speed", "type": "number", "default": 1}


def test_lists_become_tuples_and_nested_objects_become_models() -> None:
    prop = Property.from_data(
        {
            **PROPERTY,
            "type": "options",
            "options": [{"name": "Fast", "value": 2}, {"name": "On", "value": True}],
            "displayOptions": {"show": {"resource": ["sms", {"_cnd": {"eq": 1}}]}},
        }
    )
    assert prop.options == (OptionValue(name="Fast", value=2), OptionValue(name="On", value=True))
    assert prop.option_values() == (2, True)
    assert type(prop.option_values()[1]) is bool  # True is not taken for the number 1
    assert prop.displayOptions is not None
    assert prop.displayOptions.show == {"resource": ("sms", {"_cnd": {"eq": 1}})}


def test_a_collection_holds_properties_not_option_values() -> None:
    collection = Property.from_data(
        {**PROPERTY, "type": "collection", "default": {}, "options": [PROPERTY]}
    )
    assert collection.fields() == (Property.from_data(PROPERTY),)


@pytest.mark.parametrize(
    ("change", "location", "message"),
    [
        ({"colour": "red"}, ("colour",), "unknown key"),
        ({"name": None}, ("name",), "expected a string"),
        ({"required": "yes"}, ("required",), "expected true or false"),
        ({"type": "colour"}, ("type",), "expected one of"),
        ({"options": [{"name": "x"}]}, ("options", 0, "value"), "required key missing"),
    ],
)
def test_data_that_does_not_fit_names_where_and_why(
    change: dict[str, object], location: tuple[object, ...], message: str
) -> None:
    with pytest.raises(ModelDataError) as caught:
        Property.from_data({**PROPERTY, **change})
    assert caught.value.location == location
    assert message in caught.value.message


def test_a_missing_key_is_reported() -> None:
    data = dict(PROPERTY)
    del data["default"]
    with pytest.raises(ModelDataError, match="required key missing") as caught:
        Property.from_data(data)
    assert caught.value.location == ("default",)


def test_the_bundled_description_round_trips_through_json() -> None:
    from plivo_node.description import load_node_description  # noqa: PLC0415

    node = load_node_description(manifest_path())
    again = NodeDescription.from_data(json.loads(json.dumps(node.to_data())))
    assert again == node
    assert again.to_n8n_json() == node.to_n8n_json()
