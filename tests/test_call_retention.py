"""Retention of caller numbers (issue 12): past DISPATCH112_CALL_RETENTION_DAYS the
sweeper removes the numbers of calls, their callbacks and AML positions, ended
incidents and ended block-list entries; the reports' counts stay as they were."""

from __future__ import annotations

import asyncpg
import pytest

from tests.calls_support import end_call, open_call
from tests.support import CITY, Api, wait_until

OLD, RECENT = "081234567890", "085299998888"


@pytest.mark.settings(call_retention_days=1, prune_every_s=0.2)
async def test_old_numbers_go_and_the_counts_stay(api: Api, db: asyncpg.Connection) -> None:
    await api.team("T1", *CITY)
    kept = await open_call(api, RECENT, role="operator")
    await end_call(api, kept["id"], "info")
    # Made old in the database first, so that the sweeper cannot race the set-up.
    old = []
    async with db.transaction():
        for disposition in ("prank", "silent", "dropped"):
            row = await db.fetchrow(
                "INSERT INTO calls (caller_number, status, disposition, received_at, ended_at,"
                " created_by) VALUES ($1, 'ended', $2, now() - interval '2 days',"
                " now() - interval '2 days', 'test') RETURNING id", "+6281234567890",
                disposition)
            old.append(row["id"])
        await db.execute("INSERT INTO callbacks (call_id, caller_number) VALUES ($1, $2)",
                         old[2], "+6281234567890")
        await db.execute(
            "INSERT INTO aml_locations (call_id, caller_number, lat, lon, method, transport, at,"
            " received_at) VALUES ($1, $2, -4.0, 119.6, 'gnss', 'sms', now() - interval"
            " '2 days', now() - interval '2 days')", old[0], "+6281234567890")
        incident = await db.fetchval(
            "INSERT INTO incidents (caller_number, lat, lon, address, complaint, priority,"
            " status, received_at, cancelled_at, created_by) VALUES ($1, -4.0, 119.6, 'Jl. A',"
            " 'b', 2, 'cancelled', now() - interval '2 days', now() - interval '2 days',"
            " 'test') RETURNING id", "+6281234567890")
        await db.execute(
            "INSERT INTO blocklist (number, reason, created_by, created_at, expires_at)"
            " VALUES ($1, 'iseng', 'user:admin', now() - interval '3 days',"
            " now() - interval '2 days')", "+6281234567890")
    # An active incident keeps its number, however old.
    active = (await api.incident(caller_number=OLD)).json()["id"]
    await db.execute("UPDATE incidents SET received_at = now() - interval '2 days'"
                     " WHERE id = $1", active)
    before = (await api.get("/api/v1/reports/calls", role="admin")).json()

    async def forgotten() -> bool:
        return await db.fetchval("SELECT count(*) FROM calls WHERE caller_number IS NOT NULL"
                                 " AND received_at < now() - interval '1 day'") == 0
    await wait_until(forgotten, what="old caller numbers removed")
    await wait_until(lambda: db.fetchval("SELECT count(*) = 0 FROM blocklist"),
                     what="ended block removed")
    stored = await db.fetch("SELECT id, caller_number, anonymised_at FROM calls ORDER BY id")
    assert {r["id"]: r["caller_number"] for r in stored} == {
        kept["id"]: "+6285299998888", **{i: None for i in old}}
    assert all(r["anonymised_at"] is not None for r in stored if r["id"] in old)
    assert await db.fetchval("SELECT caller_number FROM callbacks") is None
    assert await db.fetchval("SELECT caller_number FROM aml_locations") is None
    assert await db.fetchval("SELECT caller_number FROM incidents WHERE id = $1",
                             incident) is None
    assert await db.fetchval("SELECT caller_number FROM incidents WHERE id = $1",
                             active) == "+6281234567890"
    after = (await api.get("/api/v1/reports/calls", role="admin")).json()
    assert after["dispositions"] == before["dispositions"] and after["total"] == 4
    history = (await api.get(f"/api/v1/calls?number={OLD}")).json()
    assert history["items"] == [] and [i["id"] for i in history["incidents"]] == [active]
