"""How teams are shown to clients (the field names of the public contract)."""

from __future__ import annotations

import asyncpg

from dispatch.openapi import BOOLEAN, INTEGER, NUMBER, POSITION, STRING, TIME, nullable, shape
from dispatch.vocabulary import TEAM_KINDS, TEAM_STATES

# The JSON Schema of team_view (the OpenAPI document's answers).
TEAM = shape(
    id=INTEGER, code=STRING, name=STRING, kind={"enum": list(TEAM_KINDS)},
    status={"enum": list(TEAM_STATES)}, on_duty=BOOLEAN, base_name=STRING, base=POSITION,
    phone=nullable(STRING), status_changed_at=TIME,
    position=shape(lat=NUMBER, lon=NUMBER, at=nullable(TIME), source={"enum": ["gps", "base"]}),
    last_fix_at=nullable(TIME), device_seen_at=nullable(TIME), signal={"enum": ["ok", "lost"]},
    sms_numbers={"type": "array", "items": STRING},
    reached_via=nullable({"enum": ["app", "sms"]}), reached_at=nullable(TIME))
SHIFT = shape(id=INTEGER, team_id=INTEGER, starts_at=TIME, ends_at=TIME)
# A team with its shifts (GET /api/v1/teams/{id}).
TEAM_DETAIL = {**TEAM, "required": [*TEAM["required"], "shifts"],
               "properties": {**TEAM["properties"], "shifts": {"type": "array", "items": SHIFT}}}


def position(lat: float, lon: float) -> dict:
    return {"lat": lat, "lon": lon}


def team_view(row: asyncpg.Record) -> dict:
    """A team as GET /api/v1/teams lists it, and as every `team.updated` event carries it:
    the position is the fresh GPS fix, else the base."""
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
        "sms_numbers": list(row["sms_numbers"]),
        "reached_via": row["reached_via"], "reached_at": row["reached_at"],
    }
