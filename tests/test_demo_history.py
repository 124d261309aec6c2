"""`dispatch112 demo --history DAYS`: a plausible past, consistent row by row, that the
response-time reports can show, written once."""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from db.incidents import TIMELINE
from db.reports import INTERVALS
from dispatch import cli
from dispatch.demo import do_load_demo
from dispatch.geo.districts import DistrictIndex
from dispatch.history import do_load_history
from dispatch.history.generate import generate
from dispatch.history.service import read_setting
from dispatch.vocabulary import CALL_DISPOSITIONS
from tests.support import Api

TZ = "Asia/Makassar"
ZONE = ZoneInfo(TZ)
DAYS = 30
# A fixed end makes the history the same on every run (and lies before the real now).
NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
# Step times in the order they follow each other, the team's own assignment included.
ORDER = ("received_at", "created_at", "assigned_at", "last_assigned_at", *TIMELINE[2:])


async def _load(db: asyncpg.Connection):
    async with db.transaction():
        await do_load_demo(db, TZ, force=True)
        return await do_load_history(db, days=DAYS, seed=112, timezone=TZ, ack_timeout_s=60,
                                     now=NOW)


def _spearman(xs: list[float], ys: list[float]) -> float:
    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=values.__getitem__)
        result = [0.0] * len(values)
        for rank, index in enumerate(order):
            result[index] = float(rank)
        return result
    rx, ry = ranks(xs), ranks(ys)
    mean = (len(xs) - 1) / 2
    cov = sum((a - mean) * (b - mean) for a, b in zip(rx, ry, strict=True))
    var = sum((a - mean) ** 2 for a in rx)
    return cov / var


async def _check_steps(db: asyncpg.Connection) -> list[asyncpg.Record]:
    incidents = await db.fetch("SELECT * FROM incidents ORDER BY id")
    for row in incidents:
        times = [row[name] for name in ORDER if row[name] is not None]
        assert times == sorted(times), f"incident {row['id']}: steps out of order"
        if row["status"] == "cancelled":
            assert row["cancelled_at"] >= times[-1] and row["closed_at"] is None
        else:
            assert row["status"] == "closed" and row["cancelled_at"] is None
            assert row["on_scene_at"] is not None
    for name in INTERVALS:
        negative = await db.fetchval(f"SELECT count(*) FROM incidents i WHERE {name} < 0")
        assert negative == 0, f"{name} negative"
    return incidents


async def _check_assignments(db: asyncpg.Connection) -> Counter:
    overlaps = await db.fetchval(
        """SELECT count(*) FROM (
               SELECT created_at, lag(ended_at) OVER (PARTITION BY team_id
                                                     ORDER BY created_at) AS previous_end
               FROM assignments) a WHERE previous_end > created_at""")
    assert overlaps == 0, "a team was booked twice"
    assert await db.fetchval("SELECT count(*) FROM assignments WHERE ended_at IS NULL") == 0
    mismatched = await db.fetch(
        """SELECT i.id FROM incidents i
           JOIN LATERAL (SELECT count(*) AS n, min(created_at) AS first,
                                (array_agg(a.team_id ORDER BY a.created_at DESC))[1] AS team,
                                (array_agg(a ORDER BY a.created_at DESC))[1] AS last
                         FROM assignments a WHERE a.incident_id = i.id) a ON true
           WHERE a.n <> i.assignment_count
              OR a.n > 0 AND (a.first <> i.assigned_at OR a.team <> i.last_team_id
                   OR (a.last).created_at <> i.last_assigned_at
                   OR (a.last).acknowledged_at IS DISTINCT FROM i.acknowledged_at
                   -- cancelled while waiting for the next team after a timeout
                   OR (a.last).end_reason = 'ack_timeout'
                      AND NOT (i.status = 'cancelled' AND (a.last).ended_at <= i.cancelled_at)
                   OR (a.last).end_reason <> 'ack_timeout'
                      AND ((a.last).ended_at <> coalesce(i.closed_at, i.cancelled_at)
                           OR (a.last).end_reason <> CASE i.status WHEN 'closed'
                                                     THEN 'completed' ELSE 'cancelled' END))""")
    assert mismatched == [], "assignments disagree with their incidents"
    timed_out = await db.fetchval(
        """SELECT count(*) FROM assignments WHERE end_reason = 'ack_timeout'
               AND (acknowledged_at IS NOT NULL OR position_source <> 'base')""")
    assert timed_out == 0
    return Counter(r["end_reason"] for r in await db.fetch("SELECT end_reason FROM assignments"))


