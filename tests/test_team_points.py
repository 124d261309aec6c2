"""The points teams are sent from (`team_points`, db/migrations/0021_team_points.sql):
they follow every writer of `teams`, and the search for the nearest free teams over
their spatial index gives exactly the first of the whole fleet ranked, also where
longitude shrinks (far from the equator the index's unscaled plane and the ranking's
disagree most)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from db import teams as teams_db
from dispatch.vocabulary import TEAM_KINDS

GPS_FRESH_S = 300


async def _points(db: asyncpg.Connection) -> set[tuple]:
    rows = await db.fetch("SELECT team_id, fix, pt[1] AS lat, pt[0] AS lon FROM team_points")
    return {(r["team_id"], r["fix"], r["lat"], r["lon"]) for r in rows}


async def _expected_points(db: asyncpg.Connection) -> set[tuple]:
    """Each team's base, and its fix when it has one, as the teams table holds them."""
    rows = await db.fetch(
        """SELECT id, false AS fix, base_lat AS lat, base_lon AS lon FROM teams
           UNION ALL
           SELECT id, true, fix_lat, fix_lon FROM teams WHERE fix_lat IS NOT NULL""")
    return {(r["id"], r["fix"], r["lat"], r["lon"]) for r in rows}


async def _fleet(db: asyncpg.Connection, points: list[tuple[float, float]]) -> None:
    """BLS teams based at `points` (lat, lon), codes in the order given, all on duty."""
    now = datetime.now(UTC)
    await db.execute(
        """INSERT INTO teams (code, name, kind, base_lat, base_lon, base_name, pin_hash)
           SELECT format('P%s', lpad(n::text, 4, '0')), 'tim', 'bls', lat, lon, 'base', 'x'
           FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(lat, lon, n)""",
        [p[0] for p in points], [p[1] for p in points])
    await db.execute(
        "INSERT INTO shifts (team_id, starts_at, ends_at) SELECT id, $1, $2 FROM teams",
        now - timedelta(hours=1), now + timedelta(hours=8))


async def _candidates(db: asyncpg.Connection, near: tuple[float, float],
                      limit: int | None) -> list[asyncpg.Record]:
    return await teams_db.get_candidate_teams(
        db, kinds=list(TEAM_KINDS), gps_fresh_s=GPS_FRESH_S, exclude=[],
        day_start=datetime.now(UTC) - timedelta(hours=12), near=near, limit=limit)


async def test_points_follow_every_writer_of_teams(db: asyncpg.Connection) -> None:
    team_id = await teams_db.insert_team(db, code="A1", name="Ambulans 1", kind="als",
                                         base_lat=-4.01, base_lon=119.62, base_name="RSUD",
                                         pin_hash="x", phone=None)
    await db.copy_records_to_table(
        "teams",
        records=[("B1", "B1", "bls", -4.02, 119.63, "x", -4.03, 119.64, datetime.now(UTC))],
        columns=["code", "name", "kind", "base_lat", "base_lon", "pin_hash", "fix_lat",
                 "fix_lon", "fix_at"])
    assert await _points(db) == await _expected_points(db)
    assert len(await _points(db)) == 3
    await teams_db.store_team_fixes(db, [(team_id, -4.05, 119.61, 8.0, datetime.now(UTC), None)])
    assert (team_id, True, -4.05, 119.61) in await _points(db)
    await db.execute("UPDATE teams SET fix_lat = NULL, fix_lon = NULL, fix_at = NULL "
                     "WHERE code = 'B1'")
    await db.execute("UPDATE teams SET base_lat = -4.00 WHERE code = 'A1'")
    assert await _points(db) == await _expected_points(db)
    assert len(await _points(db)) == 3


async def test_a_refused_fix_moves_no_point(db: asyncpg.Connection) -> None:
    """A phone's late replay (older than the stored fix) is not stored: its point stays."""
    team_id = await teams_db.insert_team(db, code="A1", name="Ambulans 1", kind="als",
                                         base_lat=-4.01, base_lon=119.62, base_name="RSUD",
                                         pin_hash="x", phone=None)
    now = datetime.now(UTC)
    await teams_db.store_team_fixes(db, [(team_id, -4.05, 119.61, 8.0, now, None)])
    [result] = await teams_db.store_team_fixes(
        db, [(team_id, -4.06, 119.60, 8.0, now - timedelta(seconds=30), None)])
    assert not result["stored"]
    assert (team_id, True, -4.05, 119.61) in await _points(db)
    assert await _points(db) == await _expected_points(db)


async def test_nearest_far_from_the_equator_are_those_of_the_whole_fleet(
        db: asyncpg.Connection) -> None:
    """At 60° a degree of longitude is half a degree of latitude: ten teams due east are
    nearer than most of the hundred and fifty due north, though on the index's plane
    they are the farthest. They must be among the nearest all the same."""
    north = [(60.010 + i * 0.00003, 10.0) for i in range(150)]
    east = [(60.0, 10.021 + i * 0.0003) for i in range(10)]
    await _fleet(db, north + east)
    every = await _candidates(db, (60.0, 10.0), None)
    cut = every[99]["planar_m"]
    expected = [r["code"] for r in every if r["planar_m"] <= cut]
    nearest = await _candidates(db, (60.0, 10.0), 100)
    assert [r["code"] for r in nearest] == expected
    assert {f"P{n:04}" for n in range(151, 161)} <= set(expected)
    assert [dict(r) for r in nearest] == [dict(r) for r in every[:len(expected)]]


async def test_a_stale_fix_sends_the_team_from_its_base(db: asyncpg.Connection) -> None:
    """A team is searched at its fix while fresh, at its base after: never at both."""
    await _fleet(db, [(-4.00, 119.62), (-4.05, 119.65)])
    near_base = (-4.0001, 119.6201)
    await db.execute("UPDATE teams SET fix_lat = -4.10, fix_lon = 119.70, fix_at = $1 "
                     "WHERE code = 'P0001'", datetime.now(UTC) - timedelta(seconds=10))
    fresh = await _candidates(db, near_base, 1)
    assert [(r["code"], r["gps"]) for r in fresh] == [("P0002", False)]
    await db.execute("UPDATE teams SET fix_at = $1 WHERE code = 'P0001'",
                     datetime.now(UTC) - timedelta(seconds=GPS_FRESH_S + 60))
    stale = await _candidates(db, near_base, 1)
    assert [(r["code"], r["gps"]) for r in stale] == [("P0001", False)]
    both = await _candidates(db, near_base, 5)
    assert sorted(r["code"] for r in both) == ["P0001", "P0002"]


async def test_a_team_out_is_not_searched_and_is_again_once_free(
        db: asyncpg.Connection) -> None:
    """In a surge most teams are out: the search skips them, and finds a team again
    the moment it is available."""
    await _fleet(db, [(-4.00 + i * 0.0001, 119.62) for i in range(300)])
    await db.execute("UPDATE teams SET status = 'dispatched' WHERE code <> 'P0300'")
    nearest = await _candidates(db, (-4.00, 119.62), 100)
    assert [r["code"] for r in nearest] == ["P0300"]
    await db.execute("UPDATE teams SET status = 'available' WHERE code = 'P0001'")
    nearest = await _candidates(db, (-4.00, 119.62), 100)
    assert [r["code"] for r in nearest] == ["P0001", "P0300"]
