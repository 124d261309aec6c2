"""The call log at scale: the duplicate-suggestion query and the block-list lookup with
1 million call records.

    .venv/bin/python -m load.bench_calls [--calls 1000000] [--runs 2000] [--seed 112]

A fresh database (DATABASE_URL's server, else an embedded PostgreSQL in a temp dir,
fsync off; dropped afterwards) gets, by INSERT ... SELECT generate_series: `--calls`
calls over the last year from 200,000 numbers with Jakarta-like dispositions (23 %
pranks), an incident for each call that became one (closed), 60 active incidents in
the city received within the last hour, and 20,000 block-list entries (live, expired
and lifted). Then, `--runs` times each, on a direct connection: the duplicate query
(db.incidents.get_possible_duplicates, a random point in Parepare and a random
number), the block-list lookup (db.blocklist.get_live_block) and a caller's history
(db.calls.get_calls_by_number); and through HTTP on 127.0.0.1 (a `dispatch112 serve`
process): GET /api/v1/blocklist/{number} with a gateway token and GET
/api/v1/incidents/duplicates with an operator's. Finally EXPLAIN ANALYZE of each query.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from db import blocklist as blocklist_db
from db import calls as calls_db
from db import incidents as incidents_db
from db import users as users_db
from db.pool import connect
from dispatch.auth.service import hash_secret
from load.common import (
    LAT_MAX,
    LAT_MIN,
    LON_MAX,
    LON_MIN,
    fresh_database,
    machine,
    random_point,
    summary_ms,
)
from load.service import service_process

NUMBERS = 200_000
ACTIVE = 60
BLOCKS = 20_000
MAX_CALLS = 10_000_000
MAX_RUNS = 100_000
PASSWORD = "bench-password-1"


def number(index: int) -> str:
    return f"+62812{index % NUMBERS:08d}"


async def seed(conn: asyncpg.Connection, calls: int) -> dict:
    """The rows; returns how long each step took and the table sizes."""
    times = {}
    began = time.perf_counter()
    incidents = calls * 22 // 100
    await conn.execute(
        """INSERT INTO incidents (caller_number, lat, lon, address, complaint, priority,
               status, received_at, closed_at, created_by)
           SELECT '+62812' || lpad(((g * 7919) % $2)::text, 8, '0'),
                  $3::float8 + (g % 1000) / 1000.0 * ($4::float8 - $3::float8),
                  $5::float8 + (g % 997) / 997.0 * ($6::float8 - $5::float8),
                  'Jl. Bench ' || g, 'sesak napas', 1 + g % 3, 'closed',
                  now() - (g % 31536000) * interval '1 second',
                  now() - (g % 31536000) * interval '1 second' + interval '50 minutes',
                  'bench'
           FROM generate_series(1, $1::bigint) g""", incidents, NUMBERS, LAT_MIN, LAT_MAX,
        LON_MIN, LON_MAX)
    first = await conn.fetchval("SELECT min(id) FROM incidents")
    times["incidents_s"] = time.perf_counter() - began
    began = time.perf_counter()
    # Dispositions by share: 23 % prank, 20 % info, 10 % wrong number, 10 % silent,
    # 5 % dropped, 5 % duplicate, 2 % test, 3 % other, 22 % incident.
    await conn.execute(
        """INSERT INTO calls (caller_number, status, disposition, incident_id, received_at,
               ended_at, created_by)
           SELECT '+62812' || lpad(((g * 7919) % $2)::text, 8, '0'), 'ended', d.disposition,
                  CASE WHEN d.disposition IN ('incident', 'duplicate')
                       THEN $3::bigint + g % $4::bigint END,
                  now() - (g % 31536000) * interval '1 second',
                  now() - (g % 31536000) * interval '1 second' + interval '90 seconds', 'bench'
           FROM generate_series(1, $1::bigint) g
           CROSS JOIN LATERAL (SELECT CASE
               WHEN (g * 31) % 100 < 23 THEN 'prank' WHEN (g * 31) % 100 < 43 THEN 'info'
               WHEN (g * 31) % 100 < 53 THEN 'wrong_number'
               WHEN (g * 31) % 100 < 63 THEN 'silent' WHEN (g * 31) % 100 < 68 THEN 'dropped'
               WHEN (g * 31) % 100 < 73 THEN 'duplicate' WHEN (g * 31) % 100 < 75 THEN 'test'
               WHEN (g * 31) % 100 < 78 THEN 'other' ELSE 'incident' END AS disposition) d""",
        calls, NUMBERS, first, incidents)
    times["calls_s"] = time.perf_counter() - began
    began = time.perf_counter()
    await conn.execute(
        """INSERT INTO incidents (caller_number, lat, lon, address, complaint, priority,
               status, received_at, created_by)
           SELECT '+62812' || lpad(((g * 104729) % $2)::text, 8, '0'),
                  $3::float8 + random() * ($4::float8 - $3::float8),
                  $5::float8 + random() * ($6::float8 - $5::float8), 'Jl. Aktif ' || g,
                  'nyeri dada', 1 + g % 3, 'queued', now() - random() * interval '1 hour',
                  'bench'
           FROM generate_series(1, $1::bigint) g""", ACTIVE, NUMBERS, LAT_MIN, LAT_MAX,
        LON_MIN, LON_MAX)
    await conn.execute(
        """INSERT INTO blocklist (number, reason, created_by, created_at, expires_at,
               lifted_at, lifted_by)
           SELECT '+62812' || lpad(((g * 15485863) % $2)::text, 8, '0'), 'iseng',
                  'user:admin', now() - (g % 400) * interval '1 day',
                  now() - (g % 400) * interval '1 day' + interval '24 hours'
                      + CASE WHEN g % 10 = 0 THEN interval '500 days' ELSE interval '0' END,
                  CASE WHEN g % 50 = 0 THEN now() END, CASE WHEN g % 50 = 0 THEN 'user:admin' END
           FROM generate_series(1, $1::bigint) g""", BLOCKS, NUMBERS)
    times["active_and_blocks_s"] = time.perf_counter() - began
    began = time.perf_counter()
    await conn.execute("VACUUM ANALYZE calls")
    await conn.execute("VACUUM ANALYZE incidents")
    await conn.execute("VACUUM ANALYZE blocklist")
    times["vacuum_s"] = time.perf_counter() - began
    sizes = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM calls) AS calls,
                  (SELECT count(*) FROM incidents) AS incidents,
                  (SELECT count(*) FROM blocklist
                   WHERE lifted_at IS NULL AND expires_at > now()) AS live_blocks,
                  pg_size_pretty(pg_total_relation_size('calls')) AS calls_size""")
    return {**times, **dict(sizes)}


