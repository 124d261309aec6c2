"""The live feed when PostgreSQL misbehaves: the hub's listening connection killed,
and the whole server restarted under connected sockets. Events keep flowing and a
client cut off meanwhile resumes without a gap."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from db.pool import connect
from dispatch.config import Settings
from realtime.frames import CLOSE_TRY_AGAIN_LATER
from realtime.hub import LISTEN_APPLICATION_NAME
from tests.support import (
    CITY,
    WAIT_S,
    Api,
    FeedClient,
    assert_quiet,
    logged,
    own_postgres,
    running_service,
    wait_until,
    ws_url,
)

HEARTBEAT_S = 0.1  # frequent heartbeats: each tells a socket how far the feed has come
RECOVERY_S = 10.0  # how long the service may take to serve again after PostgreSQL is back


async def logged_at(dsn: str, after: int, *, team_id: int | None = None
                    ) -> list[asyncpg.Record]:
    """`logged` on a connection of its own (the server may have restarted since)."""
    conn = await connect(dsn)
    try:
        return await logged(conn, after, team_id=team_id)
    finally:
        await conn.close()


@pytest.fixture
def settings(dsn: str) -> Settings:
    return Settings(database_url=dsn, secret_key="test", sweep_interval_s=0.2, pool_max=20,
                    ws_heartbeat_s=HEARTBEAT_S)


async def expect_exactly(client: FeedClient, rows: list[asyncpg.Record], *,
                         upto: int | None = None, timeout: float = WAIT_S) -> None:
    """`client` receives the events of `rows`, in order, once, and nothing else up to
    seq `upto` (by default the last of `rows`)."""
    frames = [await client.next_event(timeout) for _ in rows]
    assert [(f["seq"], f["name"], f["data"]) for f in frames] == [
        (r["seq"], r["name"], r["data"]) for r in rows]
    await assert_quiet(client, rows[-1]["seq"] if upto is None else upto)
    assert client.stale == 0, "a frame came twice or out of order"


async def listener_pid(db: asyncpg.Connection, *, other_than: int | None = None) -> int:
    """The backend of this database's hub listener (waiting for it to reconnect)."""
    async def pid() -> int | None:
        return await db.fetchval(
            """SELECT pid FROM pg_stat_activity
               WHERE datname = current_database() AND application_name = $1
                 AND pid IS DISTINCT FROM $2""", LISTEN_APPLICATION_NAME, other_than)
    return await wait_until(pid, what="the hub listening", poll_s=0.01)


async def test_hub_listens_again_after_its_backend_is_killed(
        api: Api, db: asyncpg.Connection) -> None:
    url = ws_url(api.base_url)
    async with FeedClient(url, api.tokens["operator"]) as desk:
        start = desk.last_seq
        killed = await listener_pid(db)
        assert await db.fetchval("SELECT pg_terminate_backend($1)", killed)
        # At once, before the hub noticed, and written by someone else (another
        # instance): only the log, a NOTIFY or the hub's timer brings it here.
        async with db.transaction():
            await db.execute("INSERT INTO events (name, actor, data) VALUES ('test.a', 't', '{}')")
        await db.execute("SELECT pg_notify('dispatch112_events', '0')")
        assert (await api.incident()).status_code == 201
        await listener_pid(db, other_than=killed)  # listening again, on a new backend
        async with db.transaction():
            await db.execute("INSERT INTO events (name, actor, data) VALUES ('test.b', 't', '{}')")
        await db.execute("SELECT pg_notify('dispatch112_events', '0')")
        assert (await api.incident()).status_code == 201
        rows = await logged(db, start)
        assert [r["name"] for r in rows].count("incident.created") == 2
        await expect_exactly(desk, rows)
        assert desk.close_codes == []  # the socket itself never noticed


async def _post_incident(api: Api) -> tuple[dict, int]:
    """POST an incident until the service answers 201 (retrying 5xx within RECOVERY_S,
    safely: one Idempotency-Key); the incident and how many attempts failed."""
    key, failures = uuid.uuid4().hex, 0
    deadline = asyncio.get_running_loop().time() + RECOVERY_S
    while True:
        response = await api.incident(*CITY, headers={"Idempotency-Key": key})
        if response.status_code in (200, 201):
            return response.json(), failures
        assert response.status_code >= 500, response.text
        failures += 1
        assert asyncio.get_running_loop().time() < deadline, (
            f"still {response.status_code} {RECOVERY_S}s after PostgreSQL came back")
        await asyncio.sleep(0.1)


async def test_postgres_restart_under_connected_sockets(tmp_path: Path) -> None:
    async with own_postgres(tmp_path / "pg") as (server, dsn):
        settings = Settings(database_url=dsn, secret_key="test", sweep_interval_s=0.2,
                            pool_max=10, ws_heartbeat_s=HEARTBEAT_S)
        async with running_service(settings) as base, Api(base, dsn) as api:
            await api.login_all()
            team = await api.team("NEAR", *CITY)
            url, token = ws_url(base), await api.device_token("NEAR")
            operator = api.tokens["operator"]
            async with (FeedClient(url, operator) as desk, FeedClient(url, token) as phone,
                        FeedClient(url, operator) as cut, FeedClient(url, operator) as away):
                start = desk.last_seq
                before, _ = await _post_incident(api)
                assert before["assignment"]["team_id"] == team["id"]
                first = await logged_at(dsn, start)
                await asyncio.gather(*(expect_exactly(c, first) for c in (desk, cut, away)))
                seen = first[-1]["seq"]

                await away.drop()  # comes back only after the new events
                await asyncio.to_thread(server.stop)
                cut.interrupt()  # reconnects by itself; refused until PostgreSQL is back
                await wait_until(lambda: CLOSE_TRY_AGAIN_LATER in cut.close_codes,
                                 what="cut refused while PostgreSQL is down")
                assert await asyncio.to_thread(server.start) == dsn  # same port
                after, _ = await _post_incident(api)
                assert after["assignment"] is None  # the team is still on the first one

                rows = await logged_at(dsn, seen)
                team_rows = await logged_at(dsn, start, team_id=team["id"])
                assert [r["data"]["id"] for r in rows
                        if r["name"] == "incident.created"] == [after["id"]]
                async with FeedClient(url, operator, last_seq=away.last_seq) as back:
                    await asyncio.gather(
                        expect_exactly(desk, rows), expect_exactly(cut, rows),
                        expect_exactly(back, rows),
                        expect_exactly(phone, team_rows, upto=rows[-1]["seq"]))
                assert desk.close_codes == [] and phone.close_codes == []
                # While PostgreSQL was down the service said "try again later", and it did.
                assert CLOSE_TRY_AGAIN_LATER in cut.close_codes
                assert len(cut.welcomes) >= 2
