"""``--dry-run``: every item is resolved, validated and built into its request, nothing is sent.

:class:`DryRunClient` stands between the handlers and the real client. Reads (GET) of real
objects go through, so lookups and pricing still work; every write (sends, creates, updates,
deletes, uploads) is answered locally with the shape Plivo would give, so each handler runs to
its output item and the next step gets what it would get in a real run.

Chained pipelines (create an application, update it, read it back, delete it) work because the
client remembers what it pretended to create, change and delete in this run:

* simulated ids pass the node's own checks: applications and endpoints get digit strings,
  messages, calls and media get UUID-shaped ids (all from fixed, recognisable patterns);
* a later GET / update / DELETE of a simulated object is answered from memory, never sent to
  Plivo (which would answer 404); a deleted object answers 404 afterwards, as Plivo would;
* an update or delete of a real object first reads it (a GET), so a wrong id fails the dry run
  as it would fail the real one; a later GET of it shows the changes that were not sent.

Every simulated answer says so where a user sees it: its ``api_id`` is ``"dry-run"`` and its
``message`` ends in "(dry run: not sent)". An endpoint's password is never remembered.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from typing import Any

from plivo_node.core.api import ApiClient, ApiResponse, HttpMethod, UploadFile
from plivo_node.core.errors import NotFoundError
from plivo_node.core.items import JsonObject
from plivo_node.nodes.plivo.application_defaults import APPLICATION_DEFAULTS

DRY_RUN_ID = "dry-run"
NOTE = "dry run: not sent"
# Simulated ids: 17 digits like Plivo's, starting 9999 so they stand out next to real ones.
SIMULATED_NUMERIC_PREFIX = "9999"
# Simulated UUIDs: valid version-4 UUIDs whose first groups are all zeros.
SIMULATED_UUID_PREFIX = "00000000-0000-4000-8000-"

APPLICATION = "Application"
ENDPOINT = "Endpoint"
NUMBER = "Number"
# Resources whose objects a dry run can pretend to create, and read back by id.
_REMEMBERED = frozenset({APPLICATION, ENDPOINT})
# Real objects whose updates and deletes are checked (a read) and remembered for later reads.
_CHECKED = _REMEMBERED | {NUMBER}

# Request parameter → the field Plivo answers it as.
_APPLICATION_RENAMES = {"default_number_app": "default_app", "subaccount": "sub_account"}
# Sent to Plivo, never given back: never kept by the dry run either.
_WRITE_ONLY = frozenset({"password"})


def _destinations(raw: object) -> list[str]:
    """The unique destinations of a `<`-joined bulk string, in order (as Plivo dedupes them)."""
    return list(dict.fromkeys(part for part in str(raw or "").split("<") if part))


def _split(path: str) -> tuple[str, str | None]:
    """``"Application/123/"`` → ("Application", "123"); ``"Message/"`` → ("Message", None)."""
    parts = path.strip("/").split("/")
    resource = parts[0]
    return resource, ("/".join(parts[1:]) or None)


def _not_found(method: HttpMethod, path: str) -> NotFoundError:
    return NotFoundError(
        status=404,
        method=method,
        path=path,
        api_id=DRY_RUN_ID,
        error_text="deleted earlier in this dry run",
        service="Plivo",
    )


class DryRunClient:
    """An :class:`ApiClient` that performs reads and answers writes without sending them."""

    def __init__(self, inner: ApiClient, *, auth_id: str) -> None:
        self._inner = inner
        self.auth_id = auth_id  # the account whose resource URIs simulated objects get
        self._serial = itertools.count(1)
        # Objects this run pretended to create, by their path ("Application/9999…/").
        self._created: dict[str, JsonObject] = {}
        # Unsent changes to real objects, by path: shown when the object is read again.
        self._changes: dict[str, JsonObject] = {}
        self._deleted: set[str] = set()
        self.writes = 0  # how many writes were answered locally instead of sent

    async def request(
        self,
        method: HttpMethod,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Sequence[UploadFile] | None = None,
    ) -> ApiResponse:
        if path in self._deleted:
            raise _not_found(method, path)
        if method == "GET":
            return await self._read(path, query)
        self.writes += 1
        resource, object_id = _split(path)
        if object_id is None and resource:  # "" is the account itself: an update
            return self._create(resource, body or {}, files or ())
        if method == "DELETE":
            return await self._delete(path)
        return await self._update(resource, path, body or {})

    # --- reads -----------------------------------------------------------------------------

    async def _read(self, path: str, query: Mapping[str, Any] | None) -> ApiResponse:
        created = self._created.get(path)
        if created is not None:
            return ApiResponse(200, dict(created))
        response = await self._inner.request("GET", path, query=query)
        changes = self._changes.get(path)
        if changes is None or response.body is None:
            return response
        note = {"message": f"shows changes that were not sent ({NOTE})"}
        return ApiResponse(response.status, {**response.body, **changes, **note})

    # --- writes ----------------------------------------------------------------------------

    def _create(
        self, resource: str, body: Mapping[str, Any], files: Sequence[UploadFile]
    ) -> ApiResponse:
        if resource == "Message":
            return self._queue_messages(body)
        if resource == "Call":
            return self._fire_calls(body)
        if resource == "Media":
            return self._upload(files)
        answer: JsonObject = {"api_id": DRY_RUN_ID, "message": f"created ({NOTE})"}
        if resource == APPLICATION:
            app_id = self._numeric_id()
            self._created[f"{APPLICATION}/{app_id}/"] = self._application(app_id, body)
            answer["app_id"] = app_id
        elif resource == ENDPOINT:
            endpoint = self._endpoint(self._numeric_id(), body)
            self._created[f"{ENDPOINT}/{endpoint['endpoint_id']}/"] = endpoint
            answer.update(
                alias=endpoint["alias"],
                endpoint_id=endpoint["endpoint_id"],
                username=endpoint["username"],
            )
        return ApiResponse(201, answer)

    async def _update(self, resource: str, path: str, body: Mapping[str, Any]) -> ApiResponse:
        fields = self._answer_fields(resource, body)
        created = self._created.get(path)
        if created is not None:
            created.update(fields)
        elif resource in _CHECKED:
            # A real object: make sure it exists (a read), and remember the unsent change.
            await self._inner.request("GET", path)
            self._changes[path] = {**self._changes.get(path, {}), **fields}
        return ApiResponse(202, {"api_id": DRY_RUN_ID, "message": f"changed ({NOTE})"})

    async def _delete(self, path: str) -> ApiResponse:
        resource, _ = _split(path)
        if self._created.pop(path, None) is None and resource in _CHECKED:
            await self._inner.request("GET", path)  # a wrong id fails as in a real run
        self._changes.pop(path, None)
        self._deleted.add(path)
        return ApiResponse(204, None)

    def _queue_messages(self, body: Mapping[str, Any]) -> ApiResponse:
        uuids = [self._uuid() for _ in _destinations(body.get("dst"))]
        return ApiResponse(
            202,
            {"api_id": DRY_RUN_ID, "message": f"message(s) queued ({NOTE})", "message_uuid": uuids},
        )

    def _fire_calls(self, body: Mapping[str, Any]) -> ApiResponse:
        targets = _destinations(body.get("to"))
        # Plivo answers one call with a single request_uuid, a bulk call with a list.
        request_uuid: str | list[str] = (
            self._uuid() if len(targets) <= 1 else [self._uuid() for _ in targets]
        )
        text = "call fired" if len(targets) <= 1 else "calls fired"
        return ApiResponse(
            201, {"api_id": DRY_RUN_ID, "message": f"{text} ({NOTE})", "request_uuid": request_uuid}
        )

    def _upload(self, files: Sequence[UploadFile]) -> ApiResponse:
        objects = [
            {
                "media_id": self._uuid(),
                "file_name": f.file_name,
                "content_type": f.content_type,
                "size": len(f.data),
                "status": "success",
                "status_code": 201,
            }
            for f in files
        ]
        return ApiResponse(
            201, {"api_id": DRY_RUN_ID, "message": f"uploaded ({NOTE})", "objects": objects}
        )

    # --- simulated objects -----------------------------------------------------------------

    def _numeric_id(self) -> str:
        return f"{SIMULATED_NUMERIC_PREFIX}{next(self._serial):013d}"

    def _uuid(self) -> str:
        return f"{SIMULATED_UUID_PREFIX}{next(self._serial):012x}"

    def _resource_uri(self, resource: str, object_id: str) -> str:
        return f"/v1/Account/{self.auth_id}/{resource}/{object_id}/"

    def _marker(self, noun: str) -> JsonObject:
        return {"api_id": DRY_RUN_ID, "message": f"simulated {noun}, never created ({NOTE})"}

    def _answer_fields(self, resource: str, body: Mapping[str, Any]) -> JsonObject:
        """The fields of a create or update request as Plivo answers them when read back."""
        fields: JsonObject = {}
        for key, value in body.items():
            if key in _WRITE_ONLY:
                continue
            if resource == APPLICATION:
                fields[_APPLICATION_RENAMES.get(key, key)] = value
            elif resource in {ENDPOINT, NUMBER} and key == "app_id":
                fields["application"] = self._resource_uri(APPLICATION, str(value))
            elif resource == NUMBER and key == "subaccount":
                fields["sub_account"] = value
            else:
                fields[key] = value
        return fields

    def _application(self, app_id: str, body: Mapping[str, Any]) -> JsonObject:
        fields = self._answer_fields(APPLICATION, body)
        application: JsonObject = {"app_id": app_id, **APPLICATION_DEFAULTS, **fields}
        if not application["hangup_url"]:
            application["hangup_url"] = application["answer_url"]  # Plivo's default
        application["sip_uri"] = f"sip:{app_id}@app.plivo.com"
        application["resource_uri"] = self._resource_uri(APPLICATION, app_id)
        return {**application, **self._marker("application")}

    def _endpoint(self, endpoint_id: str, body: Mapping[str, Any]) -> JsonObject:
        fields = self._answer_fields(ENDPOINT, body)
        # Plivo makes the SIP username unique by appending a 12-digit time stamp.
        username = f"{body.get('username', '')}{time.strftime('%y%m%d%H%M%S', time.gmtime())}"
        endpoint: JsonObject = {
            "endpoint_id": endpoint_id,
            "alias": fields.get("alias"),
            "username": username,
            "sip_uri": f"sip:{username}@phone.plivo.com",
            "sip_registered": "false",
            "sub_account": None,
            "application": fields.get("application"),
            "resource_uri": self._resource_uri(ENDPOINT, endpoint_id),
        }
        return {**endpoint, **self._marker("endpoint")}
