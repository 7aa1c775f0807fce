"""Per-item parameter resolution: n8n's defaults, visibility, collections, types and errors."""

from __future__ import annotations

from typing import Any

import pytest

from plivo_node.core.errors import ExpressionError, ParameterError, PipelineError
from plivo_node.core.redaction import redact
from plivo_node.description import NodeDescription
from plivo_node.description.parameters import ParameterResolver
from plivo_node.expressions import ExpressionContext
from plivo_node.nodes.plivo.description import plivo_description


@pytest.fixture(scope="module")
def node() -> NodeDescription:
    return plivo_description()


def resolver(node: NodeDescription, **parameters: Any) -> ParameterResolver:
    return ParameterResolver(node, parameters, step_name="Step 1")


def item(index: int = 0, **json: Any) -> ExpressionContext:
    return ExpressionContext(json=json, item_index=index)


def problems_of(node: NodeDescription, **parameters: Any) -> list[str]:
    with pytest.raises(PipelineError) as caught:
        resolver(node, **parameters)
    assert caught.value.source == "step 'Step 1'"
    return caught.value.problems


SMS = {"resource": "sms", "operation": "send"}
CALL = {"resource": "call", "operation": "make", "from": "+14155550100", "to": "+14155550101"}
CALL["answer_url"] = "https://example.com/answer"


# --- defaults and visibility -------------------------------------------------------------------


def test_defaults_fill_in_and_only_the_operations_parameters_are_returned(
    node: NodeDescription,
) -> None:
    params = resolver(node, **SMS, to="+14155550101", message="Hi").resolve(item())
    assert params == {
        "resource": "sms",
        "operation": "send",
        "from": "",
        "to": "+14155550101",
        "message": "Hi",
        "type": "sms",
        "url": "",
        "method": "POST",
        "log": True,
        "trackable": False,
        "additionalFields": {},
    }


def test_stored_false_and_zero_are_real_values(node: NodeDescription) -> None:
    params = resolver(node, **CALL, ring_timeout=0, send_on_preanswer=False).resolve(item())
    assert params["ring_timeout"] == 0
    assert params["send_on_preanswer"] is False
    sms = resolver(node, **SMS, to="1", message="m", log=False).resolve(item())
    assert sms["log"] is False


def test_limit_is_dropped_when_return_all_is_true(node: NodeDescription) -> None:
    every = resolver(node, resource="application", operation="getAll", returnAll=True, limit=5)
    assert every.resolve(item()) == {
        "resource": "application",
        "operation": "getAll",
        "returnAll": True,
    }
    some = resolver(node, resource="application", operation="getAll", limit=5)
    assert some.resolve(item())["limit"] == 5


def test_same_name_takes_the_definition_shown_for_the_operation(node: NodeDescription) -> None:
    sms = resolver(node, **SMS, to="1", message="m", type="unicode").resolve(item())
    mms = resolver(node, resource="mms", operation="send", **{"from": "1"}, to="2").resolve(item())
    numbers = resolver(node, resource="number", operation="getAll", type="tollfree")
    assert (sms["type"], mms["type"], numbers.resolve(item())["type"]) == (
        "unicode",
        "mms",
        "tollfree",
    )
    assert "trackable" not in mms  # shown for sms only
    with pytest.raises(PipelineError, match="'mms' is not one of the allowed values"):
        resolver(node, **SMS, to="1", message="m", type="mms")


# --- collections ---------------------------------------------------------------------------------


def test_collections_hold_only_the_fields_given_and_are_not_shared(node: NodeDescription) -> None:
    step = resolver(
        node,
        **CALL,
        additionalFields={"machine_detection": "hangup", "machine_detection_time": "3000"},
    )
    first = step.resolve(item(0))
    assert first["additionalFields"] == {
        "machine_detection": "hangup",
        "machine_detection_time": 3000,
    }
    first["additionalFields"]["machine_detection"] = "changed"
    assert step.resolve(item(1))["additionalFields"]["machine_detection"] == "hangup"


