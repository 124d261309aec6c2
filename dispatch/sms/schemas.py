"""What the SMS endpoints read: the gateway's webhooks (query or form fields, in each
gateway's own names) and an admin's list of a team's numbers."""

from __future__ import annotations

import hmac
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import QueryParams
from starlette.requests import Request

from dispatch.errors import Unauthorized, ValidationFailed
from dispatch.http import parse_model, read_body
from dispatch.schemas import Body, Phone

MAX_TEXT = 1600  # ten concatenated segments: anything longer is not a team's reply
MAX_NUMBERS = 5
# Each field under the names Kannel (%p, %a, %I), Jasmin and playSMS send it by.
FROM_NAMES, TEXT_NAMES = ("from", "sender", "msisdn"), ("text", "content", "message", "msg")
ID_NAMES = ("id", "message_id", "smslog_id")


class _Flat(BaseModel):
    """A JSON object of any fields (a gateway posting its webhook as JSON)."""

    model_config = ConfigDict(extra="allow")


class SmsNumbersIn(Body):
    numbers: Annotated[list[Phone], Field(max_length=MAX_NUMBERS)]


def check_inbound_key(request: Request) -> bool:
    """Whether the request carries `key=` (then it must equal DISPATCH112_SMS_INBOUND_KEY,
    else 401); without one, the caller needs a gateway token."""
    given = request.query_params.get("key")
    if given is None:
        return False
    expected = request.app.state.settings.sms_inbound_key
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("wrong SMS inbound key")
    return True


async def read_fields(request: Request) -> QueryParams:
    """The query's fields, and for a POST those of its form body too (form values win);
    JSON bodies are read as a flat object."""
    fields = dict(request.query_params)
    if request.method == "POST":
        raw = await read_body(request, request.app.state.settings.max_body_bytes)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            raise ValidationFailed.field("body", "must be UTF-8") from None
        if media == "application/json" and text.strip():
            fields |= {k: str(v) for k, v in parse_model(_Flat, raw).model_extra.items()}
        elif text:
            fields |= dict(QueryParams(text))
    return QueryParams(fields)


def _first(fields: QueryParams, names: tuple[str, ...]) -> str | None:
    return next((fields[name] for name in names if fields.get(name) is not None), None)


def check_inbound(fields: QueryParams) -> tuple[str, str, str | None]:
    """(from, text, the gateway's message id); 422 naming what is missing or wrong."""
    sender, text, message_id = (_first(fields, FROM_NAMES), _first(fields, TEXT_NAMES),
                                _first(fields, ID_NAMES))
    if not sender or not sender.strip():
        raise ValidationFailed.field("from", "the sender's number is required")
    if text is None:
        raise ValidationFailed.field("text", "the message text is required")
    if len(text) > MAX_TEXT or len(sender) > 32:
        raise ValidationFailed.field("text" if len(text) > MAX_TEXT else "from", "too long")
    if "\x00" in text + sender + (message_id or ""):
        raise ValidationFailed.field("text", "must not contain a NUL character")
    if message_id is not None and (not message_id.strip() or len(message_id) > 100):
        raise ValidationFailed.field("id", "must be 1 to 100 characters")
    return sender.strip(), text, message_id


def check_delivery(fields: QueryParams) -> tuple[str, str]:
    """(the gateway's message id, its status) of a delivery report."""
    message_id = _first(fields, ID_NAMES)
    status = _first(fields, ("status", "message_status", "dlr", "type"))
    if not message_id or len(message_id) > 100 or "\x00" in message_id:
        raise ValidationFailed.field("id", "the gateway's message id is required")
    if not status or len(status) > 40 or "\x00" in status:
        raise ValidationFailed.field("status", "the delivery status is required")
    return message_id, status
