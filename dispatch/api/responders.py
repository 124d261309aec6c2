"""The team's phone (responder token)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatch import responders
from dispatch.auth import require
from dispatch.http import JSON, read_model
from dispatch.queue import serve_queue_after_commit
from dispatch.schemas import LocationIn, StatusIn


async def get_assignment(request: Request) -> Response:
    principal = await require(request, "responder")
    async with request.app.state.ctx.pool.acquire() as conn:
        assignment = await responders.get_team_assignment(conn, principal.team_id)
    return JSON({"assignment": assignment})


async def post_status(request: Request) -> Response:
    principal = await require(request, "responder")
    body = await read_model(request, StatusIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        result = await responders.do_team_step(conn, principal.team_id, body,
                                               actor=principal.actor)
    if body.action == "clear" and not result.get("replayed"):
        await serve_queue_after_commit(ctx)
    return JSON({"client_id": body.client_id, "ok": True, **result})


async def post_location(request: Request) -> Response:
    principal = await require(request, "responder")
    body = await read_model(request, LocationIn)
    async with request.app.state.ctx.transaction() as conn:
        await responders.do_team_location(conn, principal.team_id, body, actor=principal.actor)
    return Response(status_code=204)


routes = [
    Route("/api/v1/team/assignment", get_assignment, methods=["GET"]),
    Route("/api/v1/team/status", post_status, methods=["POST"]),
    Route("/api/v1/team/location", post_location, methods=["POST"]),
]
