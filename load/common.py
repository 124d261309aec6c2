"""Shared parts of the benchmarks: a fresh database, seeded teams, figures, the machine.

Nothing here measures anything; the benchmarks time only their own loops.
"""

from __future__ import annotations

import asyncio
import math
import os
import platform
import random
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from db.migrate import migrate
from db.pool import connect
from dispatch import cities

# Parepare's bounding box (the city's fact sheet; the shipped city pack's kecamatan lie
# within it): lon 119.6168..119.7275, lat -4.0799..-3.9594.
LAT_MIN, LAT_MAX = -4.0799, -3.9594
LON_MIN, LON_MAX = 119.6168, 119.7275
# Team kinds and their share of the fleet.
KIND_SHARES = (("als", 0.2), ("bls", 0.5), ("motorbike", 0.3))
# What an incident asks for (None: any ambulance), and how often.
REQUIRED_KIND_SHARES = ((None, 0.7), ("als", 0.1), ("motorbike", 0.2))
TEAM_PIN = "4321"
# The kecamatan of the city pack shipped in the package (dispatch/cities/parepare).
DISTRICTS_FILE = Path(cities.__file__).resolve().parent / cities.DEFAULT_PACK / "kecamatan.geojson"


@dataclass(frozen=True)
class Database:
    """A fresh, migrated database made for one benchmark run."""

    dsn: str
    server_version: str
    origin: str  # "DATABASE_URL" or "embedded PostgreSQL in a temp dir"


def with_database(dsn: str, name: str) -> str:
    """The same server DSN pointing at database `name`."""
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


async def _start_embedded(fast: bool, settings: dict[str, str] | None) -> tuple[str, object, str]:
    from db.embedded import EmbeddedPostgres
    tmp = tempfile.mkdtemp(prefix="d112-bench-")
    server = EmbeddedPostgres(Path(tmp), fast=fast, settings=settings)
    return await asyncio.to_thread(server.start), server, tmp


@asynccontextmanager
async def fresh_database(*, fast: bool = False, settings: dict[str, str] | None = None,
                         keep_log: Path | None = None) -> AsyncIterator[Database]:
    """A new database on DATABASE_URL's server, else on an embedded server in a temp dir
    (`fast`: fsync off; `settings`: more postgresql.conf parameters for it, which a
    DATABASE_URL server does not get). Dropped afterwards; the embedded server is stopped
    and removed (its log copied to `keep_log` first, when given)."""
    server_dsn, server, tmp = os.environ.get("DATABASE_URL"), None, None
    origin = "DATABASE_URL"
    if not server_dsn:
        server_dsn, server, tmp = await _start_embedded(fast, settings)
        origin = "embedded PostgreSQL in a temp dir" + (" (fsync off)" if fast else "")
    name = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(server_dsn)
        try:
            await admin.execute(f"CREATE DATABASE {name}")
            try:
                dsn = with_database(server_dsn, name)
                conn = await connect(dsn)
                try:
                    await migrate(conn)
                    version = await conn.fetchval("SHOW server_version")
                finally:
                    await conn.close()
                yield Database(dsn, version, origin)
            finally:
                await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
            if keep_log is not None and server.log_file.exists():
                shutil.copyfile(server.log_file, keep_log)
            shutil.rmtree(tmp, ignore_errors=True)


def pick(rng: random.Random, shares: tuple) -> object:
    """One value of (value, share) pairs, drawn by share."""
    values, weights = zip(*shares, strict=True)
    return rng.choices(values, weights)[0]


def random_point(rng: random.Random) -> tuple[float, float]:
    """A uniformly random (lat, lon) in Parepare's bounding box."""
    return rng.uniform(LAT_MIN, LAT_MAX), rng.uniform(LON_MIN, LON_MAX)


