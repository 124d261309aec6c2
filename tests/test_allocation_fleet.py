"""A large fleet: allocation ranks only the nearest teams on a map when the router
ranks by straight-line distance, or by road when the search shows that no other team
could come first (dispatch/incidents/allocation.py), and must choose exactly as if it
had ranked every team, ties and clusters included."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from db.pool import create_pool
from dispatch.config import Settings
from dispatch.context import Context
from dispatch.incidents import allocation
from dispatch.vocabulary import TEAM_KINDS
from routing.roads.router import OsmRouter
from tests.roads_support import OsmWriter, city_grid, place


@pytest.fixture
async def ctx(dsn: str) -> AsyncIterator[Context]:
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        yield Context.create(Settings(database_url=dsn, secret_key="test"), pool)
    finally:
        await pool.close()


async def _on_duty(db: asyncpg.Connection, code: str, lat: float, lon: float) -> int:
    """A BLS team based at (lat, lon), on a shift that covers now."""
    now = datetime.now(UTC)
    team_id = await db.fetchval(
        """INSERT INTO teams (code, name, kind, base_lat, base_lon, base_name, pin_hash)
           VALUES ($1, $1, 'bls', $2, $3, 'base', 'x') RETURNING id""", code, lat, lon)
    await db.execute("INSERT INTO shifts (team_id, starts_at, ends_at) VALUES ($1, $2, $3)",
                     team_id, now - timedelta(hours=1), now + timedelta(hours=8))
    return team_id


async def _by_road(ctx: Context, osm: OsmWriter, path: Path) -> Context:
    """`ctx` with a road router over `osm`, written to `path`."""
    router = OsmRouter(osm.write(path))
    await router.prepare()
    return replace(ctx, router=router)


async def _nearest_and_every(ctx: Context, lat: float, lon: float) -> tuple[list, list]:
    """The allocation's ranking at (lat, lon), and the ranking of every team."""
    async with ctx.pool.acquire() as conn:
        return (await allocation.get_ranked_candidates(conn, ctx, lat, lon, TEAM_KINDS, []),
                await allocation.get_ranked_candidates(conn, ctx, lat, lon, TEAM_KINDS, [],
                                                       every=True))


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
        team_id = await _on_duty(db, f"F{rng.randrange(10_000):04}-{n}", lat, lon)
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
    for lat, lon in scenes:
        nearest, every = await _nearest_and_every(ctx, lat, lon)
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


async def test_teams_off_shift_nearer_than_the_cut_do_not_shorten_it(
        ctx: Context, db: asyncpg.Connection) -> None:
    """150 teams off shift (one ended, one not yet begun) crowd the scene; the 250 on
    duty are farther. The cut of the nearest is taken among the teams on duty: a hundred
    of them, the first as from the whole fleet, none off shift."""
    rng, now = random.Random(7), datetime.now(UTC)
    off = set()
    for n in range(150):
        team_id = await _on_duty(db, f"X{n:03}", -4.01 + rng.uniform(-0.003, 0.003),
                                 119.63 + rng.uniform(-0.003, 0.003))
        ended = n % 2 == 0
        await db.execute("UPDATE shifts SET starts_at = $2, ends_at = $3 WHERE team_id = $1",
                         team_id, now + (timedelta(hours=-9) if ended else timedelta(hours=1)),
                         now + (timedelta(hours=-1) if ended else timedelta(hours=9)))
        off.add(team_id)
    for n in range(250):
        await _on_duty(db, f"D{n:03}", -4.01 + rng.choice((-1, 1)) * rng.uniform(0.01, 0.05),
                       119.63 + rng.choice((-1, 1)) * rng.uniform(0.01, 0.05))
    nearest, every = await _nearest_and_every(ctx, -4.01, 119.63)
    assert len(every) == 250
    assert len(nearest) == allocation.NEAREST
    assert not off & {c.team_id for c in nearest}
    first = allocation.EXACT_FIRST
    assert [c.team_id for c in nearest[:first]] == [c.team_id for c in every[:first]]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Streets every 150 m over the fleet's box (tests/roads_support.city_grid)."""
    return city_grid(95, spacing_m=150.0, origin=(-4.075, 119.585)).write(
        tmp_path_factory.mktemp("city") / "city.osm")


