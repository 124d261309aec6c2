"""A responder's step in one statement (db.assignments.apply_step): the incident, the
team and the assignment moved together as the phone's step says, and what it returns
is what a read after commit returns; a step either row refuses is not committed.

Each incident is made and allocated in one transaction, as POST /incidents does, so
that the running service's queue passes never see it waiting."""

from __future__ import annotations

import asyncpg
import pytest

from db import assignments as assignments_db
from db import incidents as incidents_db
from db import teams as teams_db
from dispatch.states import get_transition
from dispatch.vocabulary import RESPONDER_ACTIONS
from tests.support import Api, fingerprint_tables
from tests.test_allocate_statement import GPS_FRESH_S, TABLES, allocate, queued_incident


async def _sent(api: Api, db: asyncpg.Connection) -> tuple[int, int, int]:
    """(team id, incident id, assignment id) of a team sent to a new incident."""
    team = await api.team("T1", -4.0, 119.64)
    async with db.transaction():
        incident_id = await queued_incident(db)
        allocated = await allocate(db, team["id"], incident_id)
    return team["id"], incident_id, allocated.assignment["id"]


async def _step(db: asyncpg.Connection, team_id: int, incident_id: int, assignment_id: int,
                action: str, *, team_sources: tuple[str, ...] | None = None):
    transition = get_transition(action)
    return await assignments_db.apply_step(
        db, team_id=team_id, incident_id=incident_id, assignment_id=assignment_id,
        incident_move=(transition.incident.target, transition.incident.sources),
        team_move=(transition.team.target, team_sources or transition.team.sources),
        stamp=transition.stamp, at=None,
        acknowledged_via="app" if action == "acknowledge" else None,
        end=action == "clear", gps_fresh_s=GPS_FRESH_S)


async def test_each_step_returns_what_a_read_after_it_returns(api: Api, db) -> None:
    team_id, incident_id, assignment_id = await _sent(api, db)
    for action in RESPONDER_ACTIONS:  # the whole walk, to the hospital and clear
        async with db.transaction():
            stepped = await _step(db, team_id, incident_id, assignment_id, action)
        assert stepped is not None, action
        read = await incidents_db.get_incident(db, incident_id)
        assert stepped.incident == dict(read), action
        listed = await teams_db.get_team(db, team_id, GPS_FRESH_S)
        assert {k: stepped.team[k] for k in listed.keys()} == dict(listed), action
        assert "pin_hash" not in stepped.team
        transition = get_transition(action)
        assert (read["status"], listed["status"]) == (transition.incident.target,
                                                      transition.team.target)
        assert read[transition.stamp] is not None, action
    assert read["team_id"] is None  # cleared: the incident is teamless, the team free
    assignment = await db.fetchrow("SELECT * FROM assignments WHERE id = $1", assignment_id)
    assert assignment["acknowledged_via"] == "app"
    assert assignment["acknowledged_at"] is not None
    assert assignment["ended_at"] is not None and assignment["end_reason"] == "completed"
    assert listed["reached_via"] == "app" and listed["reached_at"] is not None


async def test_a_step_before_the_clear_keeps_the_team_on_the_incident(api: Api, db) -> None:
    team_id, incident_id, assignment_id = await _sent(api, db)
    async with db.transaction():
        stepped = await _step(db, team_id, incident_id, assignment_id, "acknowledge")
    assert stepped.incident["team_id"] == team_id
    assert await db.fetchval("SELECT ended_at FROM assignments WHERE id = $1",
                             assignment_id) is None


@pytest.mark.parametrize("refused_by", ["incident", "team"])
async def test_a_step_either_row_refuses_returns_none_and_commits_nothing(
        api: Api, db, refused_by: str) -> None:
    team_id, incident_id, assignment_id = await _sent(api, db)
    before = await fingerprint_tables(db, TABLES)
    # The incident is assigned, not yet acknowledged: en_route is not its step. Or the
    # team's guard names a state the team is not in while the incident would move.
    action, sources = (("en_route", None) if refused_by == "incident"
                       else ("acknowledge", ("on_scene",)))
    with pytest.raises(RuntimeError):
        async with db.transaction():
            stepped = await _step(db, team_id, incident_id, assignment_id, action,
                                  team_sources=sources)
            assert stepped is None
            raise RuntimeError("the caller refuses the step")  # as do_team_step does
    assert await fingerprint_tables(db, TABLES) == before
