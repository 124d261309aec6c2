"""A large fleet: allocation ranks only the nearest teams on a map when the router
ranks by straight-line distance (dispatch/incidents/allocation.py), and must choose
exactly as if it had ranked every team, ties and clusters included."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db.pool import create_pool
from dispatch.config import Settings
from dispatch.context import Context
from dispatch.incidents import allocation
from dispatch.vocabulary import TEAM_KINDS


@pytest.fixture
async def ctx(dsn: str) -> AsyncIterator[Context]:
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        yield Context.create(Settings(database_url=dsn, secret_key="test"), pool)
    finally:
        await pool.close()


async def _fleet(db: asyncpg.Connection, rng: random.Random) -> None:
    """400 teams on duty: 300 spread over the city, 60 parked at one hospital (equal
    distances: ties broken by assignments today, then code), 40 a few metres apart
    around another point; some with assignments today. A third of the spread ones
    have a fresh GPS fix elsewhere (routed from it), a tenth a stale one (from base)."""
    points = [(rng.uniform(-4.06, -3.96), rng.uniform(119.60, 119.68)) for _ in range(300)]
    points += [(-4.0105, 119.6262)] * 60
    points += [(-3.99 + rng.uniform(-5e-5, 5e-5), 119.65 + rng.uniform(-5e-5, 5e-5))
               for _ in range(40)]
    now = datetime.now(UTC)
    for n, (lat, lon) in enumerate(points):
        team_id = await db.fetchval(
            """INSERT INTO teams (code, name, kind, base_lat, base_lon, base_name, pin_hash)
               VALUES ($1, $1, 'bls', $2, $3, 'base', 'x') RETURNING id""",
            f"F{rng.randrange(10_000):04}-{n}", lat, lon)
        await db.execute("INSERT INTO shifts (team_id, starts_at, ends_at) VALUES ($1, $2, $3)",
                         team_id, now - timedelta(hours=1), now + timedelta(hours=8))
        if n < 300 and n % 10 < 4:
            age = timedelta(seconds=30 if n % 10 < 3 else 3600)
            await db.execute(
                "UPDATE teams SET fix_lat = $2, fix_lon = $3, fix_at = $4 WHERE id = $1",
                team_id, rng.uniform(-4.06, -3.96), rng.uniform(119.60, 119.68), now - age)


async def test_the_nearest_on_a_map_rank_as_the_whole_fleet(
        ctx: Context, db: asyncpg.Connection) -> None:
    rng = random.Random(112)
    await _fleet(db, rng)
    scenes = [(rng.uniform(-4.07, -3.95), rng.uniform(119.59, 119.69)) for _ in range(25)]
    scenes += [(-4.0105, 119.6262), (-4.0106, 119.6263), (-3.99, 119.65)]
    cut, sources = 0, set()
    async with ctx.pool.acquire() as conn:
        for lat, lon in scenes:
            nearest = await allocation.get_ranked_candidates(conn, ctx, lat, lon,
                                                             TEAM_KINDS, [])
            every = await allocation.get_ranked_candidates(conn, ctx, lat, lon, TEAM_KINDS,
                                                           [], every=True)
            assert len(every) == 400
            assert len(nearest) >= allocation.NEAREST
            cut += len(nearest) == allocation.NEAREST
            first = allocation.EXACT_FIRST
            assert [c.team_id for c in nearest[:first]] == [c.team_id for c in every[:first]]
            assert [c.route for c in nearest[:first]] == [c.route for c in every[:first]]
            assert [c.source for c in nearest[:first]] == [c.source for c in every[:first]]
            sources.update(c.source for c in nearest[:first])
    assert cut >= 20  # the cut was taken, not every time the whole fleet
    assert sources == {"gps", "base"}
