"""The editor's JSON API: node types, the document, checks, expression previews, runs,
credentials and exports. Every route is behind :class:`plivo_node.editor.security.Guard`.

Errors are JSON: ``{"error": text, "problems": [{"step", "field", "message"}]}``, each problem
located by step and parameter where the checks say so, so the page shows it on the field.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from plivo_node.core.errors import ConfigurationError, PlivoNodeError, ProblemListError
from plivo_node.core.redaction import register_secret
from plivo_node.editor.project import (
    N8N,
    YAML,
    Document,
    document_text,
    empty_document,
    open_text,
)
from plivo_node.editor.runs import Confirmations, prepare, run_digest, run_items
from plivo_node.expressions import ExpressionContext, compile_expression, is_expression
from plivo_node.run.credentials import Fields, resolve_fields
from plivo_node.run.item_io import open_input
from plivo_node.run.registry import NodeRegistry

# "step 'Send SMS': parameters.to: ..." → the step, the field and the message.
_LOCATED = re.compile(
    r"^step '(?P<step>.*?)': (?:parameters\.(?P<field>[^:\s]+): )?(?P<message>.*)$", re.S
)
_STEP_INDEX = re.compile(r"^steps\[(?P<index>\d+)\]\.?(?P<rest>.*)$", re.S)
# Items the page may send or load at once: a campaign of this size is run from the CLI.
MAX_ITEMS = 100_000
MAX_BODY = 64 * 1024 * 1024


@dataclass
class EditorState:
    """One editor session: the file it edits, the node types, credentials set in the form."""

    registry: NodeRegistry
    path: Path | None
    document: Document
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)
    confirmations: Confirmations = field(default_factory=Confirmations)

    @property
    def base_dir(self) -> Path:
        return self.path.resolve().parent if self.path is not None else Path.cwd()


STATE: web.AppKey[EditorState] = web.AppKey("editor_state", EditorState)


def located(problems: list[str], steps: list[Any] | None = None) -> list[dict[str, str | None]]:
    """Each problem with the step and parameter it concerns, where it names them."""
    found: list[dict[str, str | None]] = []
    names = [str(step.get("name")) for step in steps or [] if isinstance(step, Mapping)]
    for problem in problems:
        match = _LOCATED.match(problem)
        if match is not None:
            found.append(dict(match.groupdict()))
            continue
        index = _STEP_INDEX.match(problem)
        if index is not None and int(index["index"]) < len(names):
            rest = index["rest"]
            path = rest.split(":", 1)[0] if rest.startswith("parameters.") else None
            found.append(
                {
                    "step": names[int(index["index"])],
                    "field": path.removeprefix("parameters.") if path else None,
                    "message": problem,
                }
            )
            continue
        found.append({"step": None, "field": None, "message": problem})
    return found


def _error(exc: PlivoNodeError, steps: list[Any] | None = None, status: int = 400) -> web.Response:
    exc.redact_in_place()
    body: dict[str, Any] = {"error": str(exc)}
    if isinstance(exc, ProblemListError):
        body["problems"] = located(exc.problems, steps)
    return web.json_response(body, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise ConfigurationError("send JSON", hint="set Content-Type: application/json")
    try:
        data = await request.json()
    except ValueError:
        raise ConfigurationError(
            "the request body is not JSON", hint="send a JSON object"
        ) from None
    if not isinstance(data, dict):
        raise ConfigurationError("the request body must be a JSON object", hint="send an object")
    return data


def _pipeline(body: Mapping[str, Any]) -> dict[str, Any]:
    pipeline = body.get("pipeline")
    if not isinstance(pipeline, dict):
        raise ConfigurationError("'pipeline' must be an object", hint="send the workflow")
    return pipeline


def _items(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = body.get("items", [{}])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ConfigurationError("'items' must be a list of objects", hint="load CSV or JSON items")
    if len(items) > MAX_ITEMS:
        raise ConfigurationError(
            f"{len(items)} items are more than the editor runs ({MAX_ITEMS})",
            hint="run a campaign this size with plivo-node run",
        )
    return items or [{}]


def _up_to(body: Mapping[str, Any]) -> str | None:
    value = body.get("upTo")
    return str(value) if value else None


def _state(request: web.Request) -> EditorState:
    return request.app[STATE]


# --- routes ----------------------------------------------------------------------------------


async def nodes(request: web.Request) -> web.Response:
    """Every registered node type: its description (n8n JSON) and what the canvas needs."""
    listing = [
        {
            "name": node.name,
            "description": node.description.to_n8n_json(),
            "outputs": list(node.type.outputs),
            "trigger": node.type.trigger,
            "credentials": [c.to_n8n_json() for c in node.credential_types],
        }
        for node in _state(request).registry.all()
    ]
    return web.json_response({"nodes": listing})


async def document(request: web.Request) -> web.Response:
    state = _state(request)
    data = state.document.to_json()
    data["file"] = state.path.name if state.path is not None else None
    try:
        data["items"] = document_items(state)
    except PlivoNodeError as exc:
        exc.redact_in_place()
        data["notices"] = [*data["notices"], f"the input items were not loaded: {exc}"]
        data["items"] = []
    return web.json_response(data)


def document_items(state: EditorState) -> list[dict[str, Any]]:
    """The items of the opened pipeline's own input file, read as ``run`` reads it."""
    raw = state.document.pipeline.get("input")
    if state.path is None or raw is None:
        return []
    name, fmt = (raw, None) if isinstance(raw, str) else (raw.get("path"), raw.get("format"))
    path = state.base_dir / str(name)
    if not path.is_file():
        return []
    found, _ = open_input(path, fmt)
    items = []
    for item in found:
        items.append(dict(item.json))
        if len(items) >= MAX_ITEMS:
            break
    return items


