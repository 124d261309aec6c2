"""Transactions that meet on the same rows: they take their locks in one order (the
incident first), and a transaction PostgreSQL undoes anyway answers 503, not 500.

An assignment's SMS queued by the sweep while its team acknowledges in the app: the
queueing takes the incident first, as a step does, so one waits for the other and
neither fails. It used to claim the assignment first; the messages' foreign key then
waited for the incident the step held while the step waited for the assignment, and
PostgreSQL broke the deadlock by failing the team's acknowledgement (a 500)."""

from __future__ import annotations

import asyncio

import asyncpg

from db.pool import create_pool
from dispatch.config import Settings
from dispatch.context import Context
from dispatch.sms.service import do_queue_assignment
from tests.sms_support import sms_settings, sms_team
from tests.support import Api, fingerprint_tables, running_service, wait_until

NUMBER = "+6281234500077"


async def _waiting_on_a_lock(db: asyncpg.Connection) -> bool:
    return await db.fetchval(
        """SELECT count(*) > 0 FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'""")


async def test_the_sms_sweep_and_an_acknowledgement_do_not_deadlock(
        dsn: str, db: asyncpg.Connection) -> None:
    # The service without a gateway: it queues no SMS itself; the test's sweep does.
    async with running_service(Settings(database_url=dsn, secret_key="test")) as url, \
            Api(url, dsn) as api:
        await api.login_all()
        await sms_team(api, "PESISIR", -4.0, 119.64, NUMBER)
        incident = (await api.incident(-4.0, 119.64, priority=1)).json()
    assignment = await db.fetchrow(
        "SELECT id, incident_id, team_id FROM assignments WHERE incident_id = $1",
        incident["id"])
    pool = await create_pool(dsn, min_size=1, max_size=2)
    ctx = Context.create(sms_settings(dsn, ("kannel", "http://127.0.0.1:9/sendsms")), pool)

    async def sweep() -> bool:
        async with ctx.transaction() as conn:
            return await do_queue_assignment(conn, ctx, assignment)

    step = await asyncpg.connect(dsn)
    try:
        # The team's acknowledgement, as a step runs it: its incident locked first...
        async with step.transaction():
            await step.execute("SELECT 1 FROM incidents WHERE id = $1 FOR UPDATE",
                               incident["id"])
            swept = asyncio.create_task(sweep())
            await wait_until(lambda: _waiting_on_a_lock(db), what="the sweep waiting")
            # ...then its assignment, while the sweep waits.
            await step.execute("UPDATE assignments SET acknowledged_at = now(), "
                               "acknowledged_via = 'app' WHERE id = $1", assignment["id"])
        assert await asyncio.wait_for(swept, 30) is False  # acknowledged: no SMS
    finally:
        await step.close()
        await pool.close()
    assert await db.fetchval("SELECT count(*) FROM sms_messages") == 0


# PostgreSQL's own error for a transaction it undid to break a deadlock (SQLSTATE
# 40P01), raised by a trigger on the acknowledgement's statement: the step meets it
# where a real deadlock would hit it, at will.
COLLIDE = """
CREATE FUNCTION test_collide() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$;
CREATE TRIGGER test_collide BEFORE UPDATE OF acknowledged_at ON assignments
FOR EACH ROW EXECUTE FUNCTION test_collide();
"""
TABLES = ("incidents", "assignments", "teams", "status_requests", "events")


async def test_a_step_the_database_undoes_answers_503_and_changes_nothing(
        dsn: str, db: asyncpg.Connection) -> None:
    async with running_service(Settings(database_url=dsn, secret_key="test")) as url, \
            Api(url, dsn) as api:
        await api.login_all()
        await api.team("PESISIR", -4.0, 119.64)
        incident = (await api.incident(-4.0, 119.64, priority=1)).json()
        await api.device_token("PESISIR")
        await db.execute(COLLIDE)
        before = await fingerprint_tables(db, TABLES)
        undone = await api.step("PESISIR", "acknowledge", incident["id"], client_id="ack-1")
        assert undone.status_code == 503, undone.text
        assert undone.headers["retry-after"] == "1"
        assert undone.headers["content-type"] == "application/problem+json"
        assert "send it again" in undone.json()["detail"]
        assert await fingerprint_tables(db, TABLES) == before
        await db.execute("DROP TRIGGER test_collide ON assignments")
        again = await api.step("PESISIR", "acknowledge", incident["id"], client_id="ack-1")
        assert again.status_code == 200, again.text
        assert await db.fetchval("SELECT status FROM incidents WHERE id = $1",
                                 incident["id"]) == "acknowledged"
