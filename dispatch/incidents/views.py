"""How incidents, their assignments and their timelines are shown to clients."""

from __future__ import annotations

import asyncpg

from dispatch.openapi import INTEGER, POSITION, STRING, TIME, array, nullable, shape
from dispatch.teams.views import position
from dispatch.vocabulary import (
    ASSIGNMENT_END_REASONS,
    ETA_SOURCES,
    INCIDENT_STATES,
    PRIORITIES,
    TEAM_KINDS,
)

# The JSON Schemas of the views below (the OpenAPI document's answers).
ASSIGNMENT = shape(
    id=INTEGER, team_id=INTEGER, incident_id=INTEGER, eta_s=INTEGER, distance_m=INTEGER,
    position_source=STRING, eta_source={"enum": list(ETA_SOURCES)}, created_at=TIME,
    acknowledged_at=nullable(TIME),
    ended_at=nullable(TIME), end_reason={"enum": [*ASSIGNMENT_END_REASONS, None]})
INCIDENT = shape(
    id=INTEGER, call_id=nullable(INTEGER), caller_number=nullable(STRING),
    district=nullable(STRING), call_count=INTEGER,
    address=STRING, complaint=STRING, priority={"enum": list(PRIORITIES)},
    required_kind={"enum": [*TEAM_KINDS, None]}, patients=INTEGER, notes=STRING,
    status={"enum": list(INCIDENT_STATES)}, cancel_reason=nullable(STRING),
    created_by=STRING, team_id=nullable(INTEGER), location=POSITION,
    received_at=TIME, created_at=TIME,
    **{key: nullable(TIME) for key in ("assigned_at", "acknowledged_at", "en_route_at",
                                        "on_scene_at", "transporting_at", "at_hospital_at",
                                        "closed_at", "cancelled_at")})
EVENT = shape(seq=INTEGER, name=STRING, at=TIME, actor=STRING, data={"type": "object"})
# The incident with its assignment and timeline (GET /api/v1/incidents/{id}).
INCIDENT_DETAIL = {**INCIDENT, "required": [*INCIDENT["required"], "assignment", "events"],
                   "properties": {**INCIDENT["properties"], "assignment": nullable(ASSIGNMENT),
                                  "events": array(EVENT)}}
# The answer of POST /api/v1/incidents (service.get_incident_summary).
INCIDENT_SUMMARY = shape(
    id=INTEGER, status={"enum": list(INCIDENT_STATES)}, priority={"enum": list(PRIORITIES)},
    district=nullable(STRING), assignment=nullable(shape(
        id=INTEGER, team_id=INTEGER, eta_s=INTEGER, distance_m=INTEGER,
        eta_source={"enum": list(ETA_SOURCES)})))
CANDIDATE = shape(team_id=INTEGER, code=STRING, eta_s=INTEGER, distance_m=INTEGER,
                  source=STRING, eta_source={"enum": list(ETA_SOURCES)})


def assignment_view(row: asyncpg.Record | None) -> dict | None:
    if row is None:
        return None
    return {"id": row["id"], "team_id": row["team_id"], "incident_id": row["incident_id"],
            "eta_s": row["eta_s"], "distance_m": row["distance_m"],
            "position_source": row["position_source"], "eta_source": row["eta_source"],
            "created_at": row["created_at"],
            "acknowledged_at": row["acknowledged_at"], "ended_at": row["ended_at"],
            "end_reason": row["end_reason"]}


_INCIDENT_TIMES = ("received_at", "created_at", "assigned_at", "acknowledged_at", "en_route_at",
                   "on_scene_at", "transporting_at", "at_hospital_at", "closed_at",
                   "cancelled_at")


def incident_view(row: asyncpg.Record) -> dict:
    """An incident as GET /api/v1/incidents lists it, and as `incident.created` and
    `incident.updated` carry it."""
    view = {key: row[key] for key in (
        "id", "call_id", "caller_number", "district", "address", "complaint", "priority",
        "required_kind", "patients", "notes", "status", "cancel_reason", "created_by",
        "team_id", "call_count")}
    view["location"] = position(row["lat"], row["lon"])
    view.update({key: row[key] for key in _INCIDENT_TIMES})
    return view


def event_view(row: asyncpg.Record) -> dict:
    return {"seq": row["seq"], "name": row["name"], "at": row["at"], "actor": row["actor"],
            "data": row["data"]}
