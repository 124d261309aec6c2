"""Response-time reports over a long past: 100,000 incidents made by the demo's history
generator, then each report asked for over the whole period through HTTP.

    .venv/bin/python -m load.bench_reports [--incidents 100000] [--runs 5]
        [--daily-rate 90] [--seed 112] [--fast] [--log-level warning]

The Parepare demo is loaded into a fresh database (DATABASE_URL's server, else an
embedded PostgreSQL in a temp dir; dropped afterwards), then `--incidents` worth of
days of history at `--daily-rate` incidents a day (dispatch/history: calls,
assignments, failovers and all). A `dispatch112 serve` process answers; the client logs
in as the demo's health-office user and times, `--runs` times each, the grouped report
for every grouping, the fractile table and the CSV log, all on 127.0.0.1. Finally
EXPLAIN ANALYZE of the grouped statement, for each grouping, on a direct connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from db import history as history_db
from db import reports as reports_db
from db.pool import connect
from dispatch.config import Settings
from dispatch.demo import do_load_demo
from dispatch.history.generate import generate
from dispatch.history.service import read_setting, write_history
from load.common import fresh_database, machine
from load.service import service_process

GROUPS = ("priority", "district", "kelurahan", "team", "month")
MAX_INCIDENTS = 1_000_000
MAX_RUNS = 50
HTTP_TIMEOUT_S = 300.0
TZ = "Asia/Makassar"


async def seed(dsn: str, args: argparse.Namespace) -> dict:
    """The demo, then the history; returns the period and the seeding times."""
    conn = await connect(dsn)
    try:
        began = time.perf_counter()
        async with conn.transaction():
            await do_load_demo(conn, TZ)
        demo_s = time.perf_counter() - began
        end = datetime.now(UTC).replace(microsecond=0)
        days = math.ceil(args.incidents / args.daily_rate)
        start = end - timedelta(days=days)
        began = time.perf_counter()
        setting = await read_setting(conn, start=start, end=end, timezone=TZ, ack_timeout_s=60,
                                     daily_rate=args.daily_rate)
        history = generate(args.seed, setting)
        generate_s = time.perf_counter() - began
        began = time.perf_counter()
        async with conn.transaction():
            await write_history(conn, history, await history_db.get_first_shift_starts(conn))
            await history_db.analyze_history_tables(conn)
        write_s = time.perf_counter() - began
        began = time.perf_counter()
        await conn.execute("VACUUM ANALYZE incidents")
        vacuum_s = time.perf_counter() - began
        counts = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM incidents) AS incidents,
                      (SELECT count(*) FROM calls) AS calls,
                      (SELECT count(*) FROM assignments) AS assignments,
                      pg_size_pretty(pg_total_relation_size('incidents')) AS size""")
    finally:
        await conn.close()
    return {"start": start, "end": end, "days": days, "demo_s": demo_s,
            "generate_s": generate_s, "write_s": write_s, "vacuum_s": vacuum_s, **counts}


def figures(seconds: list[float]) -> str:
    return (f"median {statistics.median(seconds) * 1000:8.1f} ms  "
            f"max {max(seconds) * 1000:8.1f} ms")


async def timed_get(http: httpx.AsyncClient, path: str, params: dict) -> tuple[float, bytes]:
    """Seconds from sending to having read the whole answer, and the answer's body."""
    began = time.perf_counter()
    async with http.stream("GET", path, params=params) as answer:
        body = await answer.aread()
        elapsed = time.perf_counter() - began
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path} answered {answer.status_code}: {body[:300]!r}")
    return elapsed, body


