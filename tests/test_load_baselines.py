"""The bare database loop of load/baselines.py runs the service's statement mix for one
allocation: on the test database it allocates, writes each allocation's four events
and leaves nothing half done (a figure from a loop that fails measures nothing)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg

from load import baselines


async def test_the_bare_database_loop_allocates_and_logs(dsn: str,
                                                         db: asyncpg.Connection) -> None:
    now = datetime.now(UTC)
    for n in range(12):
        team_id = await db.fetchval(
            """INSERT INTO teams (code, name, kind, base_lat, base_lon, base_name, pin_hash)
               VALUES ($1, $1, 'bls', $2, $3, 'base', 'x') RETURNING id""",
            f"B{n:02}", -4.0 - n * 0.003, 119.63 + n * 0.002)
        await db.execute("INSERT INTO shifts (team_id, starts_at, ends_at) VALUES ($1, $2, $3)",
                         team_id, now - timedelta(hours=1), now + timedelta(hours=8))
    for lock in (True, False):
        took, latencies = await baselines.db_round(dsn, connections=2, count=5, seed=1,
                                                   lock=lock)
        assert len(latencies) == 5 and took > 0
    assert await db.fetchval("SELECT count(*) FROM assignments") == 10
    names = Counter(r["name"] for r in await db.fetch("SELECT name FROM events"))
    assert names == {name: 10 for name in baselines.EVENT_NAMES}
    team_event = await db.fetchval(
        "SELECT data FROM events WHERE name = 'team.updated' ORDER BY seq LIMIT 1")
    assert team_event["status"] == "dispatched" and "assignment" not in team_event
    # Rows of a load, shaped as the baseline writes them, not as the catalogue declares
    # (the check of every test's log covers the service's own events).
    status = await db.execute("DELETE FROM events")
    assert status == "DELETE 40", status
