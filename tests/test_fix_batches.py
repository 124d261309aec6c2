"""Phones' GPS fixes stored many to a statement (dispatch/teams/fixes.py): every phone
still gets its own fix's answer, a team's fixes keep their order, a revoked phone's
fix is refused without holding the others back, a database away fails every waiting
fix (503 to each phone) without stopping the next ones, and a batch never deadlocks
with another statement on the same teams. Then announced in rounds of the teams this
instance stored (dispatch/teams/positions.py), the sweep's round taking the rest."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db.pool import create_pool
from dispatch.config import Settings
from dispatch.context import Context
from dispatch.teams.fixes import Fix, FixWriter
from dispatch.teams.positions import do_announce_fixes
from tests.support import WAIT_S, wait_until

NOW = datetime.now(UTC)


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        yield pool
    finally:
        await pool.close()


class CountedPool:
    """The pool's connections, counted: one acquisition per statement of fixes."""

    def __init__(self, pool: asyncpg.Pool, timeout_s: float = 30.0) -> None:
        self.pool, self.timeout_s, self.acquired = pool, timeout_s, 0

    def acquire(self) -> contextlib.AbstractAsyncContextManager[asyncpg.Connection]:
        self.acquired += 1
        return self.pool.acquire(timeout=self.timeout_s)


async def _teams(db: asyncpg.Connection, n: int) -> list[int]:
    return [await db.fetchval(
        """INSERT INTO teams (code, name, kind, base_lat, base_lon, pin_hash)
           VALUES ($1, $1, 'bls', -4.01, 119.63, 'x') RETURNING id""", f"FX{i:03}")
        for i in range(n)]


async def _token(db: asyncpg.Connection, team_id: int, *, revoked: bool) -> bytes:
    digest = hashlib.sha256(f"token-{team_id}-{revoked}".encode()).digest()
    await db.execute(
        """INSERT INTO tokens (token_hash, role, team_id, expires_at, revoked_at)
           VALUES ($1, 'responder', $2, now() + interval '1 hour',
                   CASE WHEN $3 THEN now() END)""", digest, team_id, revoked)
    return digest


def _fix(team_id: int, n: int, token_hash: bytes | None = None) -> Fix:
    return Fix(team_id, -4.0 - n / 1e4, 119.6 + n / 1e4, 5.0 + n, NOW + timedelta(seconds=n),
               token_hash)


async def test_a_fleets_fixes_each_answered_in_few_statements(
        pool: asyncpg.Pool, db: asyncpg.Connection) -> None:
    teams = await _teams(db, 200)
    counted = CountedPool(pool)
    writer = FixWriter(counted.acquire, gather_s=0.05)
    answers = await asyncio.gather(*(writer.store(_fix(t, n)) for n, t in enumerate(teams)))
    assert all(a["token_ok"] and a["stored"] for a in answers)
    assert counted.acquired <= 3, counted.acquired
    # Over HTTP (no socket's token): not counted as a phone connected (docs/api.md).
    assert await db.fetchval("SELECT count(*) FROM teams WHERE device_seen_at IS NOT NULL "
                             "AND id = ANY($1)", teams) == 0
    rows = {r["id"]: r for r in await db.fetch(
        "SELECT id, fix_lat, fix_lon, fix_accuracy_m, fix_at FROM teams WHERE id = ANY($1)",
        teams)}
    for n, team_id in enumerate(teams):
        fix = _fix(team_id, n)
        assert (rows[team_id]["fix_lat"], rows[team_id]["fix_lon"],
                rows[team_id]["fix_accuracy_m"], rows[team_id]["fix_at"]) == (
            fix.lat, fix.lon, fix.accuracy_m, fix.at)


async def test_a_teams_fixes_keep_their_order_and_a_late_one_is_not_stored(
        pool: asyncpg.Pool, db: asyncpg.Connection) -> None:
    [team] = await _teams(db, 1)
    writer = FixWriter(CountedPool(pool).acquire, gather_s=0.05)
    first, second, late = await asyncio.gather(
        writer.store(_fix(team, 1)), writer.store(_fix(team, 2)), writer.store(_fix(team, 0)))
    assert (first["stored"], second["stored"], late["stored"]) == (True, True, False)
    assert await db.fetchval("SELECT fix_at FROM teams WHERE id = $1", team) == _fix(team, 2).at


