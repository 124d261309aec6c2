"""The service restarted while incidents wait in the queue and an assignment awaits its
acknowledgement: the timers live in the database, so the new process withdraws the
silent team on time and serves the queue in order, as the old one would have."""

from __future__ import annotations

from dataclasses import replace

import asyncpg

from dispatch.config import Settings
from tests.support import CITY, Api, running_service, wait_until


async def test_queue_and_ack_timer_survive_a_restart(settings: Settings, dsn: str,
                                                     db: asyncpg.Connection) -> None:
    slow = replace(settings, ack_timeout_s=3600)
    async with running_service(slow) as url, Api(url, dsn) as api:
        await api.login_all()
        await api.team("RS1", CITY[0], CITY[1])
        await api.team("RS2", CITY[0] + 0.05, CITY[1])
        await api.device_token("RS2")
        first = (await api.incident(priority=2)).json()
        second = (await api.incident(priority=2)).json()
        assert first["status"] == second["status"] == "assigned"
        third = (await api.incident(priority=1)).json()
        fourth = (await api.incident(priority=3)).json()
        assert third["status"] == fourth["status"] == "queued"
        rs2 = second["assignment"]["team_id"]
        await api.step("RS2", "acknowledge", second["id"])
    # The old process is gone; a new one starts with a short ack timeout.
    quick = replace(settings, ack_timeout_s=1)
    async with running_service(quick) as url, Api(url, dsn) as api:
        await api.login_all()

        async def withdrawn() -> bool:
            return await db.fetchval(
                """SELECT count(*) FROM assignments
                   WHERE incident_id = $1 AND end_reason = 'ack_timeout'""", first["id"]) == 1
        await wait_until(withdrawn, what="the silent team withdrawn after the restart")
        # The acknowledged assignment was left alone.
        assert await db.fetchval(
            "SELECT ended_at FROM assignments WHERE incident_id = $1", second["id"]) is None
        await api.device_token("RS2")
        for action in ("en_route", "on_scene", "clear"):
            assert (await api.step("RS2", action, second["id"])).status_code == 200

        async def priority_one_served() -> int | None:
            return await db.fetchval(
                """SELECT team_id FROM assignments
                   WHERE incident_id = $1 AND ended_at IS NULL""", third["id"])
        assert await wait_until(priority_one_served, what="the priority-1 incident served") \
            == rs2
        assert await db.fetchval("SELECT status FROM incidents WHERE id = $1",
                                 fourth["id"]) == "queued"