def test_update_fields_and_multi_options(node: NodeDescription) -> None:
    update = resolver(
        node,
        resource="application",
        operation="update",
        app_id="123",
        updateFields={"default_number_app": "false", "answer_method": "get"},
    ).resolve(item())
    assert update["updateFields"] == {"default_number_app": False, "answer_method": "GET"}
    numbers = resolver(
        node,
        resource="number",
        operation="getAll",
        additionalFields={"services": "voice, sms,voice"},
    ).resolve(item())
    assert numbers["additionalFields"] == {"services": ["voice", "sms"]}
    as_list = resolver(
        node, resource="number", operation="getAll", additionalFields={"services": ["MMS"]}
    ).resolve(item())
    assert as_list["additionalFields"] == {"services": ["mms"]}


def test_unknown_collection_fields_are_refused_with_the_valid_ones(node: NodeDescription) -> None:
    assert problems_of(node, **SMS, to="1", message="m", additionalFields={"powerpak": "x"}) == [
        (
            "parameters.additionalFields.powerpak: unknown field of 'Additional Fields' for sms "
            "send; did you mean 'powerpack_uuid'? (valid fields: dlt_entity_id, dlt_template_id, "
            "media_urls, powerpack_uuid)"
        ),
    ]
    assert problems_of(node, **SMS, to="1", message="m", additionalFields="={{ {} }}") == [
        (
            "parameters.additionalFields: expected a mapping of fields, got a string (give each "
            "field its own value (fields may hold expressions))"
        ),
    ]


# --- literal checks and coercion -------------------------------------------------------------


def test_literals_are_coerced_to_their_types(node: NodeDescription) -> None:
    params = resolver(
        node,
        **{**CALL, "to": 14155550101},
        time_limit="600",
        ring_timeout=30.0,
        send_on_preanswer="TRUE",
        answer_method="get",
        additionalFields={"machine_detection": True, "hangup_on_ring": "12.5"},
    ).resolve(item())
    assert params["to"] == "14155550101"
    assert params["time_limit"] == 600
    assert isinstance(params["ring_timeout"], int)
    assert params["send_on_preanswer"] is True
    assert params["answer_method"] == "GET"
    assert params["additionalFields"] == {"machine_detection": "true", "hangup_on_ring": 12.5}
    mms = resolver(
        node, resource="mms", operation="send", **{"from": "1"}, to="2", media_urls=["a", "b"]
    ).resolve(item())
    assert mms["media_urls"] == "a,b"


def test_every_bad_literal_is_reported_before_any_item(node: NodeDescription) -> None:
    assert problems_of(
        node,
        **CALL,
        time_limit="soon",
        ring_timeout=-1,
        answer_method="PUT",
        send_on_preanswer="yes",
        additionalFields={"machine_detection_time": 100, "sip_headers": {"a": "b"}},
    ) == [
        (
            "parameters.answer_method: 'PUT' is not one of the allowed values ('GET', 'POST') (set "
            "'Answer Method' to one of 'GET', 'POST')"
        ),
        (
            "parameters.send_on_preanswer: 'yes' is not true or false (set 'Send On Preanswer' to "
            'true or false (the strings "true"/"false" work too))'
        ),
        (
            "parameters.time_limit: 'soon' is not a number (set 'Time Limit' to a number from 1 to "
            "86400)"
        ),
        (
            "parameters.ring_timeout: -1 is below the minimum of 0 (set 'Timeout' to a number of "
            "at least 0)"
        ),
        (
            "parameters.additionalFields.machine_detection_time: 100 is below the minimum of 2000 "
            "(set 'Machine Detection Time' to a number from 2000 to 10000)"
        ),
        (
            "parameters.additionalFields.sip_headers: expected text, got an object (give 'SIP "
            "Headers' a string, or an expression that yields one)"
        ),
    ]


