"""Teams and shifts (admin, operator)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import teams as teams_db
from dispatch import teams, views
from dispatch.auth import STAFF, require
from dispatch.http import JSON, path_id, read_model
from dispatch.schemas import ShiftIn, TeamIn, TeamServiceIn


async def list_teams(request: Request) -> Response:
    await require(request, *STAFF)
    ctx = request.app.state.ctx
    async with ctx.pool.acquire() as conn:
        rows = await teams_db.get_teams(conn, ctx.settings.gps_fresh_s)
    return JSON({"items": [views.team_view(row) for row in rows]})


async def create_team(request: Request) -> Response:
    principal = await require(request, *STAFF)
    body = await read_model(request, TeamIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        team = await teams.do_create_team(conn, body, actor=principal.actor,
                                          gps_fresh_s=ctx.settings.gps_fresh_s)
    return JSON(team, status_code=201)


async def get_team(request: Request) -> Response:
    await require(request, *STAFF)
    ctx = request.app.state.ctx
    async with ctx.pool.acquire() as conn:
        team = await teams.get_team_or_404(conn, path_id(request), ctx.settings.gps_fresh_s)
        team["shifts"] = [dict(s) for s in await teams_db.get_shifts(conn, team["id"])]
    return JSON(team)


async def add_shift(request: Request) -> Response:
    principal = await require(request, *STAFF)
    team_id = path_id(request)
    body = await read_model(request, ShiftIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        shift = await teams.do_add_shift(conn, team_id, body, actor=principal.actor,
                                         gps_fresh_s=ctx.settings.gps_fresh_s)
    return JSON(shift, status_code=201)


async def set_service(request: Request) -> Response:
    principal = await require(request, *STAFF)
    team_id = path_id(request)
    body = await read_model(request, TeamServiceIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        team = await teams.do_set_service(conn, team_id, body.status, actor=principal.actor,
                                          gps_fresh_s=ctx.settings.gps_fresh_s)
    return JSON(team)


routes = [
    Route("/api/v1/teams", list_teams, methods=["GET"]),
    Route("/api/v1/teams", create_team, methods=["POST"]),
    Route("/api/v1/teams/{id}", get_team, methods=["GET"]),
    Route("/api/v1/teams/{id}/shifts", add_shift, methods=["POST"]),
    Route("/api/v1/teams/{id}/service", set_service, methods=["POST"]),
]
