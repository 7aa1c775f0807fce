"""``serve --attach NUMBER[=PIPELINE]``: point a rented number at serve's webhooks while serve
runs, and put the number back as it was when serve stops.

For each number serve creates an Application (``plivo-node-serve-<number>``) and links the
number to it with ``number.update``; stopping links the number back to its previous
application and deletes the one created. The created application is the previous one with
serve's webhooks in place of what serve handles:

- ``message_url``: the webhook of the served pipeline listening to ``inboundMessage``;
- ``answer_url`` and ``hangup_url``: the webhook of the one listening to ``callStatus`` or
  ``incomingCall`` (it answers with Plivo XML, see :mod:`.trigger_options`);
- what no served pipeline handles keeps the previous application's URL, so calls to a number
  attached for its texts still reach whatever answered them before (with no previous URL,
  the answer_url is serve's webhook, which answers every call with its XML).

Which pipeline a number serves is explicit: with several pipelines listening to the same
kind, ``--attach NUMBER=PIPELINE`` names one (anything else is refused). A webhook Plivo
cannot reach is refused too: without ``--public-url`` the webhooks are on this machine, which
only a sandbox on this machine can call.

Requests go through the Plivo node's own handlers (``number.get``, ``number.update``,
``application.create`` / ``get`` / ``delete``) on the node's client: the same checks, retries
and rate limit as a pipeline step. Every refusal comes before the first write. What is
changed is written down first (:mod:`.attach_record`), so a ``serve`` killed with SIGKILL is
undone by the next ``serve`` started on the same state directory, with or without
``--attach``: that is the whole recovery procedure, and it needs no other command because
only one serve can hold a state directory.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from plivo_node.core.api import ApiClient
from plivo_node.core.errors import (
    ConfigurationError,
    NotFoundError,
    ParameterError,
    PlivoNodeError,
    RunAbortedError,
)
from plivo_node.core.items import Item, JsonObject
from plivo_node.core.node import (
    AttachRequest,
    ClientOptions,
    Handler,
    OperationContext,
    ServedWebhook,
)
from plivo_node.core.redaction import redact
from plivo_node.nodes.plivo.attach_record import AttachEntry, AttachRecord
from plivo_node.nodes.plivo.credentials import credentials_from
from plivo_node.nodes.plivo.factory import PLIVO_RATE_LIMIT, PlivoClientFactory
from plivo_node.nodes.plivo.resources import application, number
from plivo_node.nodes.plivo.trigger import INBOUND_MESSAGE, VOICE_KINDS

APP_NAME_PREFIX = "plivo-node-serve-"
MAX_APP_NAME = 64
# The previous application's fields the created one keeps unless serve takes them over.
_VOICE_FIELDS = ("answer_url", "answer_method", "hangup_url", "hangup_method")
_FALLBACK_FIELDS = ("fallback_answer_url", "fallback_method")
_MESSAGE_FIELDS = ("message_url", "message_method")
_APP_ID_IN_URI = re.compile(r"/Application/([0-9]+)/?$")


@dataclass(frozen=True)
class _Plan:
    number: str
    message: ServedWebhook | None
    voice: ServedWebhook | None


def _say(line: str) -> None:
    print(redact(line), file=sys.stderr, flush=True)


def _one(
    candidates: list[ServedWebhook], what: str, request: AttachRequest
) -> ServedWebhook | None:
    if len(candidates) > 1:
        names = ", ".join(w.pipeline for w in candidates)
        raise ConfigurationError(
            f"--attach {request.target}: {len(candidates)} served pipelines listen to {what} "
            f"({names}); which one gets the number is ambiguous",
            hint=f"name it: --attach {request.target}=PIPELINE (e.g. {candidates[0].pipeline})",
        )
    return candidates[0] if candidates else None


def plan(requests: Sequence[AttachRequest], webhooks: Sequence[ServedWebhook]) -> list[_Plan]:
    """Which webhook each number's messages and calls go to; refuses what is unclear."""
    plans: list[_Plan] = []
    seen: set[str] = set()
    for request in requests:
        try:
            digits = number.rented_number(request.target)
        except ParameterError as exc:
            raise ConfigurationError(
                f"--attach {request.target}: {exc.message}", hint=exc.hint
            ) from exc
        if digits in seen:
            raise ConfigurationError(
                f"--attach names the number {digits} twice",
                hint="attach each number once (NUMBER=PIPELINE picks its pipeline)",
            )
        seen.add(digits)
        usable = [w for w in webhooks if request.pipeline in {None, w.pipeline}]
        message = _one([w for w in usable if INBOUND_MESSAGE in w.events], INBOUND_MESSAGE, request)
        voice = _one(
            [w for w in usable if w.events & set(VOICE_KINDS)], " or ".join(VOICE_KINDS), request
        )
        if message is None and voice is None:
            where = request.pipeline or "no served pipeline"
            raise ConfigurationError(
                f"--attach {request.target}: {where} listens to {INBOUND_MESSAGE} or "
                f"{' or '.join(VOICE_KINDS)}, so the number would have nothing to call",
                hint="serve a pipeline whose plivoTrigger has one of these events",
            )
        plans.append(_Plan(digits, message, voice))
    return plans


