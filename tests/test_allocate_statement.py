"""The allocation's one statement (db.assignments.allocate_team): the team reserved,
its assignment written and the incident moved together, or nothing at all.

Each incident is made in the transaction that allocates it, as POST /incidents does:
no other transaction (the running service's queue passes) can see it or lock it, and
the house lock order (incident, then team) holds."""

from __future__ import annotations

import asyncpg
import pytest

from db import assignments as assignments_db
from db import incidents as incidents_db
from db import teams as teams_db
from tests.support import Api, fingerprint_tables

TABLES = ("teams", "assignments", "incidents")
GPS_FRESH_S = 120


# queued_incident and allocate are shared with tests/test_step_statement.py.
async def queued_incident(db: asyncpg.Connection) -> int:
    row = await incidents_db.insert_incident(
        db, call_id=None, caller_number="+6281234567890", lat=-4.0, lon=119.64,
        district_id=None, address="Jl. Bau Massepe", complaint="sesak napas", priority=1,
        required_kind=None, patients=1, notes="", received_at=None, created_by="user:test")
    return row["id"]


async def allocate(db: asyncpg.Connection, team_id: int, incident_id: int,
                    incident_sources: tuple[str, ...] = ("queued",)):
    return await assignments_db.allocate_team(
        db, team_id=team_id, target="dispatched", sources=("available",),
        incident_id=incident_id, incident_target="assigned",
        incident_sources=incident_sources, stamp="assigned_at", eta_s=300, distance_m=3300,
        position_source="base", eta_source="geodesic", gps_fresh_s=GPS_FRESH_S)


async def test_it_returns_what_a_read_after_it_returns(api: Api, db) -> None:
    team = await api.team("T1", -4.0, 119.64)
    async with db.transaction():
        incident_id = await queued_incident(db)
        allocated = await allocate(db, team["id"], incident_id)
    assert allocated is not None
    read = await incidents_db.get_incident(db, incident_id)
    assert allocated.incident == dict(read)
    assert read["status"] == "assigned" and read["team_id"] == team["id"]
    assert read["assigned_at"] is not None
    listed = await teams_db.get_team(db, team["id"], GPS_FRESH_S)
    assert {k: allocated.team[k] for k in listed.keys()} == dict(listed)
    assert listed["status"] == "dispatched" and listed["on_duty"]
    assert "pin_hash" not in allocated.team
    assert allocated.assignment["team_id"] == team["id"]
    assert allocated.assignment["incident_id"] == incident_id
    assert await db.fetchval("SELECT last_team_id FROM incidents WHERE id = $1",
                             incident_id) == team["id"]


async def test_a_team_not_free_changes_nothing(api: Api, db) -> None:
    team = await api.team("T1", -4.0, 119.64)
    await db.execute("UPDATE teams SET status = 'out_of_service' WHERE id = $1", team["id"])
    async with db.transaction():
        incident_id = await queued_incident(db)
        before = await fingerprint_tables(db, TABLES)
        assert await allocate(db, team["id"], incident_id) is None
        assert await fingerprint_tables(db, TABLES) == before


async def test_an_incident_not_in_its_sources_is_refused_and_rolled_back(api: Api,
                                                                        db) -> None:
    team = await api.team("T1", -4.0, 119.64)
    before = await fingerprint_tables(db, TABLES)
    with pytest.raises(assignments_db.IncidentNotMoved):
        async with db.transaction():
            incident_id = await queued_incident(db)
            await allocate(db, team["id"], incident_id, incident_sources=("closed",))
    assert await fingerprint_tables(db, TABLES) == before
