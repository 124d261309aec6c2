"""Allocation decision time with many free on-duty teams.

Measures, for incidents at random points in Parepare, the time of one allocation
decision as the service makes it: inside one transaction, insert the incident,
lock it, call `do_allocate` (withdrawn-team lookup, candidate query, routing
ranking, guarded reservation, assignment) and write its three events, then roll back
so that every decision sees the same free fleet. Also measured on their own, at
the same points: `get_ranked_candidates` (query + ranking), the candidate query
alone and the router alone. No incident creation over HTTP, no commit, no NOTIFY.
With `--fixes-per-s N`, phones' GPS fixes are stored meanwhile on a connection of
their own, as the service stores them (a batch every `gps_batch_s`, one statement):
what the fleet's fixes do to the candidate query, which reads the table they update.

    .venv/bin/python -m load.bench_allocation [--teams 1000] [--incidents 500]
                                              [--fixes-per-s 0]

DATABASE_URL names a server to make a fresh database on (dropped afterwards);
without it an embedded PostgreSQL is started in a temp dir and removed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from db import incidents as incidents_db
from db import teams as teams_db
from db.pool import connect, create_pool
from dispatch import events
from dispatch.auth.service import hash_secret
from dispatch.config import Settings
from dispatch.context import Context
from dispatch.incidents.allocation import NEAREST, do_allocate, get_ranked_candidates
from dispatch.logs import configure_logging
from dispatch.vocabulary import KINDS_FOR
from load.common import (
    REQUIRED_KIND_SHARES,
    TEAM_PIN,
    fresh_database,
    machine,
    pick,
    random_point,
    seed_history,
    seed_teams,
    summary_ms,
)
from routing import Position

ACTOR = "user:bench"


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    required_kind: str | None
    priority: int


@dataclass
class Timings:
    decision: list[float]
    ranked: list[float]
    query: list[float]
    routing: list[float]
    outcomes: Counter


def make_points(count: int, seed: int) -> list[Point]:
    """`count` incidents at random points of the city, with a mix of required kinds."""
    rng = random.Random(seed)
    return [Point(*random_point(rng), pick(rng, REQUIRED_KIND_SHARES), rng.randint(1, 3))
            for _ in range(count)]


class _RollBack(Exception):
    """Ends the decision's transaction with a rollback: nothing it wrote stays."""


async def decide(conn: asyncpg.Connection, ctx: Context, point: Point) -> tuple[float, str]:
    """One allocation decision, rolled back. Returns (seconds, outcome)."""
    try:
        async with events.transaction(conn):
            started = time.perf_counter()
            incident = await incidents_db.insert_incident(
                conn, call_id=None, caller_number="+6281234567890", lat=point.lat,
                lon=point.lon, district_id=None, address="Jl. Uji Beban",
                complaint="sesak napas", priority=point.priority,
                required_kind=point.required_kind, patients=1, notes="", received_at=None,
                created_by=ACTOR)
            assignment = await do_allocate(conn, ctx, incident, actor=ACTOR)
            await events.flush(conn)  # the events, written last as the commit would
            elapsed = time.perf_counter() - started
            raise _RollBack
    except _RollBack:
        pass
    if assignment is None:
        return elapsed, "queued"
    return elapsed, f"assigned ({assignment['position_source']})"


async def rank_only(conn: asyncpg.Connection, ctx: Context, point: Point) -> tuple[float, ...]:
    """get_ranked_candidates, then its query and its routing on their own (seconds each)."""
    started = time.perf_counter()
    await get_ranked_candidates(conn, ctx, point.lat, point.lon,
                                KINDS_FOR[point.required_kind], [])
    ranked = time.perf_counter() - started
    started = time.perf_counter()
    rows = await teams_db.get_candidate_teams(  # as the allocation asks, by distance
        conn, kinds=KINDS_FOR[point.required_kind], gps_fresh_s=ctx.settings.gps_fresh_s,
        exclude=[], day_start=ctx.day_start(), near=(point.lat, point.lon), limit=NEAREST)
    query = time.perf_counter() - started
    origins = [Position(r["lat"], r["lon"]) for r in rows]
    started = time.perf_counter()
    await ctx.router.routes(origins, Position(point.lat, point.lon))
    return ranked, query, time.perf_counter() - started


async def measure(conn: asyncpg.Connection, ctx: Context, points: list[Point],
                  warmup: int) -> Timings:
    """Warm up (not counted), then time every point: decisions first, then ranking."""
    for point in points[:warmup]:
        await decide(conn, ctx, point)
        await rank_only(conn, ctx, point)
    timings = Timings([], [], [], [], Counter())
    for point in points[warmup:]:
        elapsed, outcome = await decide(conn, ctx, point)
        timings.decision.append(elapsed)
        timings.outcomes[outcome] += 1
    for point in points[warmup:]:
        ranked, query, routing = await rank_only(conn, ctx, point)
        timings.ranked.append(ranked)
        timings.query.append(query)
        timings.routing.append(routing)
    return timings


