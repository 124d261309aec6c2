"""A past of incidents with known step times, written straight into the database, for
the report tests: every kind the definitions treat apart (transported, treated on
scene, cancelled before and after arrival, still open, never assigned, reassigned)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

ZONE = ZoneInfo("Asia/Makassar")
CALLER = "+6281299990000"
# Local days the data covers (June to August), and one incident on each side of them.
FIRST_DAY, LAST_DAY = datetime(2026, 6, 1, tzinfo=ZONE), datetime(2026, 8, 31, tzinfo=ZONE)
KINDS = ("transported", "on_scene_only", "cancelled_early", "cancelled_on_scene", "open",
         "queued", "reassigned")


@dataclass
class Made:
    """What was written: one dict of times (and keys) per incident, by id."""

    incidents: dict[int, dict] = field(default_factory=dict)
    teams: dict[int, str] = field(default_factory=dict)
    districts: dict[int, str] = field(default_factory=dict)
    kelurahan: dict[int, str] = field(default_factory=dict)


def _steps(rng: random.Random, kind: str, received: datetime) -> dict:
    """Step times of one incident of `kind` (seconds drawn so that some are late)."""
    after = lambda at, low, high: at + timedelta(seconds=rng.uniform(low, high))  # noqa: E731
    t: dict = {"received_at": received}
    if kind == "queued":
        return t
    t["assigned_at"] = after(received, 5, 240)
    t["last_assigned_at"] = t["assigned_at"]
    if kind == "reassigned":
        t["last_assigned_at"] = after(t["assigned_at"], 60, 120)
    if kind == "cancelled_early":
        t["cancelled_at"] = after(t["last_assigned_at"], 10, 300)
        return t
    t["acknowledged_at"] = after(t["last_assigned_at"], 3, 90)
    t["en_route_at"] = after(t["acknowledged_at"], 10, 180)
    if kind == "open":
        return t
    t["on_scene_at"] = after(t["en_route_at"], 120, 1500)
    if kind == "cancelled_on_scene":
        t["cancelled_at"] = after(t["on_scene_at"], 30, 600)
        return t
    if kind == "on_scene_only":
        t["closed_at"] = after(t["on_scene_at"], 300, 1800)
        return t
    t["transporting_at"] = after(t["on_scene_at"], 300, 1800)
    t["at_hospital_at"] = after(t["transporting_at"], 300, 1200)
    t["closed_at"] = after(t["at_hospital_at"], 300, 1500)
    return t


STATUS = {"transported": "closed", "on_scene_only": "closed", "cancelled_early": "cancelled",
          "cancelled_on_scene": "cancelled", "open": "en_route", "queued": "queued",
          "reassigned": "closed"}


async def _districts(db: asyncpg.Connection, level: str, names: list[str]) -> dict[int, str]:
    made = {}
    for index, name in enumerate(names):
        made[await db.fetchval(
            """INSERT INTO districts (name, level, centroid_lat, centroid_lon)
               VALUES ($1, $2, $3, 119.64) RETURNING id""",
            name, level, -4.0 - index * 0.01)] = name
    return made


async def make_history(db: asyncpg.Connection, team_ids: dict[int, str], count: int = 600,
                       seed: int = 9) -> Made:
    """`count` incidents in the covered days plus two outside them, with known times."""
    rng = random.Random(seed)
    made = Made(teams=team_ids)
    made.districts = await _districts(db, "kecamatan", ["Soreang", "Ujung", "=Bacukiki"])
    made.kelurahan = await _districts(db, "kelurahan", ["Lakessi", "Cempae", "Lumpue", "Watang"])
    span = (LAST_DAY + timedelta(days=1) - FIRST_DAY).total_seconds()
    moments = [FIRST_DAY + timedelta(seconds=rng.uniform(0, span)) for _ in range(count)]
    moments += [FIRST_DAY - timedelta(hours=1), LAST_DAY + timedelta(days=1, hours=1)]
    for received in moments:
        kind = rng.choice(KINDS)
        times = _steps(rng, kind, received.astimezone(UTC))
        row = {"kind": kind, "status": STATUS[kind], "priority": rng.choice((1, 2, 3)),
               "district_id": rng.choice([*made.districts, None]),
               "kelurahan_id": rng.choice([*made.kelurahan, None]),
               "team_id": None if kind == "queued" else rng.choice(list(team_ids)),
               "assignments": {"queued": 0, "reassigned": 2}.get(kind, 1), **times}
        made.incidents[await _insert(db, row)] = row
    return made


async def _insert(db: asyncpg.Connection, row: dict) -> int:
    get = row.get
    return await db.fetchval(
        """INSERT INTO incidents (caller_number, lat, lon, district_id, kelurahan_id, address,
               complaint, priority, status, received_at, created_at, assigned_at,
               acknowledged_at, en_route_at, on_scene_at, transporting_at, at_hospital_at,
               closed_at, cancelled_at, last_team_id, last_assigned_at, assignment_count,
               created_by)
           VALUES ($1, -4.0, 119.64, $2, $3, 'Jl. Uji', 'sesak napas', $4, $5, $6, $6, $7, $8,
                   $9, $10, $11, $12, $13, $14, $15, $16, $17, 'test') RETURNING id""",
        CALLER, get("district_id"), get("kelurahan_id"), get("priority"), get("status"),
        get("received_at"), get("assigned_at"), get("acknowledged_at"), get("en_route_at"),
        get("on_scene_at"), get("transporting_at"), get("at_hospital_at"), get("closed_at"),
        get("cancelled_at"), get("team_id"), get("last_assigned_at"), get("assignments"))