async def time_direct(conn: asyncpg.Connection, runs: int, rng: random.Random) -> dict:
    """Each query `runs` times with random arguments; durations in seconds."""
    since_dup = datetime.now(UTC) - timedelta(minutes=30)
    since_history = datetime.now(UTC) - timedelta(days=90)
    found = {"duplicates": [], "lookup": [], "history": []}
    hits = {"duplicates": 0, "lookup": 0, "history": 0}
    for _ in range(runs):
        lat, lon = random_point(rng)
        caller = number(rng.randrange(NUMBERS))
        began = time.perf_counter()
        rows = await incidents_db.get_possible_duplicates(
            conn, lat, lon, caller, radius_m=300.0, since=since_dup, limit=20)
        found["duplicates"].append(time.perf_counter() - began)
        hits["duplicates"] += bool(rows)
        began = time.perf_counter()
        block = await blocklist_db.get_live_block(conn, caller)
        found["lookup"].append(time.perf_counter() - began)
        hits["lookup"] += block is not None
        began = time.perf_counter()
        history = await calls_db.get_calls_by_number(conn, caller, since_history, 200)
        found["history"].append(time.perf_counter() - began)
        hits["history"] += bool(history)
    return {"times": found, "hits": hits}


async def time_http(base_url: str, tokens: dict[str, str], runs: int,
                    rng: random.Random) -> dict[str, list[float]]:
    found = {"lookup": [], "duplicates": []}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        for _ in range(runs):
            caller = number(rng.randrange(NUMBERS))
            began = time.perf_counter()
            answer = await http.get(f"/api/v1/blocklist/{caller}", headers={
                "Authorization": f"Bearer {tokens['gateway']}"})
            found["lookup"].append(time.perf_counter() - began)
            answer.raise_for_status()
            lat, lon = random_point(rng)
            began = time.perf_counter()
            answer = await http.get(
                "/api/v1/incidents/duplicates",
                params={"lat": lat, "lon": lon, "number": caller},
                headers={"Authorization": f"Bearer {tokens['operator']}"})
            found["duplicates"].append(time.perf_counter() - began)
            answer.raise_for_status()
    return found


