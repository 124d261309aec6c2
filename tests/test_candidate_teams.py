"""The search for the nearest free teams (`db.teams.get_candidate_teams` with a limit)
gives exactly the first of the whole fleet ranked, also where longitude shrinks (far
from the equator a plane of degrees and the ranking's disagree most), sends a team
from its fix only while the fix is fresh, and skips teams that are out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from db import teams as teams_db
from dispatch.vocabulary import TEAM_KINDS

GPS_FRESH_S = 300


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


async def test_nearest_far_from_the_equator_are_those_of_the_whole_fleet(
        db: asyncpg.Connection) -> None:
    """At 60° a degree of longitude is half a degree of latitude: ten teams due east are
    nearer than most of the hundred and fifty due north, though on a plane of degrees
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
