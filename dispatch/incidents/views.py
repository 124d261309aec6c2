"""How incidents, their assignments and their timelines are shown to clients."""

from __future__ import annotations

import asyncpg

from dispatch.teams.views import position


def assignment_view(row: asyncpg.Record | None) -> dict | None:
    if row is None:
        return None
    return {"id": row["id"], "team_id": row["team_id"], "incident_id": row["incident_id"],
            "eta_s": row["eta_s"], "distance_m": row["distance_m"],
            "position_source": row["position_source"], "created_at": row["created_at"],
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