async def open_document(request: web.Request) -> web.Response:
    """A file the user picked in the page: a pipeline YAML or an n8n workflow JSON."""
    state = _state(request)
    try:
        body = await _body(request)
        text, filename = str(body.get("text", "")), str(body.get("filename") or "workflow")
        opened = open_text(text, filename=filename, registry=state.registry)
    except PlivoNodeError as exc:
        return _error(exc)
    return web.json_response(opened.to_json())


async def validate(request: web.Request) -> web.Response:
    state = _state(request)
    steps: list[Any] = []
    try:
        body = await _body(request)
        pipeline = _pipeline(body)
        steps = list(pipeline.get("steps") or [])
        prepare(state.registry, pipeline, None, state.base_dir)
    except PlivoNodeError as exc:
        return _error(exc, steps)
    return web.json_response({"ok": True, "problems": []})


async def preview(request: web.Request) -> web.Response:
    """An expression's value for the selected sample item, by the runtime's evaluator."""
    try:
        body = await _body(request)
        source = str(body.get("expression", ""))
        item = body.get("item") or {}
        index = int(body.get("itemIndex") or 0)
        if not isinstance(item, dict):
            raise ConfigurationError("'item' must be an object", hint="select a sample item")
        if not is_expression(source):
            return web.json_response({"value": source})
        compiled = compile_expression(source, parameter=str(body.get("parameter") or "value"))
        value = compiled.evaluate(ExpressionContext(json=item, item_index=index))
    except PlivoNodeError as exc:
        exc.redact_in_place()
        return web.json_response({"error": str(exc)})
    return web.json_response({"value": value})


async def load_items(request: web.Request) -> web.Response:
    """Items from a CSV, JSON Lines or JSON file's text, read by ``run``'s own input reader."""
    try:
        body = await _body(request)
        name = Path(str(body.get("filename") or "items.json")).name
        suffix = Path(name).suffix.lower()
        fmt = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(suffix, "json")
        with tempfile.TemporaryDirectory(prefix="plivo-node-editor-") as folder:
            path = Path(folder) / f"items.{fmt}"
            path.write_text(str(body.get("text", "")), encoding="utf-8")
            found, _ = open_input(path, fmt)
            items = []
            for item in found:
                items.append(dict(item.json))
                if len(items) > MAX_ITEMS:
                    raise ConfigurationError(
                        f"{name} has more than {MAX_ITEMS} items",
                        hint="run a campaign this size with plivo-node run",
                    )
    except PlivoNodeError as exc:
        return _error(exc)
    return web.json_response({"items": items})


async def run(request: web.Request) -> web.Response:
    """Run on the sandbox, or live with the confirmation of a dry run of the same thing."""
    state = _state(request)
    steps: list[Any] = []
    try:
        body = await _body(request)
        pipeline, items, up_to = _pipeline(body), _items(body), _up_to(body)
        steps = list(pipeline.get("steps") or [])
        mode = body.get("mode", "sandbox")
        if mode not in ("sandbox", "live"):
            raise ConfigurationError(f"unknown mode {mode!r}", hint="use sandbox or live")
        spec, runnable = prepare(state.registry, pipeline, up_to, state.base_dir)
        live_fields = None
        if mode == "live":
            # Refused here, before any client is opened: nothing is sent.
            state.confirmations.spend(body.get("confirmation"), run_digest(pipeline, up_to, items))
            live_fields = _live_fields(state)
        report = await run_items(state.registry, spec, runnable, items, live_fields=live_fields)
    except PlivoNodeError as exc:
        return _error(exc, steps)
    return web.json_response(report.to_json())


