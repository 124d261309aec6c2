"""Concurrent allocation through two service instances on one database."""

import asyncio
import random

import asyncpg

from dispatch.config import Settings
from tests.support import Api, running_service

TEAMS = 8
INCIDENTS = 40


async def test_forty_incidents_eight_teams_two_instances(api: Api, settings: Settings,
                                                         db: asyncpg.Connection) -> None:
    rng = random.Random(112)
    for n in range(TEAMS):
        await api.team(f"R{n}", -4.0 + rng.uniform(-0.03, 0.03), 119.64 + rng.uniform(-0.02, 0.02))
    async with running_service(settings) as second_url, Api(second_url, api.dsn) as second:
        await second.login_all()
        clients = [api, second]
        # Everyone hits the same spot, so every request wants the same nearest team first.
        responses = await asyncio.gather(*(
            clients[i % 2].incident(-4.0, 119.64, priority=rng.choice((1, 2, 3)))
            for i in range(INCIDENTS)))
    assert [r.status_code for r in responses] == [201] * INCIDENTS, \
        [r.text for r in responses if r.status_code != 201]
    bodies = [r.json() for r in responses]
    assigned = [b for b in bodies if b["status"] == "assigned"]
    assert len(assigned) == TEAMS
    assert len({b["assignment"]["team_id"] for b in assigned}) == TEAMS
    assert sum(b["status"] == "queued" for b in bodies) == INCIDENTS - TEAMS
    # The database agrees: one active assignment per team, every team dispatched once.
    rows = await db.fetch("SELECT team_id FROM assignments WHERE ended_at IS NULL")
    assert sorted(r["team_id"] for r in rows) == sorted(b["assignment"]["team_id"]
                                                        for b in assigned)
    assert await db.fetchval("SELECT count(*) FROM assignments") == TEAMS
    statuses = await db.fetch("SELECT status, count(*) FROM teams GROUP BY status")
    assert {r["status"]: r["count"] for r in statuses} == {"dispatched": TEAMS}
    created = await db.fetchval(
        "SELECT count(*) FROM events WHERE name = 'assignment.created'")
    assert created == TEAMS