def test_required_applies_only_to_the_parameters_shown(node: NodeDescription) -> None:
    # 'from' is optional for SMS (a Powerpack can replace it); 'number' belongs to number.get.
    resolver(node, **SMS, to="1", message="m", additionalFields={"powerpack_uuid": "p"})
    resolver(node, resource="number", operation="getAll")
    assert problems_of(node, resource="call", operation="make", to="", answer_url="u") == [
        (
            "parameters.from: 'From' is required (set parameters.from to a value, or to an "
            "expression such as ={{ $json.from }} that reads it from each item)"
        ),
        (
            "parameters.to: 'To' is required (set parameters.to to a value, or to an expression "
            "such as ={{ $json.to }} that reads it from each item)"
        ),
    ]


def test_unknown_parameters_are_refused_with_the_valid_names(node: NodeDescription) -> None:
    assert problems_of(node, resource="pricing", operation="get", country="US") == [
        (
            "parameters.country: unknown parameter for pricing get; did you mean 'country_iso'? "
            "(valid parameters: country_iso, operation, resource)"
        ),
        (
            "parameters.country_iso: 'Country ISO' is required (set parameters.country_iso to a "
            "value, or to an expression such as ={{ $json.country_iso }} that reads it from each "
            "item)"
        ),
    ]


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        (
            {"resource": "fax", "operation": "send"},
            (
                "parameters.resource: 'fax' is not a resource of the node (valid: account, "
                "application, call, conference, endpoint, message, mms, number, pricing, sms)"
            ),
        ),
        (
            {"resource": "sms", "operation": "getAll"},
            "parameters.operation: 'getAll' is not an operation of resource 'sms' (valid: send)",
        ),
        (
            {"resource": "endpoint", "operation": "updat"},
            (
                "parameters.operation: 'updat' is not an operation of resource 'endpoint' (valid: "
                "create, delete, get, getAll, update); did you mean 'update'?"
            ),
        ),
        (
            {"resource": "={{ $json.kind }}", "operation": "send"},
            (
                "parameters.resource: '={{ $json.kind }}' is an expression, but the resource must "
                "be a fixed value (one of: account, application, call, conference, endpoint, "
                "message, mms, number, pricing, sms)"
            ),
        ),
    ],
)
def test_resource_and_operation_are_checked_first(
    node: NodeDescription, parameters: dict[str, Any], problem: str
) -> None:
    assert problems_of(node, **parameters) == [problem]


def test_resolver_exposes_resource_and_operation(node: NodeDescription) -> None:
    step = resolver(node, resource="conference", operation="getAll")
    assert (step.resource, step.operation) == ("conference", "getAll")


def test_endpoint_passwords_are_registered_as_secrets(node: NodeDescription) -> None:
    assert redact("password was s3cret-pass") == "password was s3cret-pass"  # not yet known
    step = resolver(
        node,
        resource="endpoint",
        operation="update",
        endpoint_id="42",
        updateFields={"password": "s3cret-pass"},
    )
    assert step.resolve(item())["updateFields"] == {"password": "s3cret-pass"}
    assert redact("password was s3cret-pass") == "password was ********"
    per_item = resolver(
        node, resource="endpoint", operation="create", username="u", alias="a",
        password="={{ $json.pw }}",
    )  # fmt: skip
    assert per_item.resolve(item(0, pw="hunter22"))["password"] == "hunter22"
    assert redact("hunter22") == "********"


# --- per-item expressions ----------------------------------------------------------------------


def test_expressions_are_evaluated_per_item_and_checked(node: NodeDescription) -> None:
    step = resolver(
        node,
        **SMS,
        to="={{ $json.phone }}",
        message="=Hello {{ $json.name }}",
        additionalFields={"powerpack_uuid": "={{ $json.pack }}"},
    )
    first = step.resolve(item(0, phone=14155550101, name="Ada", pack="p-1"))
    second = step.resolve(item(1, phone="+14155550102", name="Bob", pack="p-2"))
    assert (first["to"], first["message"], first["additionalFields"]) == (
        "14155550101",
        "Hello Ada",
        {"powerpack_uuid": "p-1"},
    )
    assert (second["to"], second["message"]) == ("+14155550102", "Hello Bob")