async def test_history_is_a_plausible_past(db: asyncpg.Connection) -> None:
    loaded = await _load(db)
    assert loaded.incidents > 0 and not loaded.existing
    assert await db.fetchval("SELECT count(*) FROM events") == 0, "the past wrote events"
    incidents = await _check_steps(db)
    days = {row["received_at"].astimezone(ZONE).date() for row in incidents}
    assert len({(NOW - timedelta(days=n)).astimezone(ZONE).date() for n in range(DAYS)}
               & days) >= 0.8 * DAYS
    assert all(NOW - timedelta(days=DAYS) <= r["received_at"] < NOW for r in incidents)
    assert 3 <= len(incidents) / DAYS <= 12
    priorities = Counter(row["priority"] for row in incidents)
    assert priorities[2] > priorities[1] and priorities[2] > priorities[3]
    reasons = await _check_assignments(db)
    assert reasons["completed"] > 0.8 * len(incidents)
    assert reasons["cancelled"] > 0 and reasons["ack_timeout"] > 0
    assert 0.5 < sum(r["transporting_at"] is not None for r in incidents) / len(incidents) < 0.8

    # Where: in their kecamatan and kelurahan as the live service locates, more where
    # more people live.
    index = DistrictIndex()
    for row in incidents:
        place = await index.locate_both(db, row["lat"], row["lon"])
        assert (place.kecamatan_id, place.kelurahan_id) == (row["district_id"],
                                                            row["kelurahan_id"])
    by_kecamatan = dict(await db.fetch(
        """SELECT d.name, count(i.id) FROM districts d LEFT JOIN incidents i
               ON i.district_id = d.id WHERE d.level = 'kecamatan' GROUP BY d.name"""))
    assert by_kecamatan["Soreang"] > by_kecamatan["Bacukiki"]
    kelurahan = await db.fetch(
        """SELECT d.population, count(i.id) AS n FROM districts d LEFT JOIN incidents i
               ON i.kelurahan_id = d.id WHERE d.level = 'kelurahan' GROUP BY d.id""")
    assert _spearman([r["population"] for r in kelurahan], [r["n"] for r in kelurahan]) > 0.2

    # Calls: every incident logged from its call; the everyday calls beside them.
    calls = await db.fetch("SELECT * FROM calls")
    by_id = {call["id"]: call for call in calls}
    for row in incidents:
        call = by_id[row["call_id"]]
        assert (call["received_at"], call["incident_id"]) == (row["received_at"], row["id"])
    dispositions = Counter(call["disposition"] for call in calls)
    assert set(dispositions) <= set(CALL_DISPOSITIONS)
    assert set(dispositions) == set(CALL_DISPOSITIONS), dispositions
    # About a quarter of the calls pranks, about a quarter incidents (Indonesian 112
    # lines take more noise than emergencies); duplicates join real incidents.
    assert 0.15 < dispositions["prank"] / len(calls) < 0.32
    assert 0.15 < dispositions["incident"] / len(calls) < 0.4
    assert all(by_id[c["id"]]["incident_id"] is not None for c in calls
               if c["disposition"] in ("incident", "duplicate"))
    assert any(c["caller_number"] is None for c in calls if c["disposition"] == "silent")
    assert all(call["status"] == "ended" and call["ended_at"] >= call["received_at"]
               for call in calls)

    # Line failovers: the primary down then up again; the calls it dropped called back.
    changes = await db.fetch("SELECT * FROM line_events ORDER BY at")
    assert changes and [c["state"] for c in changes] == ["down", "up"] * (len(changes) // 2)
    callbacks = await db.fetch("SELECT * FROM callbacks")
    assert callbacks and all(cb["done_at"] > cb["dropped_at"] for cb in callbacks)
    assert all(by_id[cb["call_id"]]["disposition"] == "dropped" for cb in callbacks)


async def test_same_seed_same_history(db: asyncpg.Connection) -> None:
    async with db.transaction():
        await do_load_demo(db, TZ, force=True)
    setting = await read_setting(db, start=NOW - timedelta(days=7), end=NOW, timezone=TZ,
                                 ack_timeout_s=60)
    first, again, other = generate(7, setting), generate(7, setting), generate(8, setting)
    assert [i.on_scene for i in first.incidents] == [i.on_scene for i in again.incidents]
    assert [i.received for i in first.incidents] != [i.received for i in other.incidents]


def _counts_sql() -> str:
    tables = ("incidents", "calls", "assignments", "callbacks", "line_events", "shifts")
    return "SELECT " + ", ".join(f"(SELECT count(*) FROM {t}) AS {t}" for t in tables)


async def test_reports_over_the_history_and_a_second_run(
        api: Api, db: asyncpg.Connection, dsn: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("DATABASE_URL", dsn)
    argv = ["demo", "--force", "--history", str(DAYS), "--seed", "3"]
    assert await asyncio.to_thread(cli.main, argv) == 0
    assert "history loaded" in capsys.readouterr().out
    counts = await db.fetchrow(_counts_sql())
    assert await asyncio.to_thread(cli.main, argv) == 0
    assert "history already loaded" in capsys.readouterr().out
    again = await db.fetchrow(_counts_sql())
    assert dict(again, line_events=0) == dict(counts, line_events=0)
    # The running service's line monitor may note the demo's lines coming up meanwhile.
    assert again["line_events"] - counts["line_events"] <= 2

    now = datetime.now(ZONE)  # dates in the query are local days
    period = {"from": (now - timedelta(days=DAYS + 1)).date().isoformat(),
              "to": now.date().isoformat()}
    for group_by in ("district", "kelurahan", "team", "priority"):
        answer = await api.get("/api/v1/reports/response-times", "health_office",
                               params={**period, "group_by": group_by})
        assert answer.status_code == 200, answer.text
        total = answer.json()["total"]
        assert total["count"] == counts["incidents"]
        response = total["intervals"]["response_s"]
        assert response["p90"] > response["p50"] > 0
        assert 0.5 < response["share_within_target"] < 1
        assert all(interval["p90"] is not None for interval in total["intervals"].values())
    fractiles = await api.get("/api/v1/reports/response-times/fractiles", "health_office",
                              params=period)
    assert fractiles.status_code == 200
    assert 0 < fractiles.json()["items"][14]["share"] < 1
    log = await api.get("/api/v1/reports/response-times.csv", "health_office", params=period)
    assert log.status_code == 200
    assert len(list(csv.reader(io.StringIO(log.text)))) == counts["incidents"] + 1
