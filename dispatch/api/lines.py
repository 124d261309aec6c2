"""Lines, failover, the hotline and the callback queue."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import line_monitor as monitor_db
from db import lines as lines_db
from dispatch.auth import STAFF, require
from dispatch.errors import ValidationFailed
from dispatch.http import JSON, path_id, read_model
from dispatch.lines import callbacks, failover
from dispatch.lines.views import line_event_view
from dispatch.schemas import LineIn, OverrideIn

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


async def create_line(request: Request) -> Response:
    principal = await require(request, "admin")
    body = await read_model(request, LineIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        line = await failover.do_create_line(conn, ctx, body, actor=principal.actor)
    _wake_webhooks(request)
    return JSON(line, status_code=201, headers={"Location": f"/api/v1/lines/{line['id']}"})


async def list_lines(request: Request) -> Response:
    await require(request, *STAFF)
    async with request.app.state.ctx.pool.acquire() as conn:
        return JSON(await failover.get_lines(conn))


async def list_line_events(request: Request) -> Response:
    await require(request, *STAFF)
    limit = get_limit(request)
    async with request.app.state.ctx.pool.acquire() as conn:
        rows = await lines_db.get_line_events(conn, limit)
    return JSON({"items": [line_event_view(row) for row in rows]})


async def set_override(request: Request) -> Response:
    principal = await require(request, "admin")
    body = await read_model(request, OverrideIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        status = await failover.do_set_override(conn, ctx, body.line_id, body.reason,
                                                actor=principal.actor)
    _wake_webhooks(request)
    return JSON(status)


async def heartbeat(request: Request) -> Response:
    await require(request, *STAFF)
    line_id = path_id(request)
    async with request.app.state.ctx.transaction() as conn:
        await failover.do_heartbeat(conn, line_id)
    return Response(status_code=204)


async def get_monitor(request: Request) -> Response:
    """Which instance probes: this instance's own view, and the last leader's beat."""
    await require(request, *STAFF)
    monitor = request.app.state.line_monitor
    async with request.app.state.ctx.pool.acquire() as conn:
        leader = await monitor_db.get_leader(conn)
    return JSON({**monitor.status(), "leader": None if leader is None else {
        "instance_id": leader["instance_id"], "beat_at": leader["beat_at"]}})


async def get_hotline(request: Request) -> Response:
    async with request.app.state.ctx.pool.acquire() as conn:
        hotline = await failover.get_hotline(conn)
    return JSON(hotline, headers={"Cache-Control": HOTLINE_CACHE})


async def list_callbacks(request: Request) -> Response:
    await require(request, *STAFF)
    done, limit = get_done_filter(request), get_limit(request)
    async with request.app.state.ctx.pool.acquire() as conn:
        items = await callbacks.get_callbacks(conn, done, limit)
    return JSON({"items": items})


async def callback_done(request: Request) -> Response:
    principal = await require(request, *STAFF)
    callback_id = path_id(request)
    async with request.app.state.ctx.transaction() as conn:
        callback = await callbacks.do_mark_done(conn, callback_id, actor=principal.actor)
    return JSON(callback)


routes = [
    Route("/api/v1/lines", create_line, methods=["POST"]),
    Route("/api/v1/lines", list_lines, methods=["GET"]),
    Route("/api/v1/lines/events", list_line_events, methods=["GET"]),
    Route("/api/v1/lines/monitor", get_monitor, methods=["GET"]),
    Route("/api/v1/lines/override", set_override, methods=["POST"]),
    Route("/api/v1/lines/{id}/heartbeat", heartbeat, methods=["POST"]),
    Route("/api/v1/hotline", get_hotline, methods=["GET"]),
    Route("/api/v1/callbacks", list_callbacks, methods=["GET"]),
    Route("/api/v1/callbacks/{id}/done", callback_done, methods=["POST"]),
]