def _team_record(rng: random.Random, index: int, pin_hash: str, gps_share: float,
                 now: datetime) -> tuple:
    lat, lon = random_point(rng)
    fix = (None, None, None, None)
    if rng.random() < gps_share:  # a fresh fix within 2 km of the base, up to 5 min old
        fix = (min(max(lat + rng.uniform(-0.018, 0.018), LAT_MIN), LAT_MAX),
               min(max(lon + rng.uniform(-0.018, 0.018), LON_MIN), LON_MAX),
               rng.uniform(5, 30), now - timedelta(seconds=rng.uniform(0, 300)))
    code = f"B{index:04d}"
    return (code, f"Tim {code}", pick(rng, KIND_SHARES), lat, lon, f"Pos {code}", pin_hash,
            None, *fix)


async def seed_teams(conn: asyncpg.Connection, count: int, *, seed: int, pin_hash: str,
                     gps_share: float) -> dict[str, int]:
    """`count` available teams with bases spread over the city (some with fresh GPS fixes),
    each on a shift covering now; COPY, then one INSERT ... SELECT. Returns teams per kind."""
    rng, now = random.Random(seed), datetime.now(UTC)
    records = [_team_record(rng, i, pin_hash, gps_share, now) for i in range(1, count + 1)]
    await conn.copy_records_to_table(
        "teams", records=records,
        columns=["code", "name", "kind", "base_lat", "base_lon", "base_name", "pin_hash",
                 "phone", "fix_lat", "fix_lon", "fix_accuracy_m", "fix_at"])
    await conn.execute(
        """INSERT INTO shifts (team_id, starts_at, ends_at)
           SELECT id, now() - interval '1 hour', now() + interval '11 hours' FROM teams""")
    rows = await conn.fetch("SELECT kind, count(*) AS n FROM teams GROUP BY kind ORDER BY kind")
    return {r["kind"]: r["n"] for r in rows}


async def seed_history(conn: asyncpg.Connection, count: int, *, seed: int) -> None:
    """`count` closed incidents of the last 6 hours, each with a completed assignment, so
    the per-team "assignments today" count has rows to look at."""
    if count <= 0:
        return
    await conn.execute("SELECT setseed($1)", (seed % 1000) / 1000)
    await conn.execute(
        """WITH t AS (SELECT array_agg(id ORDER BY id) AS ids FROM teams),
           i AS (INSERT INTO incidents (caller_number, lat, lon, address, complaint, priority,
                     status, received_at, created_at, closed_at, created_by)
                 SELECT '+6281234567890', $2::float8 + random() * ($3::float8 - $2::float8),
                        $4::float8 + random() * ($5::float8 - $4::float8),
                        'Jl. Riwayat', 'riwayat', 1 + (g % 3), 'closed', at, at,
                        at + interval '50 minutes', 'user:bench'
                 FROM generate_series(1, $1) g,
                      LATERAL (SELECT now() - random() * interval '6 hours' + g * '0'::interval
                               AS at) x
                 RETURNING id, created_at)
           INSERT INTO assignments (incident_id, team_id, eta_s, distance_m, position_source,
                                    created_at, acknowledged_at, ended_at, end_reason)
           SELECT i.id, t.ids[1 + (i.id % cardinality(t.ids))], 420, 4600, 'base',
                  i.created_at, i.created_at + interval '1 minute',
                  i.created_at + interval '50 minutes', 'completed'
           FROM i, t""", count, LAT_MIN, LAT_MAX, LON_MIN, LON_MAX)


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary_ms(seconds: list[float]) -> str:
    """median / p90 / p99 / max of durations given in seconds, printed in ms."""
    if not seconds:
        return "no samples"
    ordered = sorted(seconds)
    parts = [f"{name} {percentile(ordered, p) * 1000:7.2f}"
             for name, p in (("median", 50), ("p90", 90), ("p99", 99))]
    return "  ".join([*parts, f"max {ordered[-1] * 1000:7.2f}  ms  (n={len(ordered)})"])


def cpu_count() -> int:
    """CPUs this process may run on (what nproc prints)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine() -> str:
    """nproc, CPU model, Python: what the figures were measured on."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"nproc {cpu_count()}, {model}, Python {platform.python_version()}, "
            f"1-min load average {load:.2f} at start")
