"""Bulk sends: consecutive items that differ only in their destination share one request.

Plivo's Message API takes up to 1,000 unique destinations joined by ``<`` in one request and
answers with one message UUID per valid unique destination, in order, plus ``invalid_number``
for destinations it refused. A step with ``bulk: true`` groups consecutive items whose
requests are otherwise identical (sender or Powerpack, text, type, media, callback, ...), sends
each group once, and gives every input item its own output: its UUID, its ``invalid_number``
error, or a note that an earlier item of the group already had its destination.

This module is the Plivo node's :class:`plivo_node.core.node.BulkOperation`; the runtime's
:mod:`plivo_node.run.bulk` does the grouping of consecutive items and the scheduling.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from plivo_node.core.api import ApiClient
from plivo_node.core.errors import BadRequestError, PlivoNodeError
from plivo_node.core.items import JsonObject
from plivo_node.core.node import OperationContext
from plivo_node.nodes.plivo.validation.phone import BULK_SEPARATOR, MAX_BULK_DESTINATIONS

# Plivo's bulk limit and separator, as the phone checks apply them.
MAX_UNIQUE_DESTINATIONS = MAX_BULK_DESTINATIONS
DESTINATION_FIELD = "dst"
MESSAGE_PATH = "Message/"


class PreparedSend(Protocol):
    """A validated request for one item, not yet sent (see ``resources.sms.prepare``)."""

    @property
    def body(self) -> Mapping[str, Any]: ...

    @property
    def destinations(self) -> Sequence[str]: ...

    def output(self, response: Mapping[str, Any]) -> JsonObject: ...


def group_key(body: Mapping[str, Any]) -> str:
    """Requests with the same key differ only in their destination."""
    return json.dumps(
        {k: v for k, v in body.items() if k != DESTINATION_FIELD}, sort_keys=True, default=str
    )


@dataclass
class MessageGroup:
    """Consecutive prepared items sharing one request."""

    members: list[tuple[int, PreparedSend]] = field(default_factory=list)
    # Each unique destination, in first-seen order, with the member index that brought it.
    owners: dict[str, int] = field(default_factory=dict)

    def fits(self, prepared: PreparedSend) -> bool:
        new = [d for d in dict.fromkeys(prepared.destinations) if d not in self.owners]
        return len(self.owners) + len(new) <= MAX_UNIQUE_DESTINATIONS

    def add(self, index: int, prepared: PreparedSend) -> None:
        self.members.append((index, prepared))
        for destination in prepared.destinations:
            self.owners.setdefault(destination, index)

    def body(self) -> dict[str, Any]:
        """The one request for the whole group."""
        body = dict(self.members[0][1].body)
        body[DESTINATION_FIELD] = BULK_SEPARATOR.join(self.owners)
        return body

    async def send(self, client: ApiClient) -> list[JsonObject | PlivoNodeError]:
        response = await client.request("POST", MESSAGE_PATH, body=self.body())
        return split_response(self, response.body or {})


def split_response(
    group: MessageGroup, response: Mapping[str, Any]
) -> list[JsonObject | PlivoNodeError]:
    """Give each member its share of a bulk answer, matched by position.

    UUIDs are handed out in order to the unique destinations that Plivo did not list in
    ``invalid_number``, which is the order in which Plivo queues them.
    """
    invalid = {str(n) for n in response.get("invalid_number") or []}
    uuids = iter(response.get("message_uuid") or [])
    uuid_of: dict[str, str] = {}
    for destination in group.owners:
        if destination not in invalid:
            uuid_of[destination] = next(uuids, "")
    return [
        _member_outcome(
            index,
            prepared=prepared,
            group=group,
            response=response,
            invalid=invalid,
            uuid_of=uuid_of,
        )
        for index, prepared in group.members
    ]


def _member_outcome(
    index: int,
    *,
    prepared: PreparedSend,
    group: MessageGroup,
    response: Mapping[str, Any],
    invalid: set[str],
    uuid_of: Mapping[str, str],
) -> JsonObject | PlivoNodeError:
    mine = [d for d in dict.fromkeys(prepared.destinations) if group.owners[d] == index]
    refused = [d for d in mine if d in invalid]
    duplicates = {d: group.owners[d] for d in prepared.destinations if group.owners[d] != index}
    if refused and len(refused) == len(mine) and not duplicates:
        return BadRequestError(
            status=400,
            method="POST",
            path=MESSAGE_PATH,
            api_id=response.get("api_id"),
            error_text=f"invalid destination number(s): {', '.join(refused)}",
            service="Plivo",
        )
    share: dict[str, Any] = {
        "api_id": response.get("api_id"),
        "message": response.get("message"),
        "message_uuid": [uuid_of[d] for d in mine if d in uuid_of],
    }
    if refused:
        share["invalid_number"] = refused
    output = prepared.output(share)
    output["bulk_size"] = len(group.owners)
    if duplicates:
        # Plivo sends one message per unique destination: this item's was already queued.
        output["duplicate_of"] = {d: f"item {owner}" for d, owner in duplicates.items()}
        output["message_uuid"] = [uuid_of.get(d, "") for d in duplicates] + output.get(
            "message_uuid", []
        )
        if not mine:
            output["status"] = "duplicate"
    return output


@dataclass(frozen=True)
class MessageBulk:
    """The bulk form of a message send: ``prepare`` builds one item's request."""

    prepare: Callable[[OperationContext], PreparedSend]

    def group_key(self, prepared: PreparedSend) -> str:
        return group_key(prepared.body)

    def new_group(self) -> MessageGroup:
        return MessageGroup()