def test_expression_errors_name_the_item_and_the_parameter(node: NodeDescription) -> None:
    step = resolver(
        node,
        resource="endpoint",
        operation="getAll",
        limit="={{ $json.count }}",
    )
    assert step.resolve(item(0, count="7"))["limit"] == 7
    with pytest.raises(ParameterError) as caught:
        step.resolve(item(2, count=0))
    error = caught.value
    assert (error.item_index, error.parameter) == (2, "limit")
    assert error.message == "0 is below the minimum of 1"
    assert error.hint == "set 'Limit' to a number of at least 1"
    assert str(error) == (
        "Item 2, parameter 'limit': 0 is below the minimum of 1 (set 'Limit' to a number of at "
        "least 1)"
    )


def test_required_expression_giving_nothing_is_an_item_error(node: NodeDescription) -> None:
    step = resolver(node, **SMS, to="={{ $json.phone }}", message="hi")
    with pytest.raises(ParameterError) as caught:
        step.resolve(item(5, phone=""))
    assert (caught.value.item_index, caught.value.parameter) == (5, "to")
    assert caught.value.message == "'To' is required, but its expression gave an empty value"


def test_collection_field_expressions_report_dotted_names(node: NodeDescription) -> None:
    step = resolver(node, **CALL, additionalFields={"machine_detection_time": "={{ $json.wait }}"})
    assert step.resolve(item(0, wait="2500"))["additionalFields"] == {
        "machine_detection_time": 2500
    }
    with pytest.raises(ParameterError) as caught:
        step.resolve(item(3, wait="later"))
    assert caught.value.parameter == "additionalFields.machine_detection_time"
    assert caught.value.item_index == 3


def test_return_all_from_an_expression_decides_limit_per_item(node: NodeDescription) -> None:
    step = resolver(
        node, resource="number", operation="getAll", returnAll="={{ $json.all }}", limit=3
    )
    assert "limit" not in step.resolve(item(0, all=True))
    assert step.resolve(item(1, all="false"))["limit"] == 3


def test_expression_failures_carry_the_item_index(node: NodeDescription) -> None:
    step = resolver(node, **SMS, to="1", message="={{ $json.a.b.c }}")
    with pytest.raises(ExpressionError) as caught:
        step.resolve(item(4, a=None))
    assert caught.value.item_index == 4


def test_bad_expression_syntax_is_reported_once_per_step(node: NodeDescription) -> None:
    problems = problems_of(node, **SMS, to="1", message="={{ $json.name + }}")
    assert len(problems) == 1
    assert problems[0].startswith("parameters.message: ")


def test_no_data_expression_parameters_stay_literal(node: NodeDescription) -> None:
    problems = problems_of(node, resource="sms", operation="={{ $json.op }}")
    assert problems == [
        (
            "parameters.operation: '={{ $json.op }}' is an expression, but the operation must be a "
            "fixed value (one of: send)"
        )
    ]


@pytest.mark.parametrize("text", ["1_000", "١٢٠", "infinity", "0x10", "12abc"])
def test_numbers_use_javascript_syntax_not_pythons(node: NodeDescription, text: str) -> None:
    # Python's int()/float() read "1_000" as 1000 and Arabic-Indic digits as 120.
    expected = f"parameters.time_limit: {text!r} is not a number"
    assert problems_of(node, **CALL, time_limit=text) == [
        f"{expected} (set 'Time Limit' to a number from 1 to 86400)"
    ]


@pytest.mark.parametrize(("text", "number"), [(" 30 ", 30), ("1e2", 100), ("+2.5", 2.5)])
def test_numbers_from_text(node: NodeDescription, text: str, number: float) -> None:
    assert resolver(node, **CALL, time_limit=text).resolve(item())["time_limit"] == number


def test_an_optional_field_given_at_the_top_level_is_pointed_to_its_collection(
    node: NodeDescription,
) -> None:
    assert problems_of(node, **CALL, hangup_on_ring=60) == [
        (
            "parameters.hangup_on_ring: for call make this is a field of 'Additional Fields', not "
            "a parameter of its own (move it under additionalFields)"
        )
    ]
