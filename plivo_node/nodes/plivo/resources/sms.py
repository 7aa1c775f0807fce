"""sms.send: POST Message/ (PLIVO_API.md §6.1, §9).

Media URLs under Additional Fields turn the message into an MMS (``type=mms``), and then the
MMS rules apply: US/Canadian destinations only, media limits, text optional.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from plivo_node.core.errors import ParameterError
from plivo_node.core.items import JsonObject
from plivo_node.core.node import OperationContext
from plivo_node.nodes.plivo.resources._common import collection, put_text
from plivo_node.nodes.plivo.resources._messaging import (
    MESSAGE_PATH,
    check_mms_destinations,
    check_sender_not_destination,
    delivery_fields,
    message_output,
    resolve_sender,
    sender_fields,
)
from plivo_node.nodes.plivo.suppression_scope import screen_destinations
from plivo_node.nodes.plivo.validation.fields import check_bool, text_value
from plivo_node.nodes.plivo.validation.media import MediaPlan, check_media_plan, parse_media_urls
from plivo_node.nodes.plivo.validation.phone import join_destinations, parse_destinations
from plivo_node.nodes.plivo.validation.sms_encoding import (
    TextEncoding,
    analyze_text,
    check_sms_text,
)


@dataclass(frozen=True)
class PreparedMessage:
    """A checked POST Message/ request for one item, and how to turn Plivo's answer into output.

    Bulk steps (``plivo_node.nodes.plivo.bulk``) send several items' prepared messages as one
    request.
    """

    body: Mapping[str, Any]
    destinations: tuple[str, ...]
    sender: str | None
    powerpack_uuid: str
    encoding: TextEncoding
    media: MediaPlan | None
    # Destinations left out because they are on the suppression list.
    suppressed: tuple[str, ...] = ()

    def output(self, response: Mapping[str, Any]) -> JsonObject:
        """The output item for Plivo's answer (for a bulk send, this item's share of it)."""
        output = message_output(
            response,
            sender=self.sender,
            powerpack_uuid=self.powerpack_uuid,
            to=join_destinations(list(self.destinations)),
            encoding=self.encoding,
            # An MMS is one message however long its text; an SMS is billed per segment.
            segments=1 if self.media is not None else self.encoding.segments,
            media=self.media,
        )
        if self.suppressed:
            output["suppressed"] = list(self.suppressed)
        return output


def prepare(ctx: OperationContext) -> PreparedMessage:
    """Check the item's parameters and build its request; no request is made."""
    params = ctx.params
    extra = collection(params, "additionalFields")
    powerpack_uuid = text_value(extra.get("powerpack_uuid"))
    sender = resolve_sender(params, powerpack_uuid, allow_sender_id=True)
    destinations = parse_destinations(params.get("to"), parameter="to")
    check_sender_not_destination(sender, destinations)
    destinations, suppressed = screen_destinations(destinations)
    text = "" if params.get("message") is None else str(params["message"])

    media_urls = parse_media_urls(extra.get("media_urls"), parameter="additionalFields.media_urls")
    media: MediaPlan | None = None
    if media_urls:
        check_mms_destinations(destinations)
        media = check_media_plan(
            MediaPlan(urls=media_urls), text=text, count_parameter="additionalFields.media_urls"
        )
        encoding = analyze_text(text)
    else:
        if not text:
            raise ParameterError(
                "message is empty", hint="write the text to send in Message", parameter="message"
            )
        encoding = check_sms_text(text, parameter="message")

    body: dict[str, Any] = sender_fields(sender, powerpack_uuid)
    body["dst"] = join_destinations(destinations)
    if text:
        body["text"] = text
    # Plivo detects UCS-2 itself: "unicode" only declares it, the wire type stays "sms".
    body["type"] = "sms" if media is None else "mms"
    body.update(delivery_fields(params))
    body["trackable"] = check_bool(
        params.get("trackable", False), parameter="trackable", label="Trackable"
    )
    if media is not None:
        body["media_urls"] = media.urls
    put_text(body, "dlt_entity_id", extra.get("dlt_entity_id"))
    put_text(body, "dlt_template_id", extra.get("dlt_template_id"))
    return PreparedMessage(
        body=body,
        destinations=tuple(destinations),
        sender=sender,
        powerpack_uuid=powerpack_uuid,
        encoding=encoding,
        media=media,
        suppressed=tuple(entry.number for entry in suppressed),
    )


async def send(ctx: OperationContext) -> list[JsonObject]:
    prepared = prepare(ctx)
    response = await ctx.client.request("POST", MESSAGE_PATH, body=prepared.body)
    return [prepared.output(response.body or {})]
