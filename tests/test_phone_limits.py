"""What one phone may cost everyone else: GPS fixes announced at most every few seconds
(the last one always), steps and fixes beyond a rate refused with 429, and an event
log that keeps a bounded past — never an active incident's timeline."""

from __future__ import annotations

import asyncpg
import pytest

from realtime.client import EventClient
from tests.support import Api, wait_until, ws_url


async def _fix_events(db: asyncpg.Connection, team_id: int) -> list[asyncpg.Record]:
    return await db.fetch(
        """SELECT seq, data FROM events WHERE name = 'team.updated' AND team_id = $1
             AND data ? 'position' AND data->'position'->>'source' = 'gps' ORDER BY seq""",
        team_id)


@pytest.mark.settings(gps_announce_s=1.0)
async def test_a_burst_of_fixes_is_announced_once_and_then_its_last_fix(
        api: Api, db: asyncpg.Connection) -> None:
    team = await api.team("GPS", -4.0, 119.64)
    await api.device_token("GPS")
    async with EventClient(ws_url(api.base_url), api.tokens["operator"]) as desk:
        for step in range(10):
            fix = await api.post("/api/v1/team/location",
                                 {"lat": -4.0 + step * 1e-4, "lon": 119.64}, role="team:GPS")
            assert fix.status_code == 204
        last = -4.0 + 9 * 1e-4

        async def last_fix_shown() -> bool:
            event = await desk.next_event(30)
            return (event["name"] == "team.updated"
                    and event["data"]["position"]["lat"] == pytest.approx(last))
        await wait_until(last_fix_shown, what="the burst's last fix on the dashboard")
    stored = await db.fetchrow("SELECT fix_lat, fix_announced_at, fix_at FROM teams "
                               "WHERE id = $1", team["id"])
    assert stored["fix_lat"] == pytest.approx(last)
    assert stored["fix_announced_at"] == stored["fix_at"]
    # Ten fixes in well under a second: the first announced at once, the last by the
    # sweep; at most one more if the burst straddled the announcement interval.
    assert 2 <= len(await _fix_events(db, team["id"])) <= 3


@pytest.mark.settings(gps_announce_s=0.0, gps_announce_per_s=1.0, sweep_interval_s=0.2)
async def test_a_large_fleet_has_its_positions_announced_less_often(
        api: Api, db: asyncpg.Connection) -> None:
    """Two phones connected and at most one announcement a second: each team's positions
    go out 2 s apart (without the cap, every fix at once); the last one still goes."""
    team = await api.team("CAP", -4.0, 119.64)
    await api.team("CAP2", -4.01, 119.64)
    url = ws_url(api.base_url)
    async with EventClient(url, await api.device_token("CAP"), names=[]), \
            EventClient(url, await api.device_token("CAP2"), names=[]):
        for step in range(2):
            fix = await api.post("/api/v1/team/location",
                                 {"lat": -4.0 + step * 1e-4, "lon": 119.64}, role="team:CAP")
            assert fix.status_code == 204
            if step == 0:
                await wait_until(lambda: _fix_events(db, team["id"]),
                                 what="the first fix announced")

        async def both_announced() -> bool:
            return len(await _fix_events(db, team["id"])) == 2
        await wait_until(both_announced, what="the last fix announced")
    first, last = [await db.fetchval("SELECT at FROM events WHERE seq = $1", e["seq"])
                   for e in await _fix_events(db, team["id"])]
    assert (last - first).total_seconds() >= 1.9


@pytest.mark.settings(device_burst=5, device_rate_per_s=0.5)
async def test_a_flooding_phone_is_slowed_alone(api: Api) -> None:
    await api.team("FLOOD", -4.0, 119.64)
    await api.team("CALM", -4.01, 119.64)
    await api.device_token("FLOOD")
    await api.device_token("CALM")
    answers = [await api.post("/api/v1/team/location", {"lat": -4.0, "lon": 119.64},
                              role="team:FLOOD") for _ in range(9)]
    codes = [a.status_code for a in answers]
    assert codes[:5] == [204] * 5 and 429 in codes[5:]
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"
    calm = await api.post("/api/v1/team/location", {"lat": -4.01, "lon": 119.64},
                          role="team:CALM")
    assert calm.status_code == 204


@pytest.mark.settings(event_retention_days=30, prune_every_s=0.2)
async def test_old_events_go_but_an_active_incidents_timeline_stays(
        api: Api, db: asyncpg.Connection) -> None:
    old = [await db.fetchval(
        """INSERT INTO events (name, actor, data, at)
           VALUES ('test.old', 't', '{}', now() - interval '40 days') RETURNING seq""")
        for _ in range(5)]
    await api.team("KEEP", -4.0, 119.64)
    incident = (await api.incident()).json()
    kept = await db.fetch("SELECT seq FROM events WHERE incident_id = $1", incident["id"])
    assert kept

    async def pruned() -> bool:
        return await db.fetchval("SELECT pruned_through FROM events_horizon") >= max(old)
    await wait_until(pruned, what="the old events pruned")
    assert await db.fetchval("SELECT count(*) FROM events WHERE name = 'test.old'") == 0
    still = await db.fetch("SELECT seq FROM events WHERE incident_id = $1", incident["id"])
    assert [r["seq"] for r in still] == [r["seq"] for r in kept]
    # A client resuming from before the horizon is told to fetch the state again.
    async with EventClient(ws_url(api.base_url), api.tokens["operator"],
                           last_seq=min(old) - 1) as late:
        await wait_until(lambda: late.resyncs, what="a resync frame")


@pytest.mark.settings(gps_round_s=1.0)
async def test_many_phones_fixes_are_shown_in_few_transactions(
        api: Api, db: asyncpg.Connection) -> None:
    """Every phone's fix reaches the dashboards, gathered into rounds: one event-writing
    transaction for many teams, not one per fix (dispatch/teams/positions.py)."""
    codes = [f"R{n:02}" for n in range(20)]
    for code in codes:
        await api.team(code, -4.0, 119.64)
        await api.device_token(code)
    async with EventClient(ws_url(api.base_url), api.tokens["operator"]) as desk:
        for n, code in enumerate(codes):
            fix = await api.post("/api/v1/team/location", {"lat": -4.0 + n * 1e-4, "lon": 119.64},
                                 role=f"team:{code}")
            assert fix.status_code == 204
        shown: set[str] = set()

        async def every_fix_shown() -> bool:
            event = await desk.next_event(30)
            if event["name"] == "team.updated" and event["data"]["position"]["source"] == "gps":
                shown.add(event["data"]["code"])
            return shown == set(codes)
        await wait_until(every_fix_shown, what="every team's fix on the dashboard")
    writers = await db.fetchval(
        """SELECT count(DISTINCT xid) FROM events
           WHERE name = 'team.updated' AND data->'position'->>'source' = 'gps'""")
    # 20 fixes posted one after another: the first round takes the first at once, the
    # next ones what came meanwhile. Far fewer transactions than fixes even on a slow
    # machine (here a round a second).
    assert writers <= 10
