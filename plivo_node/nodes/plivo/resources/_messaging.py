"""What SMS and MMS sends share: sender rules, MMS checks, the media upload, the output item."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plivo_node.core.api import ApiClient, ApiResponse, UploadFile
from plivo_node.core.errors import (
    ApiError,
    InvalidRequestError,
    ParameterError,
    api_error_for_status,
)
from plivo_node.core.items import JsonObject
from plivo_node.nodes.plivo.resources._common import body_of, http_method, put_text
from plivo_node.nodes.plivo.validation.fields import check_bool, check_http_url, text_value
from plivo_node.nodes.plivo.validation.media import MediaPlan
from plivo_node.nodes.plivo.validation.phone import normalize_number, normalize_sender, region_of
from plivo_node.nodes.plivo.validation.sms_encoding import TextEncoding

MESSAGE_PATH = "Message/"
MEDIA_PATH = "Media/"
MMS_REGIONS = frozenset({"US", "CA"})
LOG_VALUES = ("true", "false", "number_only", "content_only")


def resolve_sender(
    params: Mapping[str, Any], powerpack_uuid: str, *, allow_sender_id: bool
) -> str | None:
    """The `src` to send, or ``None`` when a Powerpack picks the sender (it overrides From)."""
    if powerpack_uuid:
        return None
    raw = params.get("from")
    if not text_value(raw):
        raise ParameterError(
            "neither From nor a Powerpack UUID is set, so there is no sender",
            hint="set From to a Plivo number like +14155550100, "
            "or add Powerpack UUID under Additional Fields",
            parameter="from",
        )
    if allow_sender_id:
        return normalize_sender(raw, parameter="from")
    return normalize_number(raw, parameter="from")


def check_sender_not_destination(sender: str | None, destinations: list[str]) -> None:
    """Plivo (and its SDK) refuse a message whose sender is also one of its destinations."""
    if sender is not None and sender in destinations:
        raise ParameterError(
            f"To includes the sender {sender}",
            hint="remove the From number from To",
            parameter="to",
        )


def check_mms_destinations(destinations: list[str]) -> None:
    """MMS reaches US and Canadian numbers only; refuse the whole send before any request."""
    for destination in destinations:
        region = region_of(destination)
        if region not in MMS_REGIONS:
            where = f"a number in {region}" if region else "not a US or Canadian number"
            raise ParameterError(
                f"'+{destination}' is {where}; MMS reaches only US and Canadian numbers",
                hint="remove destinations outside the US and Canada, or send an SMS instead",
                parameter="to",
            )


def log_value(raw: object) -> str:
    """`log` as the string Plivo wants: "true", "false", "number_only" or "content_only"."""
    if isinstance(raw, str) and raw.strip().lower() in LOG_VALUES:
        return raw.strip().lower()
    return "true" if check_bool(raw, parameter="log", label="Log") else "false"


def delivery_fields(params: Mapping[str, Any]) -> dict[str, Any]:
    """The status callback (`url` when given, `method` always, as the SDK does) and `log`."""
    fields: dict[str, Any] = {}
    if text_value(params.get("url")):
        fields["url"] = check_http_url(params["url"], parameter="url", label="URL")
    fields["method"] = http_method(params.get("method", "POST"), parameter="method", label="Method")
    fields["log"] = log_value(params.get("log", True))
    return fields


def sender_fields(sender: str | None, powerpack_uuid: str) -> dict[str, Any]:
    """`src` or `powerpack_uuid`, whichever picks the sender."""
    fields: dict[str, Any] = {}
    if sender is not None:
        fields["src"] = sender
    put_text(fields, "powerpack_uuid", powerpack_uuid)
    return fields


async def upload_media(client: ApiClient, uploads: list[UploadFile]) -> list[str]:
    """Upload the files through `POST Media/` and return their media ids, in order."""
    response = await client.request("POST", MEDIA_PATH, files=uploads)
    body = body_of(response)
    objects = body.get("objects")
    if not isinstance(objects, list) or len(objects) != len(uploads):
        raise _upload_failed(response, "the answer does not list one result per file")
    media_ids: list[str] = []
    for upload, result in zip(uploads, objects, strict=True):
        media_id = result.get("media_id") if isinstance(result, Mapping) else None
        if not media_id or str(result.get("status", "success")).lower() != "success":
            status_code = result.get("status_code") if isinstance(result, Mapping) else None
            raise _upload_failed(
                response, f"the upload of {upload.file_name} failed", status_code=status_code
            )
        media_ids.append(str(media_id))
    return media_ids


def _upload_failed(response: ApiResponse, text: str, *, status_code: object = None) -> ApiError:
    # Plivo answered 2xx for the request as a whole but refused a file: report it as an API
    # error with the file's own status when it gave one (never retried: the send waits on it).
    status = status_code if isinstance(status_code, int) and status_code >= 400 else 422
    error_class = api_error_for_status(status)
    if error_class.retriable:
        error_class = InvalidRequestError
    api_id = (response.body or {}).get("api_id")
    return error_class(
        status=status,
        method="POST",
        path=MEDIA_PATH,
        api_id=str(api_id) if api_id else None,
        error_text=text,
        service="Plivo",
    )


def message_output(
    answer: Mapping[str, Any],
    *,
    sender: str | None,
    powerpack_uuid: str,
    to: str,
    encoding: TextEncoding,
    segments: int,
    media: MediaPlan | None = None,
) -> JsonObject:
    """The output item of a send: Plivo's answer plus what the node knows about the message."""
    uuids = answer.get("message_uuid")
    output: JsonObject = {
        "status": "queued",
        "message_uuid": uuids if isinstance(uuids, list) else ([uuids] if uuids else []),
        "api_id": answer.get("api_id"),
        "message": answer.get("message"),
        "from": sender,
        "to": to,
        "encoding": encoding.encoding,
        "segments": segments,
    }
    if powerpack_uuid:
        output["powerpack_uuid"] = powerpack_uuid
    if answer.get("invalid_number"):
        output["invalid_number"] = answer["invalid_number"]
    if media is not None:
        output["media_count"] = media.count
    return output
