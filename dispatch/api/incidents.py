"""Calls and incidents (admin, operator)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import incidents as incidents_db
from dispatch import calls, incidents, views
from dispatch.auth import STAFF, require
from dispatch.errors import ValidationFailed
from dispatch.http import JSON, path_id, read_model
from dispatch.queue import serve_queue_after_commit
from dispatch.schemas import AssignIn, CallEndIn, CallIn, CancelIn, IncidentIn

MAX_IDEMPOTENCY_KEY = 200


def get_idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY and key.isprintable()):
        raise ValidationFailed.field("Idempotency-Key", "must be 1-200 printable characters")
    return key


async def create_call(request: Request) -> Response:
    principal = await require(request, *STAFF)
    body = await read_model(request, CallIn)
    async with request.app.state.ctx.transaction() as conn:
        call = await calls.do_create_call(conn, body, actor=principal.actor)
    return JSON(call, status_code=201)


async def end_call(request: Request) -> Response:
    principal = await require(request, *STAFF)
    call_id = path_id(request)
    body = await read_model(request, CallEndIn)
    async with request.app.state.ctx.transaction() as conn:
        call = await calls.do_end_call(conn, call_id, body, actor=principal.actor)
    return JSON(call)


async def create_incident(request: Request) -> Response:
    principal = await require(request, *STAFF)
    key = get_idempotency_key(request)
    body = await read_model(request, IncidentIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        incident_id, created = await incidents.do_create_incident(
            conn, ctx, body, actor=principal.actor, idempotency_key=key)
    async with ctx.pool.acquire() as conn:
        summary = await incidents.get_incident_summary(conn, incident_id)
    return JSON(summary, status_code=201 if created else 200,
                headers={"Location": f"/api/v1/incidents/{incident_id}"})


async def list_incidents(request: Request) -> Response:
    await require(request, *STAFF)
    active = {"true": True, "false": False, None: None}.get(request.query_params.get("active"),
                                                            "bad")
    if active == "bad":
        raise ValidationFailed.field("active", "must be true or false")
    async with request.app.state.ctx.pool.acquire() as conn:
        rows = await incidents_db.get_incidents(conn, active=active)
    return JSON({"items": [views.incident_view(row) for row in rows]})


async def get_incident(request: Request) -> Response:
    await require(request, *STAFF)
    incident_id = path_id(request)
    async with request.app.state.ctx.pool.acquire() as conn:
        return JSON(await incidents.get_incident_detail(conn, incident_id))


async def assign(request: Request) -> Response:
    principal = await require(request, *STAFF)
    incident_id = path_id(request)
    body = await read_model(request, AssignIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        await incidents.do_assign(conn, ctx, incident_id, body.team_id, actor=principal.actor)
    async with ctx.pool.acquire() as conn:
        detail = await incidents.get_incident_detail(conn, incident_id)
    await serve_queue_after_commit(ctx)  # the team taken off may serve someone waiting
    return JSON(detail)


async def cancel(request: Request) -> Response:
    principal = await require(request, *STAFF)
    incident_id = path_id(request)
    body = await read_model(request, CancelIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        await incidents.do_cancel(conn, incident_id, body.reason, actor=principal.actor)
    async with ctx.pool.acquire() as conn:
        detail = await incidents.get_incident_detail(conn, incident_id)
    await serve_queue_after_commit(ctx)
    return JSON(detail)


routes = [
    Route("/api/v1/calls", create_call, methods=["POST"]),
    Route("/api/v1/calls/{id}/end", end_call, methods=["POST"]),
    Route("/api/v1/incidents", create_incident, methods=["POST"]),
    Route("/api/v1/incidents", list_incidents, methods=["GET"]),
    Route("/api/v1/incidents/{id}", get_incident, methods=["GET"]),
    Route("/api/v1/incidents/{id}/assign", assign, methods=["POST"]),
    Route("/api/v1/incidents/{id}/cancel", cancel, methods=["POST"]),
]
