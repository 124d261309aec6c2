"""/api/v1/incidents: logging emergencies, reading them, sending and taking off teams
(admin, operator)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from db import incidents as incidents_db
from dispatch.auth.service import Principal
from dispatch.errors import NotFound, ValidationFailed
from dispatch.http import JSON, Operation, path_id, read_model
from dispatch.incidents import service as incidents
from dispatch.incidents.allocation import get_ranked_candidates
from dispatch.incidents.queue import serve_queue_after_commit
from dispatch.incidents.schemas import AssignIn, CancelIn, IncidentIn
from dispatch.incidents.views import (
    CANDIDATE,
    INCIDENT,
    INCIDENT_DETAIL,
    INCIDENT_SUMMARY,
    incident_view,
)
from dispatch.openapi import listing
from dispatch.schemas import check_float_param, check_phone_param
from dispatch.vocabulary import STAFF, TEAM_KINDS

MAX_IDEMPOTENCY_KEY = 200
MAX_CANDIDATES = 10


def get_idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY and key.isprintable()):
        raise ValidationFailed.field("Idempotency-Key", "must be 1-200 printable characters")
    return key


def get_active_filter(request: Request) -> bool | None:
    flags = {"true": True, "false": False, None: None}
    raw = request.query_params.get("active")
    if raw not in flags:
        raise ValidationFailed.field("active", "must be true or false")
    return flags[raw]


async def create_incident(request: Request, principal: Principal) -> Response:
    key = get_idempotency_key(request)
    body = await read_model(request, IncidentIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        summary, created = await incidents.do_create_incident(
            conn, ctx, body, actor=principal.actor, idempotency_key=key,
            user=principal.name)
    return JSON(summary, status_code=201 if created else 200,
                headers={"Location": f"/api/v1/incidents/{summary['id']}"})


async def list_incidents(request: Request, principal: Principal) -> Response:
    active = get_active_filter(request)
    async with request.app.state.ctx.acquire() as conn:
        rows = await incidents_db.get_incidents(conn, active=active)
    return JSON({"items": [incident_view(row) for row in rows]})


async def get_incident(request: Request, principal: Principal) -> Response:
    incident_id = path_id(request)
    async with request.app.state.ctx.acquire() as conn:
        return JSON(await incidents.get_incident_detail(conn, incident_id))


async def duplicates(request: Request, principal: Principal) -> Response:
    """Possible duplicates of the emergency an operator is typing in (`lat` and `lon`
    together, `number`, or both)."""
    params, ctx = request.query_params, request.app.state.ctx
    lat = check_float_param(params.get("lat"), "lat", -90, 90)
    lon = check_float_param(params.get("lon"), "lon", -180, 180)
    if (lat is None) != (lon is None):
        raise ValidationFailed.field("lat" if lat is None else "lon",
                                     "lat and lon go together")
    number = check_phone_param(params.get("number"), "number")
    if lat is None and number is None:
        raise ValidationFailed.field("lat", "give lat and lon, number, or both")
    async with ctx.acquire() as conn:
        items = await incidents.get_possible_duplicates(conn, ctx.settings, lat, lon, number)
    return JSON({"items": items})


async def assign(request: Request, principal: Principal) -> Response:
    incident_id = path_id(request)
    body = await read_model(request, AssignIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        await incidents.do_assign(conn, ctx, incident_id, body.team_id, actor=principal.actor)
    async with ctx.acquire() as conn:
        detail = await incidents.get_incident_detail(conn, incident_id)
    await serve_queue_after_commit(ctx)  # the team taken off may serve someone waiting
    return JSON(detail)


async def cancel(request: Request, principal: Principal) -> Response:
    incident_id = path_id(request)
    body = await read_model(request, CancelIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        await incidents.do_cancel(conn, ctx, incident_id, body.reason, actor=principal.actor)
    async with ctx.acquire() as conn:
        detail = await incidents.get_incident_detail(conn, incident_id)
    await serve_queue_after_commit(ctx)
    return JSON(detail)


async def candidates(request: Request, principal: Principal) -> Response:
    """The nearest free on-duty teams of any kind, for a manual (re)assignment: the
    operator decides whether a team that does not fit will do."""
    incident_id = path_id(request)
    ctx = request.app.state.ctx
    async with ctx.acquire() as conn:
        incident = await incidents_db.get_incident(conn, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        ranked = await get_ranked_candidates(conn, ctx, incident["lat"], incident["lon"],
                                             TEAM_KINDS, exclude=[])
    return JSON({"items": [{"team_id": c.team_id, "code": c.code, "eta_s": c.route.eta_s,
                            "distance_m": c.route.distance_m, "source": c.source,
                            "eta_source": c.route.source}
                           for c in ranked[:MAX_CANDIDATES]]})


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "1-200 printable characters; per user. The same key with the same "
                   "body returns the first incident (200), with another body 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200}}
ACTIVE = {
    "name": "active", "in": "query", "required": False,
    "description": "true: only active incidents; false: only closed or cancelled.",
    "schema": {"type": "string", "enum": ["true", "false"]}}

DUPLICATE_QUERY = (
    {"name": "lat", "in": "query", "required": False, "schema": {"type": "number"},
     "description": "with lon: incidents within DISPATCH112_DUPLICATE_RADIUS_M (300 m) "
                    "received in the last DISPATCH112_DUPLICATE_WINDOW_MIN (30 min)"},
    {"name": "lon", "in": "query", "required": False, "schema": {"type": "number"}},
    {"name": "number", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "active incidents reported from this number, however old"})

operations = [
    Operation("post", "/api/v1/incidents", create_incident, STAFF,
              "Create an incident and send the nearest free team", IncidentIn,
              {201: "`id`, `status` (assigned or queued), `priority`, `district`, `assignment`",
               200: "the incident this Idempotency-Key created before",
               409: "Idempotency-Key already used with a different body"},
              parameters=(IDEMPOTENCY_KEY,), returns=INCIDENT_SUMMARY),
    Operation("get", "/api/v1/incidents", list_incidents, STAFF, "Incidents, most urgent first",
              answers={200: "`{\"items\": [incident]}`"}, parameters=(ACTIVE,),
              returns=listing(INCIDENT)),
    # Before /incidents/{id}, which would take "duplicates" for an id.
    Operation("get", "/api/v1/incidents/duplicates", duplicates, STAFF,
              "Active incidents that may be the same emergency (nearby and recent, or "
              "from the same number)",
              answers={200: "`{\"items\": [incident + \"distance_m\", \"match\": "
                            "[\"distance\"|\"number\"]]}`, same number first, then "
                            "nearest",
                       422: "bad lat, lon or number; neither a position nor a number"},
              parameters=DUPLICATE_QUERY),
    Operation("get", "/api/v1/incidents/{id}", get_incident, STAFF,
              "An incident with its assignment and events", answers={200: "the incident"},
              returns=INCIDENT_DETAIL),
    Operation("post", "/api/v1/incidents/{id}/assign", assign, STAFF,
              "Send a chosen team (manual reassignment)", AssignIn,
              {200: "the incident", 409: "team not free, or incident past dispatch"},
              returns=INCIDENT_DETAIL),
    Operation("post", "/api/v1/incidents/{id}/cancel", cancel, STAFF,
              "Cancel an incident; its team is freed", CancelIn,
              {200: "the incident", 409: "the incident has already ended"},
              returns=INCIDENT_DETAIL),
    Operation("get", "/api/v1/incidents/{id}/candidates", candidates, STAFF,
              "The nearest free on-duty teams for a manual assignment, with ETAs",
              answers={200: "`{\"items\": [{team_id, code, eta_s, distance_m, source, "
                            "eta_source}]}`"},
              returns=listing(CANDIDATE)),
]
