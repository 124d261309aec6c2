"""The OpenAPI 3.1 description of the HTTP API, served at GET /openapi.json.

One table row per route: request bodies come from the pydantic models in
dispatch/schemas.py, the usual error answers are added from what the route does
(authenticates, reads a body, takes an id from the path).
"""

from __future__ import annotations

import functools
from importlib import metadata

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from dispatch.http import JSON
from dispatch.schemas import (
    AssignIn,
    CallEndIn,
    CallIn,
    CancelIn,
    DeviceRequest,
    IncidentIn,
    LineIn,
    LocationIn,
    OverrideIn,
    ShiftIn,
    StatusIn,
    TeamIn,
    TeamServiceIn,
    TokenRequest,
)

PUBLIC: tuple[str, ...] = ()
STAFF = ("admin", "operator")
ANY_ROLE = ("admin", "operator", "health_office", "responder")
RESPONDER = ("responder",)
ADMIN = ("admin",)

# (method, path, summary, request model, roles allowed (empty: no token), answers)
OPERATIONS: list[tuple[str, str, str, type[BaseModel] | None, tuple[str, ...], dict]] = [
    ("get", "/api/v1/health", "The service and its database answer", None, PUBLIC,
     {200: "`{\"status\": \"ok\"}`"}),
    ("get", "/openapi.json", "This document", None, PUBLIC, {200: "OpenAPI 3.1 document"}),
    ("post", "/api/v1/auth/token", "Log a user in", TokenRequest, PUBLIC,
     {200: "`access_token`, `token_type`, `role`, `expires_at`", 401: "wrong credentials",
      429: "too many failed logins for this username; see Retry-After"}),
    ("post", "/api/v1/auth/device", "Log a team's phone in with team code and PIN",
     DeviceRequest, PUBLIC,
     {200: "`access_token`, `token_type`, `role` (responder), `team_id`, `expires_at`",
      401: "wrong team code or PIN", 429: "too many failed logins for this team"}),
    ("post", "/api/v1/auth/logout", "Revoke the bearer token", None, ANY_ROLE,
     {204: "token revoked"}),
    ("get", "/api/v1/teams", "Teams with status, duty and position", None, STAFF,
     {200: "`{\"items\": [team]}`"}),
    ("post", "/api/v1/teams", "Create a team", TeamIn, STAFF,
     {201: "the team", 409: "team code already taken"}),
    ("get", "/api/v1/teams/{id}", "A team with its shifts", None, STAFF, {200: "the team"}),
    ("post", "/api/v1/teams/{id}/shifts", "Add a shift to a team", ShiftIn, STAFF,
     {201: "the shift"}),
    ("post", "/api/v1/teams/{id}/service", "Put a free team out of service, or back in",
     TeamServiceIn, STAFF, {200: "the team", 409: "the team is on an assignment"}),
    ("post", "/api/v1/calls", "Record a call on a 112 line", CallIn, STAFF,
     {201: "the call, `status` open"}),
    ("post", "/api/v1/calls/{id}/end", "End a call with its disposition", CallEndIn, STAFF,
     {200: "the call", 409: "the call has already ended"}),
    ("post", "/api/v1/incidents", "Create an incident and send the nearest free team",
     IncidentIn, STAFF,
     {201: "`id`, `status` (assigned or queued), `priority`, `district`, `assignment`",
      200: "the incident this Idempotency-Key created before",
      409: "Idempotency-Key already used with a different body"}),
    ("get", "/api/v1/incidents", "Incidents, most urgent first", None, STAFF,
     {200: "`{\"items\": [incident]}`"}),
    ("get", "/api/v1/incidents/{id}", "An incident with its assignment and events", None,
     STAFF, {200: "the incident"}),
    ("post", "/api/v1/incidents/{id}/assign", "Send a chosen team (manual reassignment)",
     AssignIn, STAFF, {200: "the incident", 409: "team not free, or incident past dispatch"}),
    ("post", "/api/v1/incidents/{id}/cancel", "Cancel an incident; its team is freed",
     CancelIn, STAFF, {200: "the incident", 409: "the incident has already ended"}),
    ("get", "/api/v1/incidents/{id}/candidates",
     "The nearest free on-duty teams for a manual assignment, with ETAs", None, STAFF,
     {200: "`{\"items\": [{team_id, code, eta_s, distance_m, source}]}`"}),
    ("get", "/api/v1/districts", "District boundaries as a GeoJSON FeatureCollection", None,
     STAFF, {200: "FeatureCollection of kecamatan and kelurahan (properties name, level, "
            "population, centroid; geometry null where only a centroid is known)"}),
    ("get", "/api/v1/places", "Gazetteer search (?q=, 2-100 characters)", None, STAFF,
     {200: "`{\"items\": [{name, kind, lat, lon}]}`", 422: "q missing or too long"}),
    ("get", "/api/v1/team/assignment", "The calling team's active assignment", None,
     RESPONDER, {200: "`{\"assignment\": {..., \"incident\": {...}} | null}`"}),
    ("post", "/api/v1/team/status", "A status step of the calling team", StatusIn, RESPONDER,
     {200: "`client_id`, `ok`, `incident_id`, `incident_status`, `team_status`, `action`",
      404: "no such incident", 409: "step does not follow from the current state"}),
    ("post", "/api/v1/team/location", "A GPS fix of the calling team", LocationIn, RESPONDER,
     {204: "stored (an older fix than the stored one is ignored)"}),
    ("post", "/api/v1/lines", "Add a 112 line or backup number with its probe", LineIn, ADMIN,
     {201: "the line", 409: "a line with this number exists"}),
    ("get", "/api/v1/lines", "Lines with state and the active line", None, STAFF,
     {200: "`{\"items\": [line], \"active_line_id\", \"since\", \"critical\", "
           "\"override\"}`"}),
    ("get", "/api/v1/lines/events", "The line history, newest first (?limit=)", None, STAFF,
     {200: "`{\"items\": [{\"line_id\", \"state\", \"active_line_id\", \"at\", "
           "\"reason\", ...}]}`"}),
    ("get", "/api/v1/lines/monitor", "Which instance probes the lines", None, STAFF,
     {200: "`instance_id`, `leading`, `probes_sent` of this instance, and `leader`"}),
    ("post", "/api/v1/lines/override", "Force a line active, or back to automatic (null)",
     OverrideIn, ADMIN, {200: "`active_line_id`, `since`, `critical`, `override`"}),
    ("post", "/api/v1/lines/{id}/heartbeat", "The telephony gateway's heartbeat of a line",
     None, STAFF, {204: "noted", 409: "the line is not probed by heartbeats"}),
    ("get", "/api/v1/hotline", "The number to call now", None, PUBLIC,
     {200: "`number`, `label`, `line_id`, `since`, `critical`, `override`",
      404: "no line is configured"}),
    ("get", "/api/v1/callbacks", "Callers to call back (?done=true|false, ?limit=)", None,
     STAFF, {200: "`{\"items\": [{\"id\", \"call_id\", \"caller_number\", "
                  "\"line_id\", \"dropped_at\", \"done\"}]}`"}),
    ("post", "/api/v1/callbacks/{id}/done", "Mark a callback done", None, STAFF,
     {200: "the callback (the same when done already)"}),
]

