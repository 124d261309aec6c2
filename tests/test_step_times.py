"""Times sent by a phone (a replayed queue, a clock that is off) never make a step
come before the step it follows, nor after the server's clock: a time from more than
2 minutes ahead is refused, a time before the previous step is taken as that step's
time, so no report interval is ever negative (docs/reports.md, "Times from phones")."""

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from db.incidents import TIMELINE
from tests.support import Api


def _at(delta_s: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).isoformat()


async def _step(api: Api, action: str, incident_id: int, at: str) -> int:
    response = await api.post("/api/v1/team/status", {
        "action": action, "incident_id": incident_id, "client_id": uuid.uuid4().hex,
        "at": at}, role="team:CLK")
    return response.status_code


async def test_steps_out_of_order_are_clamped_and_future_ones_refused(
        api: Api, db: asyncpg.Connection) -> None:
    await api.team("CLK", -4.0, 119.64)
    await api.device_token("CLK")
    incident = (await api.incident()).json()
    iid = incident["id"]
    before = await db.fetchrow("SELECT * FROM incidents WHERE id = $1", iid)
    # A phone whose clock is an hour behind: acknowledged "before" it was assigned.
    assert await _step(api, "acknowledge", iid, _at(-3600)) == 200
    assert await _step(api, "en_route", iid, _at(-3500)) == 200
    row = await db.fetchrow("SELECT * FROM incidents WHERE id = $1", iid)
    assert row["acknowledged_at"] == before["assigned_at"]
    assert row["en_route_at"] == row["acknowledged_at"]
    ack = await db.fetchval("SELECT acknowledged_at FROM assignments WHERE incident_id = $1",
                            iid)
    assert ack >= row["last_assigned_at"]
    # From the future: refused, and nothing changed.
    assert await _step(api, "on_scene", iid, _at(600)) == 422
    assert (await db.fetchrow("SELECT * FROM incidents WHERE id = $1", iid)) == row
    # A little ahead (clock skew): taken as now, never later than the server's clock.
    assert await _step(api, "on_scene", iid, _at(60)) == 200
    on_scene = await db.fetchval("SELECT on_scene_at FROM incidents WHERE id = $1", iid)
    assert row["en_route_at"] <= on_scene <= datetime.now(UTC)
    assert await _step(api, "clear", iid, _at(-7200)) == 200
    await _assert_ordered(db)


async def _assert_ordered(db: asyncpg.Connection) -> None:
    """Every stored step time is at or after every earlier one: no negative interval."""
    columns = ", ".join(TIMELINE)
    for row in await db.fetch(f"SELECT id, {columns} FROM incidents"):
        times = [row[c] for c in TIMELINE if row[c] is not None]
        assert times == sorted(times), dict(row)
