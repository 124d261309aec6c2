"""How rows are shown to clients (the field names of the public contract)."""

from __future__ import annotations

import asyncpg


def position(lat: float, lon: float) -> dict:
    return {"lat": lat, "lon": lon}


def team_view(row: asyncpg.Record) -> dict:
    gps = bool(row["fix_fresh"])
    return {
        "id": row["id"], "code": row["code"], "name": row["name"], "kind": row["kind"],
        "status": row["status"], "on_duty": row["on_duty"],
        "base_name": row["base_name"], "base": position(row["base_lat"], row["base_lon"]),
        "phone": row["phone"], "status_changed_at": row["status_changed_at"],
        "position": {
            **position(row["fix_lat"] if gps else row["base_lat"],
                       row["fix_lon"] if gps else row["base_lon"]),
            "at": row["fix_at"] if gps else None,
            "source": "gps" if gps else "base",
        },
        "last_fix_at": row["fix_at"],
        "device_seen_at": row["device_seen_at"],
        "signal": "lost" if row["signal_lost_at"] else "ok",
    }


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
    view = {key: row[key] for key in (
        "id", "call_id", "caller_number", "district", "address", "complaint", "priority",
        "required_kind", "patients", "notes", "status", "cancel_reason", "created_by",
        "team_id")}
    view["location"] = position(row["lat"], row["lon"])
    view.update({key: row[key] for key in _INCIDENT_TIMES})
    return view


def event_view(row: asyncpg.Record) -> dict:
    return {"seq": row["seq"], "name": row["name"], "at": row["at"], "actor": row["actor"],
            "data": row["data"]}


def call_view(row: asyncpg.Record) -> dict:
    return {key: row[key] for key in ("id", "caller_number", "line_id", "status", "disposition",
                                      "incident_id", "received_at", "ended_at")}
