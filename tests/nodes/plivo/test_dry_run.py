"""--dry-run: writes answered locally (marked, with ids the node accepts), reads passed through.

Unit tests use a recording fake client; the handler tests run the node's own handlers through
the dry-run client; the example tests run every example pipeline against a sandbox the test
owns, in process and through the CLI, and check that the sandbox received no write.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from plivo_node.core.api import ApiResponse, HttpMethod, UploadFile
from plivo_node.core.errors import NotFoundError, ParameterError
from plivo_node.core.items import Item, JsonObject
from plivo_node.core.node import OperationContext
from plivo_node.nodes.plivo.client import PlivoClient
from plivo_node.nodes.plivo.credentials import Credentials
from plivo_node.nodes.plivo.dry_run import DRY_RUN_ID, DryRunClient
from plivo_node.nodes.plivo.resources import application, call, endpoint, mms, number, sms
from plivo_node.nodes.plivo.validation.fields import check_numeric_id
from plivo_node.run.item_io import read_items
from plivo_node.run.pipeline import build_steps, load_pipeline
from plivo_node.run.registry import NodeRegistry
from plivo_node.run.runner import execute
from plivo_sandbox import Sandbox, SandboxConfig

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _served(path: Path) -> bool:
    """Whether the example starts with a webhook trigger: `serve` runs it (tests/serve)."""
    steps = yaml.safe_load(path.read_text()).get("steps") or [{}]
    node = steps[0].get("node")
    registry = NodeRegistry()
    return node in registry.names() and registry.get(node).type.webhook is not None


EXAMPLE_FILES = sorted(path for path in EXAMPLES.glob("*.yaml") if not _served(path))
AUTH_ID = "MADRYRUNTEST00000001"
AUTH_TOKEN = "dry-run-test-token-never-printed"
REAL_APP_ID = "20468599130939380"
REAL_APP = {"app_id": REAL_APP_ID, "app_name": "real", "answer_url": "https://example.com/a"}
PASSWORD = "s3cret-endpoint-pw"


class RecordingClient:
    """Records every request; answers GETs of known paths, 404 for any other request."""

    def __init__(self, objects: Mapping[str, JsonObject] | None = None) -> None:
        self.objects = dict(objects or {})
        self.requests: list[tuple[str, str, dict[str, Any] | None]] = []

    @property
    def auth_id(self) -> str:
        return AUTH_ID

    async def request(
        self,
        method: HttpMethod,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Sequence[UploadFile] | None = None,
    ) -> ApiResponse:
        self.requests.append((method, path, dict(query) if query is not None else None))
        if method == "GET" and path in self.objects:
            return ApiResponse(200, {"api_id": "real-api-id", **self.objects[path]})
        raise NotFoundError(status=404, method=method, path=path, error_text="not found")

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in self.requests if m != "GET"]


def is_uuid(value: object) -> bool:
    try:
        parsed = uuid.UUID(str(value))
    except ValueError:
        return False
    return str(parsed) == value and parsed.version == 4


def assert_marked(body: Mapping[str, Any] | None) -> None:
    assert body is not None
    assert body["api_id"] == DRY_RUN_ID
    assert "dry run" in body["message"]


async def run(handler: Any, client: DryRunClient, params: Mapping[str, Any]) -> list[JsonObject]:
    ctx = OperationContext(params=dict(params), item=Item(json={}), item_index=0, client=client)
    result: list[JsonObject] = await handler(ctx)
    return result


# --- simulated writes ----------------------------------------------------------------------


async def test_message_send_gets_one_uuid_per_unique_destination() -> None:
    inner = RecordingClient()
    client = DryRunClient(inner, auth_id=AUTH_ID)
    body = {"src": "14155550100", "dst": "14155550101<14155550102<14155550101", "text": "hi"}
    response = await client.request("POST", "Message/", body=body)
    assert response.status == 202
    assert_marked(response.body)
    assert response.body is not None
    uuids = response.body["message_uuid"]
    assert len(uuids) == 2
    assert len(set(uuids)) == 2
    assert all(is_uuid(u) for u in uuids)
    assert inner.requests == []
    assert client.writes == 1


async def test_call_answers_a_single_uuid_or_a_list_as_plivo_does() -> None:
    inner = RecordingClient()
    client = DryRunClient(inner, auth_id=AUTH_ID)
    one = await client.request("POST", "Call/", body={"to": "14155550101"})
    many = await client.request("POST", "Call/", body={"to": "14155550101<14155550102"})
    assert one.status == many.status == 201
    assert_marked(one.body)
    assert_marked(many.body)
    assert one.body is not None
    assert many.body is not None
    assert is_uuid(one.body["request_uuid"])
    assert isinstance(many.body["request_uuid"], list)
    assert len(many.body["request_uuid"]) == 2
    assert all(is_uuid(u) for u in many.body["request_uuid"])
    assert inner.requests == []


async def test_media_upload_answers_one_object_per_file() -> None:
    inner = RecordingClient()
    client = DryRunClient(inner, auth_id=AUTH_ID)
    files = [UploadFile("a.jpg", "image/jpeg", b"123"), UploadFile("b.png", "image/png", b"45")]
    response = await client.request("POST", "Media/", files=files)
    assert response.status == 201
    assert_marked(response.body)
    assert response.body is not None
    objects = response.body["objects"]
    assert [(o["file_name"], o["size"], o["status"]) for o in objects] == [
        ("a.jpg", 3, "success"),
        ("b.png", 2, "success"),
    ]
    assert all(is_uuid(o["media_id"]) for o in objects)
    assert inner.requests == []


async def test_simulated_ids_are_unique_across_kinds() -> None:
    client = DryRunClient(RecordingClient(), auth_id=AUTH_ID)
    ids: list[str] = []
    for _ in range(3):
        app = await client.request("POST", "Application/", body={"app_name": "a"})
        sent = await client.request("POST", "Message/", body={"dst": "14155550101"})
        assert app.body is not None
        assert sent.body is not None
        ids += [app.body["app_id"], *sent.body["message_uuid"]]
    assert len(set(ids)) == len(ids)


async def test_writes_to_other_resources_are_answered_and_marked() -> None:
    inner = RecordingClient()
    client = DryRunClient(inner, auth_id=AUTH_ID)
    created = await client.request("POST", "Subaccount/", body={"name": "x"})
    account = await client.request("POST", "", body={"name": "new name"})
    assert (created.status, account.status) == (201, 202)
    assert_marked(created.body)
    assert_marked(account.body)
    assert inner.requests == []


# --- created objects are remembered ----------------------------------------------------------


async def test_created_application_is_read_updated_and_deleted_locally() -> None:
    inner = RecordingClient()
    client = DryRunClient(inner, auth_id=AUTH_ID)
    created = await client.request(
        "POST",
        "Application/",
        body={
            "app_name": "hotline",
            "answer_url": "https://example.com/answer",
            "answer_method": "GET",
            "default_number_app": True,
            "subaccount": "SA000000000000000001",
        },
    )
    assert created.status == 201
    assert_marked(created.body)
    assert created.body is not None
    app_id = created.body["app_id"]
    assert check_numeric_id(app_id, parameter="app_id", label="Application ID") == app_id
    path = f"Application/{app_id}/"

    got = await client.request("GET", path)
    assert got.body is not None
    assert_marked(got.body)
    assert got.body["app_id"] == app_id
    assert got.body["app_name"] == "hotline"
    assert got.body["answer_method"] == "GET"
    assert got.body["hangup_url"] == "https://example.com/answer"  # Plivo's default
    assert got.body["default_app"] is True  # answered under Plivo's name for it
    assert got.body["sub_account"] == "SA000000000000000001"
    assert got.body["message_url"] == ""
    assert got.body["resource_uri"] == f"/v1/Account/{AUTH_ID}/{path}"

    changed = await client.request("POST", path, body={"answer_url": "https://example.com/v2"})
    assert changed.status == 202
    assert_marked(changed.body)
    again = await client.request("GET", path)
    assert again.body is not None
    assert again.body["answer_url"] == "https://example.com/v2"
    assert again.body["app_name"] == "hotline"  # untouched fields are kept

    deleted = await client.request("DELETE", path)
    assert deleted == ApiResponse(204, None)
    with pytest.raises(NotFoundError) as raised:
        await client.request("GET", path)
    assert raised.value.status == 404
    with pytest.raises(NotFoundError):
        await client.request("DELETE", path)
    assert inner.requests == []


async def test_created_endpoint_never_keeps_its_password() -> None:
    inner = RecordingClient()
    client = DryRunClient(inner, auth_id=AUTH_ID)
    created = await client.request(
        "POST",
        "Endpoint/",
        body={"username": "desk", "password": PASSWORD, "alias": "Desk", "app_id": REAL_APP_ID},
    )
    assert created.status == 201
    assert_marked(created.body)
    assert created.body is not None
    endpoint_id = created.body["endpoint_id"]
    assert endpoint_id.isdigit()
    assert re.fullmatch(r"desk\d{12}", created.body["username"])
    assert created.body["alias"] == "Desk"
    path = f"Endpoint/{endpoint_id}/"

    await client.request("POST", path, body={"alias": "Lobby", "password": PASSWORD + "2"})
    got = await client.request("GET", path)
    assert got.body is not None
    assert_marked(got.body)
    assert got.body["endpoint_id"] == endpoint_id
    assert got.body["alias"] == "Lobby"
    assert got.body["username"] == created.body["username"]
    assert got.body["sip_uri"] == f"sip:{created.body['username']}@phone.plivo.com"
    assert got.body["application"] == f"/v1/Account/{AUTH_ID}/Application/{REAL_APP_ID}/"
    assert "password" not in got.body
    everything = json.dumps([created.body, got.body, vars(client)], default=str)
    assert PASSWORD not in everything
    assert inner.requests == []


# --- real objects ----------------------------------------------------------------------------


async def test_reads_of_real_objects_go_to_the_server_with_their_query() -> None:
    inner = RecordingClient({f"Application/{REAL_APP_ID}/": REAL_APP, "Pricing/": {"x": 1}})
    client = DryRunClient(inner, auth_id=AUTH_ID)
    got = await client.request("GET", f"Application/{REAL_APP_ID}/")
    priced = await client.request("GET", "Pricing/", query={"country_iso": "US"})
    assert got.body == {"api_id": "real-api-id", **REAL_APP}
    assert priced.body == {"api_id": "real-api-id", "x": 1}
    assert inner.requests == [
        ("GET", f"Application/{REAL_APP_ID}/", None),
        ("GET", "Pricing/", {"country_iso": "US"}),
    ]
    with pytest.raises(NotFoundError):
        await client.request("GET", "Application/1/")
    assert client.writes == 0


async def test_update_of_a_real_object_checks_it_exists_and_shows_the_unsent_change() -> None:
    path = f"Application/{REAL_APP_ID}/"
    inner = RecordingClient({path: REAL_APP})
    client = DryRunClient(inner, auth_id=AUTH_ID)
    changed = await client.request("POST", path, body={"message_url": "https://example.com/m"})
    assert changed.status == 202
    assert_marked(changed.body)
    got = await client.request("GET", path)
    assert got.body is not None
    assert got.body["message_url"] == "https://example.com/m"
    assert got.body["app_name"] == "real"  # the rest is the server's
    assert "not sent" in got.body["message"]
    assert inner.writes == []
    assert [p for _, p, _ in inner.requests] == [path, path]


async def test_number_update_reads_the_number_and_sends_nothing() -> None:
    path = "Number/14155550100/"
    inner = RecordingClient({path: {"number": "14155550100", "alias": None}})
    client = DryRunClient(inner, auth_id=AUTH_ID)
    params = {"number": "+1 415 555 0100", "updateFields": {"alias": "Front desk"}}
    [output] = await number.update(
        OperationContext(params=params, item=Item(json={}), item_index=0, client=client)
    )
    assert_marked(output)
    assert output["number"] == "14155550100"
    got = await client.request("GET", path)
    assert got.body is not None
    assert got.body["alias"] == "Front desk"
    assert inner.writes == []


async def test_update_or_delete_of_a_missing_real_object_fails_as_a_real_run_would() -> None:
    inner = RecordingClient()
    client = DryRunClient(inner, auth_id=AUTH_ID)
    with pytest.raises(NotFoundError):
        await client.request("POST", "Endpoint/123/", body={"alias": "x"})
    with pytest.raises(NotFoundError):
        await client.request("DELETE", "Application/456/")
    assert inner.writes == []


async def test_delete_of_a_real_object_hides_it_from_later_reads() -> None:
    path = f"Application/{REAL_APP_ID}/"
    inner = RecordingClient({path: REAL_APP})
    client = DryRunClient(inner, auth_id=AUTH_ID)
    assert await client.request("DELETE", path) == ApiResponse(204, None)
    with pytest.raises(NotFoundError):
        await client.request("GET", path)
    assert inner.writes == []
    assert inner.requests == [("GET", path, None)]  # the existence check only


# --- the node's handlers through the dry-run client -------------------------------------------


async def test_application_lifecycle_through_the_handlers() -> None:
    inner = RecordingClient()
    client = DryRunClient(inner, auth_id=AUTH_ID)
    [created] = await run(
        application.create,
        client,
        {"app_name": "hotline", "answer_url": "https://example.com/a", "answer_method": "GET"},
    )
    app_id = created["app_id"]
    [updated] = await run(
        application.update,
        client,
        {"app_id": app_id, "updateFields": {"log_incoming_messages": False}},
    )
    [got] = await run(application.get, client, {"app_id": app_id})
    [deleted] = await run(application.delete, client, {"app_id": got["app_id"]})
    assert updated["id"] == app_id
    assert "dry run" in updated["message"]
    assert got["log_incoming_messages"] is False
    assert "dry run" in got["message"]
    assert deleted == {"success": True, "id": app_id}
    with pytest.raises(NotFoundError):
        await run(application.get, client, {"app_id": app_id})
    assert inner.requests == []


async def test_endpoint_lifecycle_through_the_handlers() -> None:
    inner = RecordingClient()
    client = DryRunClient(inner, auth_id=AUTH_ID)
    [created] = await run(
        endpoint.create, client, {"username": "desk", "password": PASSWORD, "alias": "Desk"}
    )
    endpoint_id = created["endpoint_id"]
    await run(endpoint.update, client, {"endpoint_id": endpoint_id, "updateFields": {"alias": "L"}})
    [got] = await run(endpoint.get, client, {"endpoint_id": endpoint_id})
    [deleted] = await run(endpoint.delete, client, {"endpoint_id": got["endpoint_id"]})
    assert got["alias"] == "L"
    assert "dry run" in got["message"]
    assert deleted == {"success": True, "id": endpoint_id}
    assert PASSWORD not in json.dumps([created, got])
    assert inner.requests == []


async def test_sends_through_the_handlers_are_marked_in_their_output() -> None:
    inner = RecordingClient()
    client = DryRunClient(inner, auth_id=AUTH_ID)
    sender = {"from": "+14155550100"}
    [sms_out] = await run(sms.send, client, {**sender, "to": "+14155550101", "message": "hi"})
    [mms_out] = await run(
        mms.send,
        client,
        {**sender, "to": "+14165550123", "message": "hi", "media_urls": "https://e.com/a.jpg"},
    )
    [call_out] = await run(
        call.make, client, {**sender, "to": "+14155550101", "answer_url": "https://e.com/a.xml"}
    )
    for output in (sms_out, mms_out, call_out):
        assert output["api_id"] == DRY_RUN_ID
        assert "dry run: not sent" in output["message"]
    assert is_uuid(sms_out["message_uuid"][0])
    assert is_uuid(mms_out["message_uuid"][0])
    assert is_uuid(call_out["request_uuid"])
    assert inner.requests == []


async def test_invalid_items_still_fail_in_a_dry_run() -> None:
    client = DryRunClient(RecordingClient(), auth_id=AUTH_ID)
    with pytest.raises(ParameterError):
        await run(sms.send, client, {"from": "+14155550100", "to": "12", "message": "hi"})
    with pytest.raises(ParameterError):
        await run(application.get, client, {"app_id": "dry-run"})


# --- every example, against a sandbox the test owns -------------------------------------------


def sandbox_config() -> SandboxConfig:
    return SandboxConfig(auth_id=AUTH_ID, auth_token=AUTH_TOKEN)


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.stem)
async def test_every_example_dry_runs_in_process_without_writes(example: Path) -> None:
    spec = load_pipeline(example)
    steps = build_steps(spec)
    items = read_items(spec.input_path) if spec.input_path else [Item(json={})]
    lines: list[str] = []
    config = sandbox_config()
    async with Sandbox(config) as sandbox:
        credentials = Credentials(config.auth_id, config.auth_token, sandbox.url)
        async with PlivoClient(credentials) as live:
            dry = DryRunClient(live, auth_id=config.auth_id)
            summary = await execute(steps, items, {"plivo": dry}, lines.append)
        writes = [r for r in sandbox.state.request_log if r.method != "GET"]
    assert writes == []
    assert summary.stopped is None
    assert summary.failed == 0, lines
    assert lines
    for line in lines:
        output = json.loads(line)["json"]
        if "api_id" in output and ("message_uuid" in output or "request_uuid" in output):
            assert output["api_id"] == DRY_RUN_ID  # every send's output says it was not sent


def journal_files(directory: Path) -> list[Path]:
    return list(directory.glob("*.journal*"))


async def test_every_example_dry_runs_through_the_cli_with_exit_0_and_no_write(
    plivo_node: Any,
    tmp_path: Path,
) -> None:
    async with Sandbox(sandbox_config()) as sandbox:
        for example in EXAMPLE_FILES:
            output = tmp_path / f"{example.stem}.jsonl"
            code, err = await plivo_node(
                sandbox,
                "run",
                str(example),
                "--dry-run",  # no --no-journal: a dry run must not keep one anyway
                "--no-progress",
                "--output",
                str(output),
            )
            assert code == 0, f"{example.name}: {err}"
            assert "dry run finished" in err
            assert output.read_text().strip()
            assert AUTH_TOKEN not in err
            assert "Rc7-sandbox-only" not in err + output.read_text()
        writes = [r for r in sandbox.state.request_log if r.method != "GET"]
        reads = [r for r in sandbox.state.request_log if r.method == "GET"]
    assert writes == []
    assert reads  # the dry runs did read: lookups, listings and pricing reach the server
    assert journal_files(tmp_path) == []  # a dry run keeps no journal