async def test_a_revoked_phones_fix_is_refused_and_the_others_stored(
        pool: asyncpg.Pool, db: asyncpg.Connection) -> None:
    good, bad = await _teams(db, 2)
    good_token, bad_token = await _token(db, good, revoked=False), await _token(db, bad,
                                                                                revoked=True)
    writer = FixWriter(CountedPool(pool).acquire, gather_s=0.05)
    kept, refused = await asyncio.gather(writer.store(_fix(good, 1, good_token)),
                                         writer.store(_fix(bad, 1, bad_token)))
    assert (kept["token_ok"], kept["stored"]) == (True, True)
    assert (refused["token_ok"], refused["stored"]) == (False, False)
    assert await db.fetchval("SELECT fix_at FROM teams WHERE id = $1", bad) is None
    # A socket's fix is its phone heard from (signal lost is measured from it).
    seen = await db.fetchval("SELECT device_seen_at FROM teams WHERE id = $1", good)
    assert seen is not None


async def test_a_database_away_fails_every_waiting_fix_and_not_the_next(
        pool: asyncpg.Pool, db: asyncpg.Connection) -> None:
    teams = await _teams(db, 3)
    writer = FixWriter(CountedPool(pool, timeout_s=0.2).acquire, gather_s=0.01)
    async with pool.acquire():  # the pool's only connection held: no connection in time
        answers = await asyncio.gather(*(writer.store(_fix(t, 1)) for t in teams),
                                       return_exceptions=True)
    assert all(isinstance(a, TimeoutError) for a in answers), answers
    assert await db.fetchval("SELECT count(*) FROM teams WHERE id = ANY($1) AND fix_at IS NOT "
                             "NULL", teams) == 0
    again = await asyncio.gather(*(writer.store(_fix(t, 2)) for t in teams))
    assert all(a["stored"] for a in again)


async def test_a_batch_locks_teams_in_order_and_never_deadlocks(
        dsn: str, pool: asyncpg.Pool, db: asyncpg.Connection) -> None:
    """Another transaction holds the lower team and then takes the higher one, while a
    batch listing the higher team first waits: the batch must wait holding nothing
    (rows locked by id), or PostgreSQL would cancel one of them as a deadlock."""
    low, high = await _teams(db, 2)
    writer = FixWriter(CountedPool(pool).acquire, gather_s=0.0)
    other = await asyncpg.connect(dsn)
    try:
        async with other.transaction():
            await other.execute("UPDATE teams SET name = 'busy' WHERE id = $1", low)
            batch = asyncio.gather(writer.store(_fix(high, 1)), writer.store(_fix(low, 1)))
            await wait_until(lambda: _waiting_on_a_lock(db))
            await other.execute("UPDATE teams SET name = 'busy' WHERE id = $1", high)
        assert all(a["stored"] for a in await asyncio.wait_for(batch, WAIT_S))
    finally:
        await other.close()


async def _waiting_on_a_lock(db: asyncpg.Connection) -> bool:
    return await db.fetchval("""SELECT count(*) > 0 FROM pg_stat_activity
                                WHERE datname = current_database()
                                  AND wait_event_type = 'Lock'""")


async def test_a_round_announces_its_teams_and_the_sweep_the_rest(
        dsn: str, pool: asyncpg.Pool, db: asyncpg.Connection) -> None:
    ours, elsewhere = await _teams(db, 2)
    ctx = Context.create(Settings(database_url=dsn, secret_key="test"), pool)
    for team in (ours, elsewhere):  # fixes stored, not yet announced
        assert (await ctx.fixes.store(_fix(team, 1)))["stored"]
    assert await do_announce_fixes(ctx, [ours]) == 1
    assert await _announced(db) == [ours]
    assert await do_announce_fixes(ctx) == 1  # the sweep's round: every team
    assert await _announced(db) == [ours, elsewhere]


async def _announced(db: asyncpg.Connection) -> list[int]:
    return [r["team_id"] for r in await db.fetch(
        "SELECT team_id FROM events WHERE name = 'team.updated' ORDER BY seq")]
