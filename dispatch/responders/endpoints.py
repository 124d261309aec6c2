"""/api/v1/team: the team's phone (responder token)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from dispatch.auth.service import Principal
from dispatch.http import JSON, Operation, read_model
from dispatch.incidents.queue import serve_queue_after_commit
from dispatch.responders import service as responders
from dispatch.responders.route import get_team_route
from dispatch.responders.schemas import LocationIn, StatusIn
from dispatch.responders.views import ASSIGNMENT_ANSWER, STEP_ANSWER
from dispatch.vocabulary import RESPONDER


async def get_assignment(request: Request, principal: Principal) -> Response:
    async with request.app.state.ctx.acquire() as conn:
        assignment = await responders.get_team_assignment(conn, principal.team_id)
    return JSON({"assignment": assignment})


async def get_route(request: Request, principal: Principal) -> Response:
    ctx = request.app.state.ctx
    async with ctx.acquire() as conn:
        route = await get_team_route(conn, ctx, principal.team_id)
    return JSON(route)


async def post_status(request: Request, principal: Principal) -> Response:
    body = await read_model(request, StatusIn)
    ctx = request.app.state.ctx
    responders.check_rate(ctx, principal.team_id)
    async with ctx.transaction() as conn:
        result = await responders.do_team_step(conn, ctx, principal.team_id, body,
                                               actor=principal.actor)
    if body.action == "clear" and not result.get("replayed"):
        await serve_queue_after_commit(ctx)
    return JSON({"client_id": body.client_id, "ok": True, **result})


async def post_location(request: Request, principal: Principal) -> Response:
    body = await read_model(request, LocationIn)
    ctx = request.app.state.ctx
    responders.check_rate(ctx, principal.team_id)
    await responders.do_team_location(ctx, principal.team_id, body)
    return Response(status_code=204)


operations = [
    Operation("get", "/api/v1/team/assignment", get_assignment, (RESPONDER,),
              "The calling team's active assignment",
              answers={200: "`{\"assignment\": {..., \"incident\": {...}} | null}`"},
              returns=ASSIGNMENT_ANSWER),
    Operation("get", "/api/v1/team/route", get_route, (RESPONDER,),
              "The calling team's route by road to its current incident",
              answers={200: "`{\"incident_id\", \"from\": {lat, lon, source}, \"to\": "
                            "{lat, lon}, \"route\": Feature | null}`: a LineString from the "
                            "team's position to the incident with properties eta_s, "
                            "distance_m, source; null when no road joins them",
                       404: "no road graph is loaded (`/problems/no-road-graph`), or no "
                            "active assignment"}),
    Operation("post", "/api/v1/team/status", post_status, (RESPONDER,),
              "A status step of the calling team", StatusIn,
              {200: "`client_id`, `ok`, `incident_id`, `incident_status`, `team_status`, "
                    "`action`",
               404: "no such incident", 409: "step does not follow from the current state",
               429: "too many steps or fixes from this phone; see Retry-After"},
              returns=STEP_ANSWER),
    Operation("post", "/api/v1/team/location", post_location, (RESPONDER,),
              "A GPS fix of the calling team", LocationIn,
              {204: "stored (an older fix than the stored one is ignored)",
               429: "too many steps or fixes from this phone; see Retry-After"}),
]