async def measure(base_url: str, period: dict, runs: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=HTTP_TIMEOUT_S) as http:
        login = await http.post("/api/v1/auth/token",
                                json={"username": "dinkes", "password": "dinkes-112"})
        login.raise_for_status()
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        await timed_get(http, "/api/v1/reports/response-times", period)  # warm-up
        for group in GROUPS:
            times, body = [], b""
            for _ in range(runs):
                elapsed, body = await timed_get(http, "/api/v1/reports/response-times",
                                                {**period, "group_by": group})
                times.append(elapsed)
            groups = len(json.loads(body)["groups"])
            print(f"  response-times group_by={group:<9} {figures(times)}  "
                  f"({groups} groups, {len(body):,} bytes)", flush=True)
        times = []
        for _ in range(runs):
            elapsed, _ = await timed_get(http, "/api/v1/reports/response-times/fractiles",
                                         period)
            times.append(elapsed)
        print(f"  response-times/fractiles         {figures(times)}", flush=True)
        times = []
        for _ in range(runs):
            elapsed, body = await timed_get(http, "/api/v1/reports/response-times.csv", period)
            times.append(elapsed)
        rows = body.count(b"\r\n") - 1  # no value of the log holds a line break
        print(f"  response-times.csv               {figures(times)}  "
              f"({rows:,} rows, {len(body):,} bytes)", flush=True)


async def explain(dsn: str, start: datetime, end: datetime) -> None:
    """EXPLAIN ANALYZE of the statement GET /response-times runs for each grouping."""
    settings = Settings(database_url=dsn, secret_key="bench")
    args = (start, end, settings.timezone, [name for name, _ in settings.shifts],
            [hour for _, hour in settings.shifts], float(settings.response_target_s))
    conn = await connect(dsn)
    try:
        for group in (None, *GROUPS):
            # The endpoint's own statement (db/reports.py), not a copy of it.
            plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) "
                                    + reports_db._summary_sql(group), *args)
            lines = [row[0] for row in plan]
            total = next(line for line in lines if line.startswith("Execution Time"))
            print(f"  EXPLAIN ANALYZE group_by={group or '(total)':<9} {total}")
            if os.environ.get("BENCH_REPORTS_PLANS"):
                print("\n".join("      " + line for line in lines))
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> int:
    log_dir = Path(tempfile.mkdtemp(prefix="d112-reports-"))
    print("dispatch112 reports benchmark")
    print(f"  machine      {machine()}")
    async with fresh_database(fast=args.fast) as database:
        print(f"  PostgreSQL   {database.server_version} ({database.origin})")
        seeded = await seed(database.dsn, args)
        print(f"  seeded       {seeded['incidents']:,} incidents, {seeded['calls']:,} calls, "
              f"{seeded['assignments']:,} assignments over {seeded['days']} days "
              f"(incidents table {seeded['size']})")
        print(f"  seeding      demo {seeded['demo_s']:.1f} s, generating "
              f"{seeded['generate_s']:.1f} s, writing (COPY, links, ANALYZE) "
              f"{seeded['write_s']:.1f} s, VACUUM ANALYZE incidents {seeded['vacuum_s']:.1f} s")
        period = {"from": seeded["start"].isoformat(),
                  "to": (seeded["end"] + timedelta(seconds=1)).isoformat()}
        print(f"  period       {period['from']} .. {period['to']}, {args.runs} runs each")
        async with service_process(database.dsn, log_dir / "service.log",
                                   args.log_level) as (base_url, _):
            await measure(base_url, period, args.runs)
        await explain(database.dsn, seeded["start"], seeded["end"] + timedelta(seconds=1))
    print(f"  load         1-min load average {os.getloadavg()[0]:.2f} at the end")
    shutil.rmtree(log_dir, ignore_errors=True)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m load.bench_reports",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--daily-rate", type=float, default=90.0,
                        help="incidents a day of the generated past (days = incidents / rate)")
    parser.add_argument("--seed", type=int, default=112)
    parser.add_argument("--fast", action="store_true", help="embedded PostgreSQL, fsync off")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if not 1 <= args.incidents <= MAX_INCIDENTS:
        parser.error(f"--incidents must be 1..{MAX_INCIDENTS}")
    if not 1 <= args.runs <= MAX_RUNS:
        parser.error(f"--runs must be 1..{MAX_RUNS}")
    if not 1 <= args.daily_rate <= 1000 or args.incidents / args.daily_rate > 3600:
        parser.error("--daily-rate must be 1..1000 and the period at most 3600 days")
    return args


def main(argv: list[str] | None = None) -> None:
    sys.exit(asyncio.run(run(parse_args(argv))))


if __name__ == "__main__":
    main()