async def dry_run(request: web.Request) -> web.Response:
    """A live run's figures (messages, calls, cost), sending nothing; its confirmation."""
    state = _state(request)
    steps: list[Any] = []
    try:
        body = await _body(request)
        pipeline, items, up_to = _pipeline(body), _items(body), _up_to(body)
        steps = list(pipeline.get("steps") or [])
        spec, runnable = prepare(state.registry, pipeline, up_to, state.base_dir)
        report = await run_items(
            state.registry, spec, runnable, items, live_fields=_live_fields(state), dry_run=True
        )
    except PlivoNodeError as exc:
        return _error(exc, steps)
    data = report.to_json()
    data["confirmation"] = state.confirmations.issue(run_digest(pipeline, up_to, items))
    return web.json_response(data)


def _live_fields(state: EditorState) -> dict[str, Fields]:
    """The credentials set in the form, resolved as a pipeline's credentials block is."""
    if not state.credentials:
        raise ConfigurationError(
            "no credentials are set for a live run", hint="fill in the Credentials form"
        )
    resolved: dict[str, Fields] = {}
    for node in state.registry.all():
        for credential in node.credential_types:
            given = state.credentials.get(credential.name)
            if given is None or credential.name in resolved:
                continue
            fields = resolve_fields(
                credential, {credential.name: given}, {}, service=credential.displayName
            )
            if fields is not None:
                resolved[credential.name] = fields
    return resolved


async def credentials(request: web.Request) -> web.Response:
    """The credential types and which fields are set; a secret field's value never leaves."""
    state = _state(request)
    if request.method == "PUT":
        try:
            body = await _body(request)
            _set_credentials(state, body)
        except PlivoNodeError as exc:
            return _error(exc)
    listing: dict[str, Any] = {}
    for node in state.registry.all():
        for credential in node.credential_types:
            given = state.credentials.get(credential.name, {})
            listing[credential.name] = {
                prop.name: (
                    {"set": bool(given.get(prop.name))}
                    if prop.typeOptions and prop.typeOptions.get("password")
                    else {"value": given.get(prop.name, "")}
                )
                for prop in credential.properties
            }
    return web.json_response({"credentials": listing})


def _set_credentials(state: EditorState, body: Mapping[str, Any]) -> None:
    name = str(body.get("type", ""))
    fields = body.get("fields")
    known = {c.name: c for node in state.registry.all() for c in node.credential_types}
    if name not in known:
        raise ConfigurationError(
            f"unknown credential type {name!r}", hint=f"use one of {', '.join(sorted(known))}"
        )
    if not isinstance(fields, dict):
        raise ConfigurationError("'fields' must be an object", hint="send the form's fields")
    credential = known[name]
    current = state.credentials.setdefault(name, {})
    for prop in credential.properties:
        if prop.name not in fields:
            continue  # a secret left blank in the form keeps its value
        value = str(fields[prop.name]).strip()
        if prop.typeOptions and prop.typeOptions.get("password") and value:
            register_secret(
                value, auth_id=str(fields.get("authId") or current.get("authId") or "") or None
            )
        if value:
            current[prop.name] = value
        else:
            current.pop(prop.name, None)


async def export(request: web.Request) -> web.Response:
    """The workflow as pipeline YAML or n8n JSON; credentials as environment references."""
    state = _state(request)
    try:
        body = await _body(request)
        fmt = str(body.get("format") or YAML)
        if fmt not in (YAML, N8N):
            raise ConfigurationError(f"unknown format {fmt!r}", hint="use yaml or n8n")
        draft = Document(_pipeline(body), dict(body.get("positions") or {}), fmt)
        text = document_text(draft, state.registry, fmt, state.credentials)
    except PlivoNodeError as exc:
        return _error(exc)
    return web.json_response({"text": text, "format": fmt})


async def save(request: web.Request) -> web.Response:
    """Write the workflow back to the file the editor opened, in that file's format."""
    state = _state(request)
    try:
        if state.path is None:
            raise ConfigurationError(
                "the editor was started without a file", hint="use Export to download it"
            )
        body = await _body(request)
        draft = Document(_pipeline(body), dict(body.get("positions") or {}), state.document.format)
        text = document_text(draft, state.registry, draft.format, state.credentials)
        try:
            state.path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(
                f"cannot write {state.path}: {exc.strerror or exc}", hint="check the file"
            ) from None
        state.document = draft
    except PlivoNodeError as exc:
        return _error(exc)
    return web.json_response({"saved": state.path.name, "format": state.document.format})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/nodes", nodes)
    app.router.add_get("/api/document", document)
    app.router.add_post("/api/open", open_document)
    app.router.add_post("/api/validate", validate)
    app.router.add_post("/api/preview", preview)
    app.router.add_post("/api/items", load_items)
    app.router.add_post("/api/run", run)
    app.router.add_post("/api/dry-run", dry_run)
    app.router.add_route("GET", "/api/credentials", credentials)
    app.router.add_route("PUT", "/api/credentials", credentials)
    app.router.add_post("/api/export", export)
    app.router.add_post("/api/save", save)


def new_state(registry: NodeRegistry, path: Path | None, document: Document | None) -> EditorState:
    return EditorState(registry, path, document or empty_document())
