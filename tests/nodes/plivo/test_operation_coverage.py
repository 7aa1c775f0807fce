"""Every operation of the node has a handler, and the sandbox serves the requests it makes.

The manifest is the source of truth: each (resource, operation) it offers must be in
``HANDLERS``, and running that handler, with a minimal valid parameter set resolved the way a
pipeline resolves it, against a real :class:`Sandbox` through the real :class:`PlivoClient`
must produce output and no error. An operation added to the manifest without a handler, a
sandbox route or an entry in ``MINIMAL_PARAMETERS`` below fails here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from plivo_node.core.api import ApiClient
from plivo_node.core.items import Item
from plivo_node.core.node import OperationContext
from plivo_node.description.parameters import ParameterResolver
from plivo_node.expressions import ExpressionContext
from plivo_node.nodes.plivo.client import PlivoClient
from plivo_node.nodes.plivo.credentials import Credentials
from plivo_node.nodes.plivo.description import plivo_description
from plivo_node.nodes.plivo.resources import HANDLERS
from plivo_sandbox import Sandbox, SandboxConfig

DESCRIPTION = plivo_description()
MANIFEST_OPERATIONS = sorted(DESCRIPTION.operations())

FROM = "+14155550100"  # a seeded number of the sandbox account
TO = "+14155550123"

Parameters = dict[str, Any]
ParameterBuilder = Callable[[ApiClient], Awaitable[Parameters]]


async def first_object(client: ApiClient, path: str) -> dict[str, Any]:
    """The first object of a seeded listing (its answer is Plivo's paged envelope)."""
    response = await client.request("GET", path, query={"limit": 1, "offset": 0})
    assert response.body is not None
    objects = response.body["objects"]
    assert objects, f"the sandbox has no seeded objects at {path}"
    return dict(objects[0])


async def seeded_app_id(client: ApiClient) -> str:
    return str((await first_object(client, "Application/"))["app_id"])


async def seeded_endpoint_id(client: ApiClient) -> str:
    return str((await first_object(client, "Endpoint/"))["endpoint_id"])


async def new_app_id(client: ApiClient) -> str:
    """An application made for the test, so deleting it leaves the seeded ones alone."""
    response = await client.request(
        "POST",
        "Application/",
        body={"app_name": "coverage-app", "answer_url": "https://example.com/answer"},
    )
    assert response.body is not None
    return str(response.body["app_id"])


async def new_endpoint_id(client: ApiClient) -> str:
    response = await client.request(
        "POST",
        "Endpoint/",
        body={"username": "coverage", "password": "coverage-secret", "alias": "Coverage"},
    )
    assert response.body is not None
    return str(response.body["endpoint_id"])


def fixed(parameters: Parameters) -> ParameterBuilder:
    async def build(client: ApiClient) -> Parameters:
        return parameters

    return build


def with_id(
    name: str, make_id: Callable[[ApiClient], Awaitable[str]], **rest: Any
) -> ParameterBuilder:
    async def build(client: ApiClient) -> Parameters:
        return {name: await make_id(client), **rest}

    return build


async def sent_message_uuid(client: ApiClient) -> str:
    response = await client.request(
        "POST", "Message/", body={"src": FROM[1:], "dst": TO[1:], "text": "Coverage check"}
    )
    assert response.body is not None
    return str(response.body["message_uuid"][0])


async def seeded_number(client: ApiClient) -> Parameters:
    return {"number": (await first_object(client, "Number/"))["number"]}


async def _after_a_send(client: ApiClient) -> Parameters:
    await sent_message_uuid(client)  # so that the list has something to return
    return {}


async def _number_update(client: ApiClient) -> Parameters:
    return {**await seeded_number(client), "updateFields": {"alias": "Renamed"}}


# The smallest parameter set each operation runs with (resource and operation are added).
MINIMAL_PARAMETERS: dict[tuple[str, str], ParameterBuilder] = {
    ("sms", "send"): fixed({"from": FROM, "to": TO, "message": "Coverage check"}),
    ("mms", "send"): fixed(
        {"from": FROM, "to": TO, "media_urls": "https://example.com/media/photo.jpg"}
    ),
    ("call", "make"): fixed({"from": FROM, "to": TO, "answer_url": "https://example.com/answer"}),
    ("account", "get"): fixed({}),
    ("application", "create"): fixed(
        {"app_name": "coverage-create", "answer_url": "https://example.com/answer"}
    ),
    ("application", "delete"): with_id("app_id", new_app_id),
    ("application", "get"): with_id("app_id", seeded_app_id),
    ("application", "getAll"): fixed({}),
    ("application", "update"): with_id(
        "app_id", seeded_app_id, updateFields={"answer_url": "https://example.com/v2"}
    ),
    ("conference", "getAll"): fixed({}),
    ("endpoint", "create"): fixed(
        {"username": "coveragecreate", "password": "create-secret", "alias": "Coverage create"}
    ),
    ("endpoint", "delete"): with_id("endpoint_id", new_endpoint_id),
    ("endpoint", "get"): with_id("endpoint_id", seeded_endpoint_id),
    ("endpoint", "getAll"): fixed({}),
    ("endpoint", "update"): with_id(
        "endpoint_id", seeded_endpoint_id, updateFields={"alias": "Renamed"}
    ),
    ("message", "get"): with_id("message_uuid", sent_message_uuid),
    ("message", "getAll"): _after_a_send,
    ("number", "get"): seeded_number,
    ("number", "getAll"): fixed({}),
    ("number", "update"): _number_update,
    ("pricing", "get"): fixed({"country_iso": "US"}),
}


def test_the_manifest_has_operations() -> None:
    # Guards the parametrisation below against silently running over nothing.
    assert len(MANIFEST_OPERATIONS) >= 18


def test_every_manifest_operation_has_a_handler_and_no_handler_is_extra() -> None:
    assert set(HANDLERS) == set(DESCRIPTION.operations())


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig()) as running:
        yield running


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[PlivoClient]:
    credentials = Credentials(
        auth_id=sandbox.config.auth_id,
        auth_token=sandbox.config.auth_token,
        base_url=sandbox.url,
    )
    async with PlivoClient(credentials, timeout=10.0) as plivo:
        yield plivo


@pytest.mark.parametrize("key", MANIFEST_OPERATIONS, ids=".".join)
async def test_operation_runs_against_the_sandbox(
    key: tuple[str, str], sandbox: Sandbox, client: PlivoClient
) -> None:
    resource, operation = key
    assert key in HANDLERS, f"{resource}.{operation} is in the manifest but has no handler"
    assert key in MINIMAL_PARAMETERS, (
        f"{resource}.{operation} has no minimal parameter set in this test; add one"
    )
    raw = {"resource": resource, "operation": operation, **await MINIMAL_PARAMETERS[key](client)}
    resolver = ParameterResolver(DESCRIPTION, raw, step_name=f"{resource}.{operation}")
    params = resolver.resolve(ExpressionContext(json={}, item_index=0))
    requests_before = len(sandbox.state.request_log)

    outputs = await HANDLERS[key](
        OperationContext(params=params, item=Item(json={}), item_index=0, client=client)
    )

    assert outputs, f"{resource}.{operation} returned no output item"
    for output in outputs:
        assert isinstance(output, dict)
        assert "error" not in output
    assert len(sandbox.state.request_log) > requests_before, "the handler made no request"


def test_every_minimal_parameter_set_names_a_manifest_operation() -> None:
    # A stale entry here would hide a renamed operation.
    assert set(MINIMAL_PARAMETERS) == set(DESCRIPTION.operations())