async def store_fixes(dsn: str, per_s: float, batch_s: float, stop: asyncio.Event,
                      seed: int) -> int:
    """Until `stop`: every `batch_s`, fixes at random points for `per_s * batch_s` random
    teams, stored in one statement (db.teams.store_team_fixes). Returns how many."""
    conn = await connect(dsn)
    rng, stored = random.Random(seed), 0
    try:
        team_ids = [row["id"] for row in await conn.fetch("SELECT id FROM teams")]
        size = min(len(team_ids), max(1, round(per_s * batch_s)))
        while not stop.is_set():
            now = datetime.now(UTC)
            await teams_db.store_team_fixes(conn, [
                (team_id, *random_point(rng), 10.0, now, None)
                for team_id in sorted(rng.sample(team_ids, size))])
            stored += size
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), batch_s)
    finally:
        await conn.close()
    return stored


async def prepare(conn: asyncpg.Connection, args: argparse.Namespace) -> dict[str, int]:
    """Seed teams (one argon2 hash for every PIN) and past assignments; ANALYZE."""
    pin_hash = await hash_secret(TEAM_PIN)
    kinds = await seed_teams(conn, args.teams, seed=args.seed, pin_hash=pin_hash,
                             gps_share=args.gps_share)
    await seed_history(conn, args.history, seed=args.seed)
    await conn.execute("ANALYZE")
    return kinds


def report(args: argparse.Namespace, host: str, version: str, origin: str,
           kinds: dict[str, int], fresh: int, timings: Timings, fixes_per_s: float) -> None:
    print("dispatch112 allocation benchmark")
    print(f"  machine      {host}")
    print(f"  PostgreSQL   {version} ({origin})")
    print(f"  teams        {args.teams} on duty, all available: "
          + ", ".join(f"{k} {n}" for k, n in kinds.items())
          + f"; {fresh} with a fresh GPS fix")
    print(f"  history      {args.history} completed assignments in the last 6 h")
    print(f"  GPS fixes    {fixes_per_s:.0f} stored a second while measuring")
    print(f"  incidents    {len(timings.decision)} timed at random points "
          f"(+{args.warmup} warm-up), seed {args.seed}, router geodesic")
    print("  outcomes     " + ", ".join(f"{k} {n}" for k, n in sorted(timings.outcomes.items())))
    print("allocation decision (insert + lock + do_allocate + events, rolled back):")
    print(f"  {summary_ms(timings.decision)}")
    print("get_ranked_candidates alone:")
    print(f"  {summary_ms(timings.ranked)}")
    print("  of which, measured separately:")
    print(f"  candidate query  {summary_ms(timings.query)}")
    print(f"  router.routes    {summary_ms(timings.routing)}")


async def run(args: argparse.Namespace) -> None:
    configure_logging(args.log_level)
    host = machine()
    async with fresh_database(fast=args.fast) as database:
        pool = await create_pool(database.dsn, min_size=1, max_size=1)
        try:
            async with pool.acquire() as conn:
                kinds = await prepare(conn, args)
                fresh = await conn.fetchval(
                    "SELECT count(*) FROM teams WHERE fix_at > now() - interval '10 minutes'")
                settings = Settings(database_url=database.dsn, secret_key="bench")
                ctx = Context.create(settings, pool)
                points = make_points(args.incidents + args.warmup, args.seed + 1)
                stop = asyncio.Event()
                fixer = (asyncio.create_task(store_fixes(
                    database.dsn, args.fixes_per_s, settings.gps_batch_s, stop, args.seed))
                    if args.fixes_per_s else None)
                started = time.perf_counter()
                try:
                    timings = await measure(conn, ctx, points, args.warmup)
                finally:
                    stop.set()
                    stored = await fixer if fixer is not None else 0
                fixes_per_s = stored / (time.perf_counter() - started)
        finally:
            await pool.close()
        report(args, host, database.server_version, database.origin, kinds, fresh, timings,
               fixes_per_s)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m load.bench_allocation",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, default=1000, help="on-duty teams (default 1000)")
    parser.add_argument("--incidents", type=int, default=500,
                        help="timed decisions (default 500, at most 20000)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed decisions first")
    parser.add_argument("--gps-share", type=float, default=0.3,
                        help="share of teams with a fresh GPS fix (default 0.3)")
    parser.add_argument("--history", type=int, default=2000,
                        help="completed assignments earlier today (default 2000)")
    parser.add_argument("--fixes-per-s", type=float, default=0.0,
                        help="GPS fixes stored a second while measuring (default 0)")
    parser.add_argument("--seed", type=int, default=112)
    parser.add_argument("--fast", action="store_true",
                        help="embedded server with fsync off (no effect with DATABASE_URL)")
    parser.add_argument("--log-level", default="warning",
                        help="service log level while measuring (default warning: "
                             "info would add a JSON log line to stderr per decision)")
    args = parser.parse_args(argv)
    if not (1 <= args.teams <= 100_000 and 1 <= args.incidents <= 20_000
            and 0 <= args.warmup <= 1000 and 0 <= args.history <= 1_000_000
            and 0 <= args.fixes_per_s <= 10_000):
        parser.error("teams 1..100000, incidents 1..20000, warmup 0..1000, history 0..1e6, "
                     "fixes-per-s 0..10000")
    return args


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
