"""/api/v1/sms/*: the gateway's webhooks (replies, delivery reports), the outbox and
the replies for operators; a team's SMS numbers (admin); the SMS report."""

from __future__ import annotations

import structlog
from starlette.requests import Request
from starlette.responses import Response

from db import sms as sms_db
from dispatch.auth.service import Principal
from dispatch.http import JSON, Operation, path_id, read_model
from dispatch.incidents.queue import serve_queue_after_commit
from dispatch.reports.schemas import check_period
from dispatch.reports.service import period_view
from dispatch.sms import replies
from dispatch.sms import service as sms
from dispatch.sms.schemas import (
    SmsNumbersIn,
    check_delivery,
    check_inbound,
    check_inbound_key,
    read_fields,
)
from dispatch.sms.views import inbound_view, message_view, report_view
from dispatch.vocabulary import ADMIN, GATEWAY, REPORT_READERS, STAFF

log = structlog.get_logger(__name__)
DELIVERED = frozenset({"1", "delivrd", "delivered", "success"})


async def inbound(request: Request, principal: Principal | None) -> Response:
    sender, text, message_id = check_inbound(await read_fields(request))
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        result = await replies.do_receive(conn, ctx, sender, text, message_id)
    # A reply may have freed its team ("selesai") or made it reachable again.
    await serve_queue_after_commit(ctx)
    return JSON(result)


async def delivery(request: Request, principal: Principal | None) -> Response:
    message_id, status = check_delivery(await read_fields(request))
    async with request.app.state.ctx.transaction() as conn:
        row = await sms_db.set_delivery(conn, message_id, status,
                                        status.strip().lower() in DELIVERED)
    log.info("sms.delivery_report", gateway_id=message_id, status=status, known=row is not None)
    return JSON({"known": row is not None})


async def list_messages(request: Request, principal: Principal) -> Response:
    incident = request.query_params.get("incident_id")
    team = request.query_params.get("team_id")
    async with request.app.state.ctx.acquire() as conn:
        rows = await sms_db.get_messages(
            conn, incident_id=int(incident) if incident and incident.isdigit() else None,
            team_id=int(team) if team and team.isdigit() else None)
    return JSON({"items": [message_view(row) for row in rows]})


async def list_replies(request: Request, principal: Principal) -> Response:
    async with request.app.state.ctx.acquire() as conn:
        rows = await sms_db.get_inbound(conn)
    return JSON({"items": [inbound_view(row) for row in rows]})


async def set_numbers(request: Request, principal: Principal) -> Response:
    team_id = path_id(request)
    body = await read_model(request, SmsNumbersIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        team = await sms.do_set_numbers(conn, ctx, team_id, list(dict.fromkeys(body.numbers)),
                                        actor=principal.actor)
    return JSON(team)


async def report(request: Request, principal: Principal) -> Response:
    ctx = request.app.state.ctx
    period = check_period(request.query_params, ctx.settings.timezone)
    async with ctx.acquire() as conn:
        row = await sms_db.get_sms_report(conn, period.start, period.end)
    return JSON({"period": period_view(period, ctx.settings), **report_view(row)})


_WEBHOOK = ({"name": "key", "in": "query", "required": False,
             "schema": {"type": "string"},
             "description": "DISPATCH112_SMS_INBOUND_KEY (else a gateway token)"},)
_INBOUND = ({"name": "from", "in": "query", "required": True, "schema": {"type": "string"}},
            {"name": "text", "in": "query", "required": True, "schema": {"type": "string"}},
            {"name": "id", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "the gateway's message id: a repeat is taken once"},
            *_WEBHOOK)
_ANSWERS = {200: "`{\"outcome\", \"team_id\", \"incident_id\", \"action\", \"steps\", "
                 "\"reply\"}` (docs/sms.md)", 422: "from or text missing"}

operations = [
    *(Operation(method, "/api/v1/sms/inbound", inbound, (GATEWAY,),
                "An SMS received from a team (reply digit), from the SMS gateway",
                answers=_ANSWERS, parameters=_INBOUND, keyed=check_inbound_key)
      for method in ("get", "post")),
    *(Operation(method, "/api/v1/sms/status", delivery, (GATEWAY,),
                "A delivery report of an SMS sent, from the SMS gateway",
                answers={200: "`{\"known\": bool}`"}, parameters=_WEBHOOK,
                keyed=check_inbound_key) for method in ("get", "post")),
    Operation("get", "/api/v1/sms/messages", list_messages, STAFF,
              "SMS sent or waiting to be sent to teams (?incident_id=, ?team_id=)",
              answers={200: "`{\"items\": [message]}`"}),
    Operation("get", "/api/v1/sms/replies", list_replies, STAFF,
              "SMS received, newest first, with what each came to",
              answers={200: "`{\"items\": [reply]}`"}),
    Operation("post", "/api/v1/teams/{id}/sms-numbers", set_numbers, (ADMIN,),
              "Set the numbers a team gets SMS on and may reply from", SmsNumbersIn,
              {200: "the team"}),
    Operation("get", "/api/v1/reports/sms", report, REPORT_READERS,
              "Assignments reached by SMS, and the time it cost",
              answers={200: "counts and seconds (docs/sms.md)"}),
]
