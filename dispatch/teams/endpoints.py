"""/api/v1/teams: teams and their shifts (admin, operator)."""

from __future__ import annotations

import structlog
from starlette.requests import Request
from starlette.responses import Response

from db import teams as teams_db
from dispatch.auth.service import Principal, hash_secret
from dispatch.http import JSON, Operation, path_id, read_model
from dispatch.incidents.queue import serve_queue_after_commit
from dispatch.openapi import listing
from dispatch.teams import service as teams
from dispatch.teams.schemas import ShiftIn, TeamIn, TeamPinIn, TeamServiceIn
from dispatch.teams.views import SHIFT, TEAM, TEAM_DETAIL, team_view
from dispatch.vocabulary import ADMIN, STAFF

log = structlog.get_logger(__name__)


async def list_teams(request: Request, principal: Principal) -> Response:
    ctx = request.app.state.ctx
    async with ctx.acquire() as conn:
        rows = await teams_db.get_teams(conn, ctx.settings.gps_fresh_s)
    return JSON({"items": [team_view(row) for row in rows]})


async def create_team(request: Request, principal: Principal) -> Response:
    body = await read_model(request, TeamIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        team = await teams.do_create_team(conn, body, actor=principal.actor,
                                          gps_fresh_s=ctx.settings.gps_fresh_s)
    return JSON(team, status_code=201)


async def get_team(request: Request, principal: Principal) -> Response:
    ctx = request.app.state.ctx
    async with ctx.acquire() as conn:
        team = await teams.get_team_or_404(conn, path_id(request), ctx.settings.gps_fresh_s)
        team["shifts"] = [dict(s) for s in await teams_db.get_shifts(conn, team["id"])]
    return JSON(team)


async def add_shift(request: Request, principal: Principal) -> Response:
    team_id = path_id(request)
    body = await read_model(request, ShiftIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        shift = await teams.do_add_shift(conn, team_id, body, actor=principal.actor,
                                         gps_fresh_s=ctx.settings.gps_fresh_s)
    await serve_queue_after_commit(ctx)  # a shift from now puts the team on duty
    return JSON(shift, status_code=201)


async def set_service(request: Request, principal: Principal) -> Response:
    team_id = path_id(request)
    body = await read_model(request, TeamServiceIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        team = await teams.do_set_service(conn, team_id, body.status, actor=principal.actor,
                                          gps_fresh_s=ctx.settings.gps_fresh_s)
    if team["status"] == "available":  # back in service: someone may be waiting
        await serve_queue_after_commit(ctx)
    return JSON(team)


async def set_pin(request: Request, principal: Principal) -> Response:
    team_id = path_id(request)
    body = await read_model(request, TeamPinIn)
    pin_hash = await hash_secret(body.pin)  # argon2 before taking a connection
    async with request.app.state.ctx.transaction() as conn:
        await teams.do_set_pin(conn, team_id, pin_hash)
    log.info("team.pin_changed", team_id=team_id, by=principal.actor)
    return Response(status_code=204)


async def revoke(request: Request, principal: Principal) -> Response:
    team_id = path_id(request)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        count = await teams.do_revoke_team(conn, team_id, ctx.settings.gps_fresh_s)
    log.info("team.tokens_revoked", team_id=team_id, tokens=count, by=principal.actor)
    return Response(status_code=204)


operations = [
    Operation("get", "/api/v1/teams", list_teams, STAFF, "Teams with status, duty and position",
              answers={200: "`{\"items\": [team]}`"}, returns=listing(TEAM)),
    Operation("post", "/api/v1/teams", create_team, STAFF, "Create a team", TeamIn,
              {201: "the team", 409: "team code already taken"}, returns=TEAM),
    Operation("get", "/api/v1/teams/{id}", get_team, STAFF, "A team with its shifts",
              answers={200: "the team"}, returns=TEAM_DETAIL),
    Operation("post", "/api/v1/teams/{id}/shifts", add_shift, STAFF, "Add a shift to a team",
              ShiftIn, {201: "the shift"}, returns=SHIFT),
    Operation("post", "/api/v1/teams/{id}/service", set_service, STAFF,
              "Put a free team out of service, or back in", TeamServiceIn,
              {200: "the team", 409: "the team is on an assignment"}, returns=TEAM),
    Operation("post", "/api/v1/teams/{id}/pin", set_pin, (ADMIN,),
              "Change a team's PIN and log all its phones out", TeamPinIn,
              {204: "PIN changed; the team's tokens revoked, its sockets closed (4401)"}),
    Operation("post", "/api/v1/teams/{id}/revoke", revoke, (ADMIN,),
              "Log all of a team's phones out (a phone lost or stolen)",
              answers={204: "the team's tokens revoked, its sockets closed (4401)"}),
]
