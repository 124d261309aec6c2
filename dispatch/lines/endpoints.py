"""Lines, failover, the hotline and the callback queue."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from db import line_monitor as monitor_db
from db import lines as lines_db
from dispatch.auth.service import Principal
from dispatch.errors import ValidationFailed
from dispatch.http import JSON, Operation, path_id, read_model
from dispatch.lines import callbacks
from dispatch.lines import service as lines
from dispatch.lines.schemas import LineIn, OverrideIn
from dispatch.lines.views import (
    CALLBACK,
    HOTLINE,
    LINE,
    LINE_EVENT,
    LINES,
    MONITOR,
    STATUS,
    line_event_view,
)
from dispatch.openapi import listing
from dispatch.vocabulary import ADMIN, PUBLIC, STAFF, TELEPHONY

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
# The hotline is public and polled by the city website and chat bots: a few seconds
# of caching spares the service, and is short next to a failover's own delay.
HOTLINE_CACHE = "public, max-age=5"


def get_limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT):
        raise ValidationFailed.field("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def get_done_filter(request: Request) -> bool | None:
    raw = request.query_params.get("done")
    flags = {"true": True, "false": False, None: None}
    if raw not in flags:
        raise ValidationFailed.field("done", "must be true or false")
    return flags[raw]


def _wake_webhooks(request: Request) -> None:
    """A change made here may have queued a notification: deliver it now if this
    instance is the one delivering (else the leader finds it at its next poll)."""
    monitor = getattr(request.app.state, "line_monitor", None)
    if monitor is not None and monitor.leading:
        monitor.wake_webhooks()


async def create_line(request: Request, principal: Principal) -> Response:
    body = await read_model(request, LineIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        line = await lines.do_create_line(conn, ctx, body, actor=principal.actor)
    _wake_webhooks(request)
    return JSON(line, status_code=201, headers={"Location": f"/api/v1/lines/{line['id']}"})


async def list_lines(request: Request, principal: Principal) -> Response:
    async with request.app.state.ctx.acquire() as conn:
        return JSON(await lines.get_lines(conn))


async def list_line_events(request: Request, principal: Principal) -> Response:
    limit = get_limit(request)
    async with request.app.state.ctx.acquire() as conn:
        rows = await lines_db.get_line_events(conn, limit)
    return JSON({"items": [line_event_view(row) for row in rows]})


async def set_override(request: Request, principal: Principal) -> Response:
    body = await read_model(request, OverrideIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        status = await lines.do_set_override(conn, ctx, body.line_id, body.reason,
                                                actor=principal.actor)
    _wake_webhooks(request)
    return JSON(status)


async def heartbeat(request: Request, principal: Principal) -> Response:
    line_id = path_id(request)
    async with request.app.state.ctx.transaction() as conn:
        await lines.do_heartbeat(conn, line_id)
    return Response(status_code=204)


async def get_monitor(request: Request, principal: Principal) -> Response:
    """Which instance probes: this instance's own view, and the last leader's beat."""
    monitor = request.app.state.line_monitor
    async with request.app.state.ctx.acquire() as conn:
        leader = await monitor_db.get_leader(conn)
    return JSON({**monitor.status(), "leader": None if leader is None else {
        "instance_id": leader["instance_id"], "beat_at": leader["beat_at"]}})


async def get_hotline(request: Request, principal: None) -> Response:
    async with request.app.state.ctx.acquire() as conn:
        hotline = await lines.get_hotline(conn)
    return JSON(hotline, headers={"Cache-Control": HOTLINE_CACHE})


async def list_callbacks(request: Request, principal: Principal) -> Response:
    done, limit = get_done_filter(request), get_limit(request)
    async with request.app.state.ctx.acquire() as conn:
        items = await callbacks.get_callbacks(conn, done, limit)
    return JSON({"items": items})


async def callback_done(request: Request, principal: Principal) -> Response:
    callback_id = path_id(request)
    async with request.app.state.ctx.transaction() as conn:
        callback = await callbacks.do_mark_done(conn, callback_id, actor=principal.actor)
    return JSON(callback)


LIMIT = {"name": "limit", "in": "query", "required": False,
         "description": f"how many, newest first (default {DEFAULT_LIMIT})",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}}
DONE = {"name": "done", "in": "query", "required": False,
        "description": "true: only callbacks done; false: only those still to do",
        "schema": {"type": "string", "enum": ["true", "false"]}}

operations = [
    Operation("post", "/api/v1/lines", create_line, (ADMIN,),
              "Add a 112 line or backup number with its probe", LineIn,
              {201: "the line", 409: "a line with this number exists"}, returns=LINE),
    Operation("get", "/api/v1/lines", list_lines, STAFF, "Lines with state and the active line",
              answers={200: "`{\"items\": [line], \"active_line_id\", \"since\", "
                            "\"critical\", \"override\"}`"}, returns=LINES),
    Operation("get", "/api/v1/lines/events", list_line_events, STAFF,
              "The line history, newest first (?limit=)",
              answers={200: "`{\"items\": [{\"line_id\", \"state\", \"active_line_id\", "
                            "\"at\", \"reason\", ...}]}`"}, parameters=(LIMIT,),
              returns=listing(LINE_EVENT)),
    Operation("get", "/api/v1/lines/monitor", get_monitor, STAFF,
              "Which instance probes the lines",
              answers={200: "`instance_id`, `leading`, `probes_sent` of this instance, "
                            "and `leader`"}, returns=MONITOR),
    Operation("post", "/api/v1/lines/override", set_override, (ADMIN,),
              "Force a line active, or back to automatic (null)", OverrideIn,
              {200: "`active_line_id`, `since`, `critical`, `override`"}, returns=STATUS),
    Operation("post", "/api/v1/lines/{id}/heartbeat", heartbeat, TELEPHONY,
              "The telephony gateway's heartbeat of a line",
              answers={204: "noted", 409: "the line is not probed by heartbeats"}),
    Operation("get", "/api/v1/hotline", get_hotline, PUBLIC, "The number to call now",
              answers={200: "`number`, `label`, `line_id`, `since`, `critical`, `override`",
                       404: "no line is configured"}, returns=HOTLINE),
    Operation("get", "/api/v1/callbacks", list_callbacks, STAFF,
              "Callers to call back (?done=true|false, ?limit=)",
              answers={200: "`{\"items\": [{\"id\", \"call_id\", \"caller_number\", "
                            "\"line_id\", \"dropped_at\", \"done\"}]}`"},
              parameters=(DONE, LIMIT), returns=listing(CALLBACK)),
    Operation("post", "/api/v1/callbacks/{id}/done", callback_done, STAFF,
              "Mark a callback done",
              answers={200: "the callback (the same when done already)"}, returns=CALLBACK),
]
