"""/api/v1/aml: the handset's own location, from the SMS gateway (ETSI TS 103 625
text) and the HTTPS receiver (Android ELS form). Only the gateway role posts here (or a
sender with the shared key, DISPATCH112_AML_KEY), and only when the city has switched
AML on (DISPATCH112_AML=on); otherwise 404."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from dispatch.aml import service as aml
from dispatch.aml.parser import AmlRefused, parse_els, parse_sms
from dispatch.aml.schemas import KEY_ACTOR, KEY_HEADER, AmlSmsIn, check_aml_key
from dispatch.aml.views import accepted_view, refused_view
from dispatch.auth.service import Principal
from dispatch.clock import check_recent_time
from dispatch.errors import NotFound, PayloadTooLarge, ValidationFailed
from dispatch.http import JSON, Operation, read_body, read_model
from dispatch.schemas import check_phone_param
from dispatch.vocabulary import AML_SENDERS

MAX_FORM_FIELDS = 100
FORM = "application/x-www-form-urlencoded"


def check_enabled(request: Request) -> None:
    if not request.app.state.settings.aml_enabled:
        raise NotFound("AML is not switched on here (DISPATCH112_AML) / AML belum diaktifkan")


def actor_of(principal: Principal | None) -> str:
    """The gateway user, or the shared key's name when the sender came in with it."""
    return principal.actor if principal is not None else KEY_ACTOR


async def sms(request: Request, principal: Principal | None) -> Response:
    """An AML SMS: 202 with the call it was tied to (null: none open yet; it waits for
    one); 422 naming `text` when the text is not a usable AML message."""
    check_enabled(request)
    body = await read_model(request, AmlSmsIn)
    check_recent_time(body.received_at, "received_at")
    try:
        fix = parse_sms(body.text)
        ctx = request.app.state.ctx
        async with ctx.transaction() as conn:
            call_id, location = await aml.do_take_fix(
                conn, fix, body.sender, transport="sms", actor=actor_of(principal),
                settings=ctx.settings)
    except AmlRefused as exc:
        raise ValidationFailed.field("text", str(exc)) from None
    return JSON(accepted_view(call_id, location), status_code=202)


async def read_form(request: Request) -> dict[str, str]:
    """The ELS form, each field once; AmlRefused for anything else."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != FORM:
        raise AmlRefused(f"send the form as {FORM}")
    try:
        raw = await read_body(request, request.app.state.settings.max_body_bytes)
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True,
                          max_num_fields=MAX_FORM_FIELDS, errors="strict")
    except PayloadTooLarge:
        raise AmlRefused("the form is too large") from None
    except (UnicodeDecodeError, ValueError):
        raise AmlRefused("not a form") from None
    form = dict(pairs)
    if len(form) != len(pairs) or any("\x00" in k + v for k, v in pairs):
        raise AmlRefused("a field given twice, or a NUL character")
    return form


async def els(request: Request, principal: Principal | None) -> Response:
    """An Android ELS form: 200 whatever it holds (`accepted` says whether it was
    taken), since the handset does not act on an error."""
    check_enabled(request)
    try:
        form = await read_form(request)
        fix = parse_els(form)
        try:
            number = check_phone_param(fix.number, "device_number")
        except ValidationFailed:
            number = None
        ctx = request.app.state.ctx
        async with ctx.transaction() as conn:
            call_id, location = await aml.do_take_fix(
                conn, fix, number, transport="els", actor=actor_of(principal),
                settings=ctx.settings)
    except AmlRefused as exc:
        return JSON(refused_view(str(exc)))
    return JSON(accepted_view(call_id, location))


_KEY = ({"name": "key", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "DISPATCH112_AML_KEY (or in the X-AML-Key header; else a gateway "
                        "token)"},
        {"name": KEY_HEADER, "in": "header", "required": False, "schema": {"type": "string"},
         "description": "DISPATCH112_AML_KEY"})

operations = [
    Operation("post", "/api/v1/aml/sms", sms, AML_SENDERS,
              "An AML SMS (ETSI TS 103 625) forwarded by the SMS gateway", AmlSmsIn,
              {202: "`{\"accepted\": true, \"call_id\": id|null, \"location\"}`: tied to "
                    "the open call from that number, or waiting for it",
               404: "AML is not switched on (DISPATCH112_AML)",
               422: "`text` is not a usable AML message (its reason), or a bad `from`"},
              parameters=_KEY, keyed=check_aml_key),
    Operation("post", "/api/v1/aml/els", els, AML_SENDERS,
              "An Android ELS location (application/x-www-form-urlencoded: "
              "location_latitude, location_longitude, location_accuracy, location_time, "
              "location_source, location_confidence, device_number)",
              answers={200: "always: `{\"accepted\": true, \"call_id\", \"location\"}` or "
                            "`{\"accepted\": false, \"reason\"}`",
                       404: "AML is not switched on (DISPATCH112_AML)"},
              parameters=_KEY, keyed=check_aml_key),
]
