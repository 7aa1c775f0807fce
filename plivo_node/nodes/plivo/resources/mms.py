"""mms.send: POST Message/ with type=mms (PLIVO_API.md §6, §7 and §8).

Every check (destinations in the US or Canada, media count, sizes, formats) runs before any
request, the media upload included, so a refused MMS never leaves an orphan upload behind.
Binary properties are uploaded through POST Media/ and sent as ``media_ids``.
"""

from __future__ import annotations

from typing import Any

from plivo_node.core.errors import ParameterError
from plivo_node.core.items import JsonObject
from plivo_node.core.node import OperationContext
from plivo_node.nodes.plivo.resources._common import collection
from plivo_node.nodes.plivo.resources._messaging import (
    MESSAGE_PATH,
    check_mms_destinations,
    check_sender_not_destination,
    delivery_fields,
    message_output,
    resolve_sender,
    sender_fields,
    upload_media,
)
from plivo_node.nodes.plivo.suppression_scope import screen_destinations
from plivo_node.nodes.plivo.validation.fields import split_list, text_value
from plivo_node.nodes.plivo.validation.media import (
    MAX_MEDIA,
    MediaPlan,
    check_media_count,
    check_media_plan,
    collect_uploads,
    parse_media_urls,
)
from plivo_node.nodes.plivo.validation.phone import join_destinations, parse_destinations
from plivo_node.nodes.plivo.validation.sms_encoding import analyze_text

BINARY_PROPERTIES = "additionalFields.binary_properties"


async def send(ctx: OperationContext) -> list[JsonObject]:
    params = ctx.params
    extra = collection(params, "additionalFields")
    powerpack_uuid = text_value(extra.get("powerpack_uuid"))
    # MMS goes out from long codes and toll-free numbers only: no sender IDs, no short codes.
    sender = resolve_sender(params, powerpack_uuid, allow_sender_id=False)
    destinations = parse_destinations(params.get("to"), parameter="to")
    check_sender_not_destination(sender, destinations)
    check_mms_destinations(destinations)
    # Before the media upload: a suppressed recipient costs no upload either.
    destinations, suppressed = screen_destinations(destinations)
    text = "" if params.get("message") is None else str(params["message"])

    urls = parse_media_urls(params.get("media_urls"), parameter="media_urls")
    media_ids = split_list(extra.get("media_ids"))
    names = list(dict.fromkeys(split_list(extra.get("binary_properties"))))
    # Count first: it is cheap, and decoding a dozen large uploads to refuse them is not.
    check_media_count(urls=len(urls), media_ids=len(media_ids), uploads=len(names))
    uploads = collect_uploads(ctx.item.binary, names, parameter=BINARY_PROPERTIES)
    plan = check_media_plan(
        MediaPlan(urls=urls, media_ids=media_ids, uploads=uploads),
        text=text,
        size_parameter=BINARY_PROPERTIES,
    )
    if not text and plan.count == 0:
        raise ParameterError(
            "an MMS needs a message or at least one medium, and both are empty",
            hint=f"set Message, or give up to {MAX_MEDIA} media as Media URLs, "
            "Media IDs or Binary Properties",
            parameter="message",
        )

    all_media_ids = media_ids + (await upload_media(ctx.client, uploads) if uploads else [])
    to = join_destinations(destinations)
    body: dict[str, Any] = sender_fields(sender, powerpack_uuid)
    body["dst"] = to
    if text:
        body["text"] = text
    body["type"] = "mms"
    body.update(delivery_fields(params))
    if urls:
        body["media_urls"] = urls
    if all_media_ids:
        body["media_ids"] = all_media_ids

    response = await ctx.client.request("POST", MESSAGE_PATH, body=body)
    output = message_output(
        response.body or {},
        sender=sender,
        powerpack_uuid=powerpack_uuid,
        to=to,
        encoding=analyze_text(text),
        segments=1,  # an MMS is one message however long its text
        media=plan,
    )
    if suppressed:
        output["suppressed"] = [entry.number for entry in suppressed]
    return [output]