async def login(conn: asyncpg.Connection, base_url: str) -> dict[str, str]:
    tokens = {}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        for role in ("gateway", "operator"):
            await users_db.upsert_user(conn, f"bench-{role}", await hash_secret(PASSWORD), role)
            answer = await http.post("/api/v1/auth/token", json={
                "username": f"bench-{role}", "password": PASSWORD})
            answer.raise_for_status()
            tokens[role] = answer.json()["access_token"]
    return tokens


class StatementSpy:
    """Stands in for a connection to record the statement a query function sends."""

    def __init__(self) -> None:
        self.captured: dict = {}

    async def fetch(self, sql: str, *values: object) -> list:
        self.captured.update(sql=sql, values=values)
        return []

    fetchrow = fetch


async def explain(conn: asyncpg.Connection) -> None:
    since = datetime.now(UTC)
    plans = {
        "duplicates": (incidents_db.get_possible_duplicates, (-4.01, 119.63, number(7)),
                       {"radius_m": 300.0, "since": since - timedelta(minutes=30),
                        "limit": 20}),
        "lookup": (blocklist_db.get_live_block, (number(7),), {}),
    }
    for name, (function, args, kwargs) in plans.items():
        spy = StatementSpy()
        await function(spy, *args, **kwargs)
        captured = spy.captured
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + captured["sql"],
                                *captured["values"])
        print(f"\n--- EXPLAIN ANALYZE: {name}")
        print("\n".join(row[0] for row in rows))


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    print(f"machine: {machine()}")
    async with fresh_database(fast=True) as database:
        print(f"PostgreSQL {database.server_version} ({database.origin})")
        conn = await connect(database.dsn)
        try:
            seeded = await seed(conn, args.calls)
            print("seeded: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else
                                         f"{k} {v}" for k, v in seeded.items()))
            direct = await time_direct(conn, args.runs, rng)
            print(f"\ndirect, {args.runs} runs each (hits: {direct['hits']}):")
            for name, durations in direct["times"].items():
                print(f"  {name:<11} {summary_ms(durations)}")
            log_path = Path(tempfile.gettempdir()) / "bench_calls_service.log"
            async with service_process(database.dsn, log_path, "warning") as (base_url, _):
                tokens = await login(conn, base_url)
                http = await time_http(base_url, tokens, args.runs, rng)
            print(f"\nHTTP on 127.0.0.1 (auth included), {args.runs} runs each:")
            for name, durations in http.items():
                print(f"  {name:<11} {summary_ms(durations)}")
            await explain(conn)
        finally:
            await conn.close()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=112)
    args = parser.parse_args(argv)
    if not 1000 <= args.calls <= MAX_CALLS or not 1 <= args.runs <= MAX_RUNS:
        parser.error(f"--calls 1000..{MAX_CALLS}, --runs 1..{MAX_RUNS}")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args(sys.argv[1:])))