async def test_by_road_the_nearest_on_a_map_rank_as_the_whole_fleet(
        ctx: Context, db: asyncpg.Connection, city: Path) -> None:
    router = OsmRouter(city)
    await router.prepare()
    ctx = replace(ctx, router=router)
    rng = random.Random(113)
    await _fleet(db, rng)
    cut = 0
    for _ in range(30):
        lat, lon = rng.uniform(-4.06, -3.96), rng.uniform(119.60, 119.68)
        nearest, every = await _nearest_and_every(ctx, lat, lon)
        cut += len(nearest) < len(every)
        first = allocation.EXACT_FIRST
        assert [c.team_id for c in nearest[:first]] == [c.team_id for c in every[:first]]
        assert [c.route for c in nearest[:first]] == [c.route for c in every[:first]]
        assert {c.route.source for c in nearest[:first]} >= {"osm"}
    assert cut >= 10  # the nearest alone were ranked, not every time the whole fleet


async def test_across_a_river_the_whole_fleet_is_ranked(
        ctx: Context, db: asyncpg.Connection, tmp_path: Path) -> None:
    """The 110 nearest teams on a map are across a river whose bridge is 5 km away; 25
    on the incident's bank are farther on a map and nearer by road: one of those goes."""
    osm = OsmWriter()
    for x in range(-3000, 3201, 200):  # the river runs between x = 0 and x = 200
        if x != 100:
            osm.way([place(x, y) for y in range(0, 5001, 200)], highway="residential")
    for y in range(0, 5001, 200):
        osm.way([place(x, y) for x in range(-3000, 1, 200)], highway="residential")
        osm.way([place(x, y) for x in range(200, 3201, 200)], highway="residential")
    osm.way([place(0, 5000), place(200, 5000)], highway="residential")  # the bridge
    ctx = await _by_road(ctx, osm, tmp_path / "river.osm")
    rng = random.Random(114)
    across = [place(rng.uniform(250, 600), rng.uniform(300, 700)) for _ in range(110)]
    bank = [place(rng.uniform(-2600, -1500), rng.uniform(0, 1000)) for _ in range(25)]
    for n, (lat, lon) in enumerate(across + bank):
        await _on_duty(db, f"R{n:03}", lat, lon)
    nearest, every = await _nearest_and_every(ctx, *place(-100, 500))
    assert nearest[0].code.startswith("R1") and int(nearest[0].code[1:]) >= 110
    assert [c.team_id for c in nearest] == [c.team_id for c in every]


async def test_a_fast_road_from_beyond_the_nearest_on_a_map_is_ranked(
        ctx: Context, db: asyncpg.Connection, tmp_path: Path) -> None:
    """The 110 nearest teams on a map stand on residential streets 400-900 m away; ten
    more, 1,000-1,300 m away, are on a motorway into the scene and come first by road,
    though none is among the nearest on a map: the whole fleet is ranked."""
    osm = OsmWriter()
    for k in range(-1000, 1001, 100):
        osm.way([place(k, y) for y in range(-1000, 1001, 100)], highway="residential")
        osm.way([place(x, k) for x in range(-1000, 1001, 100)], highway="residential")
    osm.way([place(x, 50) for x in range(1300, 0, -100)] + [place(0, 0)], highway="motorway")
    ctx = await _by_road(ctx, osm, tmp_path / "motorway.osm")
    axes = [(d * dx, d * dy) for d in range(400, 901, 100)
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))]
    near = [place(*axes[n % len(axes)]) for n in range(110)]
    motorway = [place(1000 + 100 * (n % 4), 50) for n in range(10)]
    for n, (lat, lon) in enumerate(near + motorway):
        await _on_duty(db, f"M{n:03}", lat, lon)
    nearest, every = await _nearest_and_every(ctx, *place(0, 0))
    assert int(nearest[0].code[1:]) >= 110 and nearest[0].route.source == "osm"
    assert [c.team_id for c in nearest] == [c.team_id for c in every]