def _is_local(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_reachable(api_url: str, webhooks: Sequence[ServedWebhook], *, public: bool) -> None:
    """Plivo calls the webhooks from the internet: a loopback webhook only works for a sandbox
    on this machine (which is why the sandbox needs no --public-url)."""
    if _is_local(api_url):
        return
    local = [w.url for w in webhooks if _is_local(w.url)]
    if local or not public:
        where = (
            f"--public-url {local[0]} is"
            if public and local
            else "--attach without --public-url would point the number at"
        )
        raise ConfigurationError(
            f"{where} this machine, which Plivo cannot reach",
            hint="run a tunnel (e.g. ngrok http PORT) and pass its URL as --public-url",
        )


def app_name_for(digits: str, plan_: _Plan) -> str:
    served = plan_.message or plan_.voice
    path = served.url.rpartition("/webhook/")[2] if served else ""
    name = APP_NAME_PREFIX + digits + ("-" + re.sub(r"[^A-Za-z0-9_-]+", "-", path) if path else "")
    return name[:MAX_APP_NAME].rstrip("-")


async def _call(handler: Handler, client: ApiClient, params: Mapping[str, Any]) -> JsonObject:
    context = OperationContext(params=params, item=Item(json={}), item_index=0, client=client)
    (output,) = await handler(context)
    assert isinstance(output, dict)
    return output


def app_id_of(number_record: Mapping[str, Any]) -> str | None:
    found = _APP_ID_IN_URI.search(str(number_record.get("application") or ""))
    return found.group(1) if found else None


async def _read_number(client: ApiClient, digits: str) -> JsonObject:
    try:
        return await _call(number.get, client, {"number": digits})
    except NotFoundError as exc:
        raise ConfigurationError(
            f"--attach {digits}: the account has no such number",
            hint="list the account's numbers with a number.getAll step",
        ) from exc


async def _previous_app(client: ApiClient, app_id: str | None) -> JsonObject:
    if app_id is None:
        return {}
    try:
        return await _call(application.get, client, {"app_id": app_id})
    except NotFoundError:
        return {}


def app_params(
    name: str, plan_: _Plan, previous: Mapping[str, Any], subaccount: object
) -> dict[str, Any]:
    """The create request: the previous application's URLs, serve's webhooks over them."""
    fields: dict[str, Any] = {}
    if plan_.voice is None:
        fields.update(
            {k: previous[k] for k in (*_VOICE_FIELDS, *_FALLBACK_FIELDS) if previous.get(k)}
        )
    else:
        fields.update({"answer_url": plan_.voice.url, "hangup_url": plan_.voice.url})
    if plan_.message is None:
        fields.update({k: previous[k] for k in _MESSAGE_FIELDS if previous.get(k)})
    else:
        fields["message_url"] = plan_.message.url
    if isinstance(previous.get("log_incoming_messages"), bool):
        fields["log_incoming_messages"] = previous["log_incoming_messages"]
    if subaccount:
        fields["subaccount"] = subaccount
    # Plivo wants an answer_url: with none to keep, serve's webhook answers calls with its XML.
    served = plan_.voice or plan_.message
    assert served is not None  # plan() refuses a number with nothing to serve
    answer_url = fields.pop("answer_url", None) or served.url
    answer_method = fields.pop("answer_method", "POST")
    return {
        "app_name": name,
        "answer_url": answer_url,
        "answer_method": answer_method,
        "additionalFields": fields,
    }


async def _link(
    client: ApiClient, record: AttachRecord, entry: AttachEntry, params: Mapping[str, Any]
) -> AttachEntry:
    record.put(entry)  # before anything changes: a kill from here on is undone at next start
    created = await _call(application.create, client, params)
    entry = entry.created(str(created["app_id"]))
    record.put(entry)
    await _call(
        number.update,
        client,
        {"number": entry.number, "updateFields": {"app_id": entry.created_app_id}},
    )
    return entry


async def _created_ids(client: ApiClient, entry: AttachEntry) -> list[str]:
    if entry.created_app_id is not None:
        return [entry.created_app_id]
    # Killed between the create and its record: the application is found by its name.
    response = await client.request(
        "GET", application.APPLICATION_PATH, query={"app_name": entry.app_name}
    )
    objects = (response.body or {}).get("objects") or []
    return [str(o["app_id"]) for o in objects if o.get("app_name") == entry.app_name]


async def restore(client: ApiClient, record: AttachRecord, entry: AttachEntry) -> str:
    """Link the number back (if it still points at serve's application), delete that
    application, forget the entry; returns what was done."""
    ours = await _created_ids(client, entry)
    try:
        current = app_id_of(await _call(number.get, client, {"number": entry.number}))
    except NotFoundError:
        current = None  # the number left the account: nothing to link back
    done = []
    if current is not None and current in ours and entry.previous_app_id is not None:
        await _call(
            number.update,
            client,
            {"number": entry.number, "updateFields": {"app_id": entry.previous_app_id}},
        )
        done.append(f"{entry.number} points at application {entry.previous_app_id} again")
    elif current not in {*ours, entry.previous_app_id, None}:
        done.append(f"{entry.number} was re-linked meanwhile (application {current}): left as is")
    for app_id in ours:
        with contextlib.suppress(NotFoundError):
            await _call(application.delete, client, {"app_id": app_id})
        done.append(f"deleted application {app_id} ({entry.app_name})")
    if entry.previous_app_id is None and current in ours:
        done.append(f"{entry.number} has no application again")
    record.remove(entry)
    return "; ".join(done) or f"{entry.number}: nothing to restore"


async def _recover(client: ApiClient, record: AttachRecord, auth_id: str, api_url: str) -> None:
    """Undo what a killed serve left attached on this account; other accounts' entries wait
    for a serve with their credentials, a vanished local sandbox's are dropped."""
    for entry in record.entries:
        if (entry.auth_id, entry.api_url) == (auth_id, api_url):
            done = await restore(client, record, entry)
            _say(f"plivo-node: an earlier serve left {entry.number} attached: {done}")
        elif _is_local(entry.api_url):
            record.remove(entry)  # a local sandbox forgets everything when it stops
        else:
            _say(
                f"plivo-node: an earlier serve left {entry.number} attached on account "
                f"{entry.auth_id}; serve with that account's credentials to restore it"
            )


@contextlib.asynccontextmanager
async def attach_numbers(
    fields: Mapping[str, str],
    requests: Sequence[AttachRequest],
    webhooks: Sequence[ServedWebhook],
    *,
    public: bool,
    state: Path,
) -> AsyncIterator[list[str]]:
    plans = plan(requests, webhooks)
    record = AttachRecord(state)
    if not plans and not record.entries:
        yield []  # the common start: nothing to attach, nothing left to restore
        return
    credentials = credentials_from(fields)
    api_url, auth_id = credentials.base_url, credentials.auth_id
    if plans:
        check_reachable(api_url, webhooks, public=public)
    options = ClientOptions(concurrency=2, timeout=30.0, rate_limit=PLIVO_RATE_LIMIT)
    async with PlivoClientFactory().connect(fields, options) as client:
        try:
            await _recover(client, record, auth_id, api_url)
        except PlivoNodeError as exc:
            raise ConfigurationError(
                f"could not restore what an earlier serve attached: {exc}",
                hint=f"the record stays in {record.path}; the next start tries again",
            ) from exc
        # Every read (and refusal) first, then the writes.
        numbers = [await _read_number(client, p.number) for p in plans]
        previous = [await _previous_app(client, app_id_of(n)) for n in numbers]
        try:
            lines = []
            for plan_, found, before in zip(plans, numbers, previous, strict=True):
                entry = AttachEntry(
                    auth_id=auth_id,
                    api_url=api_url,
                    number=plan_.number,
                    app_name=app_name_for(plan_.number, plan_),
                    previous_app_id=app_id_of(found),
                    previous_alias=found.get("alias"),
                )
                params = app_params(entry.app_name, plan_, before, found.get("sub_account"))
                entry = await _link(client, record, entry, params)
                routes = [f"its messages to {plan_.message.pipeline}"] if plan_.message else []
                routes += [f"its calls to {plan_.voice.pipeline}"] if plan_.voice else []
                lines.append(
                    f"plivo-node: attached {plan_.number}: {' and '.join(routes)} (application "
                    f"{entry.created_app_id}, {entry.app_name}); application "
                    f"{entry.previous_app_id or '(none)'} comes back when serve stops"
                )
            yield lines
        finally:
            await _restore_all(client, record, auth_id, api_url)


async def _restore_all(client: ApiClient, record: AttachRecord, auth_id: str, api_url: str) -> None:
    """Undo this serve's attachments (after recovery, the record's entries for this account
    are all this serve's), the last attached first."""
    failed: list[str] = []
    for entry in reversed(record.entries):
        if (entry.auth_id, entry.api_url) != (auth_id, api_url):
            continue
        try:
            _say(f"plivo-node: detached: {await restore(client, record, entry)}")
        except PlivoNodeError as exc:
            failed.append(f"{entry.number}: {exc}")
    if failed:
        raise RunAbortedError(
            "could not restore " + "; ".join(failed),
            hint=f"the next serve start on this state directory retries (record: {record.path})",
        )
