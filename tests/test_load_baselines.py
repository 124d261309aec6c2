"""The bare database loop of load/baselines.py runs the service's statement mix for one
allocation: on the test database it allocates, writes each allocation's four events
and leaves nothing half done (a figure from a loop that fails measures nothing)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg

from load import baselines, report
from load.bots import Sock


async def test_the_bare_database_loop_allocates_and_logs(dsn: str,
                                                         db: asyncpg.Connection) -> None:
    now = datetime.now(UTC)
    for n in range(12):
        team_id = await db.fetchval(
            """INSERT INTO teams (code, name, kind, base_lat, base_lon, base_name, pin_hash)
               VALUES ($1, $1, 'bls', $2, $3, 'base', 'x') RETURNING id""",
            f"B{n:02}", -4.0 - n * 0.003, 119.63 + n * 0.002)
        await db.execute("INSERT INTO shifts (team_id, starts_at, ends_at) VALUES ($1, $2, $3)",
                         team_id, now - timedelta(hours=1), now + timedelta(hours=8))
    for lock in (True, False):
        took, latencies = await baselines.db_round(dsn, connections=2, count=5, seed=1,
                                                   lock=lock)
        assert len(latencies) == 5 and took > 0
    assert await db.fetchval("SELECT count(*) FROM assignments") == 10
    names = Counter(r["name"] for r in await db.fetch("SELECT name FROM events"))
    assert names == {name: 10 for name in baselines.EVENT_NAMES}
    team_event = await db.fetchval(
        "SELECT data FROM events WHERE name = 'team.updated' ORDER BY seq LIMIT 1")
    assert team_event["status"] == "dispatched" and "assignment" not in team_event
    # Rows of a load, shaped as the baseline writes them, not as the catalogue declares
    # (the check of every test's log covers the service's own events).
    status = await db.execute("DELETE FROM events")
    assert status == "DELETE 40", status


async def test_the_loop_also_measures_one_allocation_at_a_time(dsn: str,
                                                               db: asyncpg.Connection) -> None:
    """The latency PostgreSQL alone gives one allocation: every team allocated once in a
    row on one connection, and the teams free again afterwards for the next figure."""
    now = datetime.now(UTC)
    for n in range(6):
        team_id = await db.fetchval(
            """INSERT INTO teams (code, name, kind, base_lat, base_lon, base_name, pin_hash)
               VALUES ($1, $1, 'als', $2, $3, 'base', 'x') RETURNING id""",
            f"S{n:02}", -4.0 - n * 0.003, 119.63)
        await db.execute("INSERT INTO shifts (team_id, starts_at, ends_at) VALUES ($1, $2, $3)",
                         team_id, now - timedelta(hours=1), now + timedelta(hours=8))
    result = await baselines.db_loop(dsn, teams=6, connections=2, rounds=1)
    one = result["one_at_a_time"]
    assert one["allocations"] == 6 and 0 < one["p50_ms"] <= one["p99_ms"]
    assert await db.fetchval("SELECT count(*) FROM teams WHERE status <> 'available'") == 0
    await db.execute("DELETE FROM events")


def test_the_ratios_come_from_the_runs_own_baselines() -> None:
    summary = {"by_rate": {"20.0": {"achieved_per_s": 19.5, "p99_ms": 30.0},
                           "200.0": {"achieved_per_s": 110.0, "p99_ms": 9000.0}},
               "dispatch_parts": {"frame_after_answer": {"p99_ms": 3.0}},
               "baselines": {"db": {"without_lock": {"rate_per_s": 440.0},
                                    "one_at_a_time": {"p99_ms": 12.0}},
                             "ws": {"p99_ms": 2.5}}}
    ratios = report.baseline_ratios(summary)
    assert ratios["rate"] == 0.25
    assert ratios["p99_over_broadcast"]["20.0"] == 12.0
    assert ratios["p99_over_database_and_broadcast"]["20.0"] == 2.07
    assert ratios["frame_after_answer_p99_over_broadcast"] == 1.2
    assert ratios["database_alone_p99_over_broadcast"] == 4.8


def test_an_event_the_hub_skipped_shows_as_missed_by_every_dashboard() -> None:
    """The generator's count of lost events: a seq of the log that no dashboard
    received is named (the hub skipped it); one that a single dashboard missed is
    counted but not named; a seq rolled back (absent from the log) is not lost."""
    log = [(seq, "incident.created" if seq % 2 else "team.updated", seq) for seq in
           (10, 11, 12, 13, 15, 16)]  # 14 rolled back
    first, second = Sock("dashboard", 1, None), Sock("dashboard", 1, None)
    first.seqs, second.seqs = {10, 11, 13, 15, 16}, {10, 11, 13, 16}
    skipped = [(12, "team.updated", 12)]
    missed = report.missed_events([first, second, Sock("dashboard", 1, None)], log)
    assert missed == {"dashboard_events": 3, "missed_by_every_dashboard": skipped}
    assert report.missed_events([first], log[:4]) == {
        "dashboard_events": 1, "missed_by_every_dashboard": skipped}