EXTRA_PARAMETERS = {
    ("post", "/api/v1/incidents"): [{
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "1-200 printable characters; per user. The same key with the same "
                       "body returns the first incident (200), with another body 409.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
    ("get", "/api/v1/incidents"): [{
        "name": "active", "in": "query", "required": False,
        "description": "true: only active incidents; false: only closed or cancelled.",
        "schema": {"type": "string", "enum": ["true", "false"]}}],
}

COMMON_ERRORS = {
    400: "malformed JSON", 401: "missing, unknown, expired or revoked token",
    403: "role may not do this", 404: "no such resource", 409: "conflict",
    413: "body larger than 64 KiB", 415: "body is not application/json",
    422: "invalid input; `errors` names each field", 429: "too many attempts",
}

PROBLEM = {
    "type": "object", "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}


def _answer(status: int, description: str) -> dict:
    if status == 204:
        return {"description": description}
    if status >= 400:
        answer = {"description": description, "content": {"application/problem+json": {
            "schema": {"$ref": "#/components/schemas/Problem"}}}}
        if status == 429:
            answer["headers"] = {"Retry-After": {
                "description": "seconds to wait", "schema": {"type": "integer"}}}
        return answer
    return {"description": description,
            "content": {"application/json": {"schema": {"type": "object"}}}}


def _request_body(model: type[BaseModel], schemas: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}


def _operation(method: str, path: str, summary: str, model: type[BaseModel] | None,
               roles: tuple[str, ...], answers: dict, schemas: dict) -> dict:
    errors = [400, 413, 415, 422] if model else []
    errors += [401, 403] if roles else []
    errors += [404] if "{id}" in path else []
    responses = {status: _answer(status, COMMON_ERRORS[status]) for status in errors}
    responses.update({status: _answer(status, text) for status, text in answers.items()})
    operation: dict = {
        "operationId": "_".join([method, *path.replace(".", "_").strip("/")
                                 .replace("{", "").replace("}", "").split("/")]),
        "summary": summary,
        "tags": [path.split("/")[3] if path.startswith("/api/v1/") else "service"],
        "security": [{"bearerAuth": []}] if roles else [],
        "responses": {str(status): responses[status] for status in sorted(responses)},
    }
    if roles:
        operation["description"] = "Roles: " + ", ".join(roles) + "."
        operation["x-roles"] = list(roles)
    parameters = [{"name": "id", "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 1}}] if "{id}" in path else []
    parameters += EXTRA_PARAMETERS.get((method, path), [])
    if parameters:
        operation["parameters"] = parameters
    if model is not None:
        operation["requestBody"] = _request_body(model, schemas)
    return operation


def _version() -> str:
    try:
        return metadata.version("dispatch112")
    except metadata.PackageNotFoundError:
        return "0.0.0"


@functools.cache
def get_document() -> dict:
    """The whole OpenAPI document (built once)."""
    schemas: dict = {"Problem": PROBLEM}
    paths: dict[str, dict] = {}
    for method, path, summary, model, roles, answers in OPERATIONS:
        paths.setdefault(path, {})[method] = _operation(method, path, summary, model, roles,
                                                        answers, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "dispatch112", "version": _version(),
                 "description": "Dispatch service of a city's 112 health-emergency call "
                                "centre. Times are RFC 3339 in UTC; errors are "
                                "application/problem+json. See docs/api.md."},
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "POST /api/v1/auth/token or /api/v1/auth/device"}}},
    }


async def openapi_json(request: Request) -> Response:
    """GET /openapi.json: no token needed."""
    return JSON(get_document())
