"""POST /api/v1/incidents latency and throughput under concurrent operators.

Measures the time from sending `POST /api/v1/incidents` to having read the whole
answer, as seen by N concurrent clients (each an httpx client looping over the
next body until the bounded total is reached), against the real service on
loopback: `dispatch112 serve` in its own process (default) or in this process.
The fleet is smaller than the load, so early incidents are assigned a team and
later ones are queued. Warm-up requests are sent first and not counted.

    .venv/bin/python -m load.bench_incidents [--clients 50] [--requests 2000]

DATABASE_URL names a server to make a fresh database on (dropped afterwards);
without it an embedded PostgreSQL is started in a temp dir and removed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from db import users as users_db
from db.pool import connect
from dispatch.auth.service import hash_secret
from dispatch.geo.districts import do_import_districts, read_geojson_districts
from load import observe
from load.common import (
    DISTRICTS_FILE,
    REQUIRED_KIND_SHARES,
    TEAM_PIN,
    cpu_count,
    fresh_database,
    machine,
    percentile,
    pick,
    random_point,
    seed_teams,
)
from load.service import service_in_process, service_process

OPERATOR, PASSWORD = "bench-operator", "bench-operator-secret"
COMPLAINTS = ("sesak napas", "nyeri dada", "kecelakaan motor", "pingsan", "demam tinggi",
              "persalinan", "luka bakar", "kejang")
CLIENT_TIMEOUT_S = 30.0


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # by answer status
    http: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    wall_s: float = 0.0

    def add(self, status: str, seconds: float) -> None:
        self.latencies.setdefault(status, []).append(seconds)

    @property
    def all(self) -> list[float]:
        return sorted(s for values in self.latencies.values() for s in values)


def make_bodies(count: int, seed: int) -> list[dict]:
    """Incident bodies at random points of the city; priorities and needs mixed."""
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        lat, lon = random_point(rng)
        body = {"caller_number": f"0812{rng.randint(10_000_000, 99_999_999)}",
                "location": {"lat": lat, "lon": lon},
                "address": f"Jl. Bau Massepe {rng.randint(1, 300)}",
                "complaint": rng.choice(COMPLAINTS), "priority": rng.randint(1, 3)}
        kind = pick(rng, REQUIRED_KIND_SHARES)
        if kind is not None:
            body["required_kind"] = kind
        bodies.append(body)
    return bodies


def _district_items(path: str) -> list[tuple[str, dict]]:
    """The kecamatan polygons of `path` (named by `name`, `nmkec`...), or none without
    the file."""
    if not path or not Path(path).exists():
        return []
    return read_geojson_districts(Path(path), None)


async def prepare(dsn: str, args: argparse.Namespace) -> tuple[dict[str, int], int]:
    """The operator, the on-duty teams and (when the file is there) the districts."""
    conn = await connect(dsn)
    try:
        await users_db.upsert_user(conn, OPERATOR, await hash_secret(PASSWORD), "operator")
        kinds = await seed_teams(conn, args.teams, seed=args.seed,
                                 pin_hash=await hash_secret(TEAM_PIN), gps_share=0.3)
        districts, items = 0, _district_items(args.districts)
        if items:
            async with conn.transaction():
                districts = await do_import_districts(conn, items)
        await conn.execute("ANALYZE")
        return kinds, districts
    finally:
        await conn.close()


async def login(base_url: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=CLIENT_TIMEOUT_S) as http:
        response = await http.post("/api/v1/auth/token",
                                   json={"username": OPERATOR, "password": PASSWORD})
        response.raise_for_status()
        return response.json()["access_token"]


@asynccontextmanager
async def open_clients(base_url: str, token: str,
                       count: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`count` operator clients, made before anything is timed: an httpx client costs
    ~30 ms of CPU to make (its TLS context, even for plain HTTP), which made inside
    the timed phase would stall the other clients' reading of their answers."""
    headers = {"Authorization": f"Bearer {token}"}
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(httpx.AsyncClient(
            base_url=base_url, timeout=CLIENT_TIMEOUT_S, headers=headers))
            for _ in range(count)]


async def client_loop(http: httpx.AsyncClient, bodies: Iterator[dict], results: Results,
                      deadline: float) -> None:
    """One operator: post the next body, wait for the answer, repeat until none is left."""
    for body in bodies:  # shared by all clients: each body is taken once
        if time.monotonic() > deadline:
            results.errors["not sent: --max-seconds reached"] += 1
            continue
        started = time.perf_counter()
        try:
            response = await http.post("/api/v1/incidents", json=body,
                                       headers={"Idempotency-Key": uuid.uuid4().hex})
        except httpx.HTTPError as exc:
            results.errors[type(exc).__name__] += 1
            continue
        elapsed = time.perf_counter() - started
        results.http[response.status_code] += 1
        if response.is_success:
            results.add(response.json()["status"], elapsed)
        else:
            results.errors[f"HTTP {response.status_code}"] += 1


async def drive(clients: list[httpx.AsyncClient], bodies: list[dict],
                max_seconds: float) -> Results:
    """All `bodies` posted by the clients' concurrent loops; wall time measured."""
    results, shared = Results(), iter(bodies)
    deadline = time.monotonic() + max_seconds
    started = time.perf_counter()
    await asyncio.gather(*(client_loop(http, shared, results, deadline) for http in clients))
    results.wall_s = time.perf_counter() - started
    return results


async def database_state(dsn: str) -> str:
    conn = await connect(dsn)
    try:
        rows = await conn.fetch("SELECT status, count(*) AS n FROM incidents GROUP BY 1 ORDER BY 1")
        active = await conn.fetchval("SELECT count(*) FROM assignments WHERE ended_at IS NULL")
    finally:
        await conn.close()
    return ", ".join(f"{r['status']} {r['n']}" for r in rows) + f"; active assignments {active}"


def _line(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)
    cells = [f"{n} {percentile(ordered, p) * 1000:7.1f}"
             for n, p in (("p50", 50), ("p90", 90), ("p99", 99))]
    return "  ".join([*cells, f"max {ordered[-1] * 1000:7.1f} ms  (n={len(ordered)})"])


def report(args: argparse.Namespace, setup: dict, results: Results, cpu: dict) -> None:
    done = len(results.all)
    print("dispatch112 POST /api/v1/incidents benchmark")
    print(f"  machine      {setup['host']}")
    print(f"  PostgreSQL   {setup['version']} ({setup['origin']})")
    print(f"  service      {setup['mode']}")
    print(f"  fleet        {args.teams} on-duty teams: "
          + ", ".join(f"{k} {n}" for k, n in setup["kinds"].items())
          + f"; districts imported: {setup['districts']}")
    print(f"  load         {args.clients} concurrent clients, {args.requests} requests timed "
          f"after {args.warmup} warm-up, seed {args.seed}")
    print(f"latency       {_line(results.all)}")
    for status in sorted(results.latencies):
        print(f"  {status:<10}  {_line(results.latencies[status])}")
    print(f"throughput    {done / results.wall_s:.1f} req/s ({done} answers in "
          f"{results.wall_s:.1f} s)")
    print("by status     " + ", ".join(f"{s} {len(v)}" for s, v in
                                       sorted(results.latencies.items())))
    print("HTTP codes    " + ", ".join(f"{c}: {n}" for c, n in sorted(results.http.items())))
    errors = sum(results.errors.values())
    print(f"errors        {errors}" + (f" ({dict(results.errors)})" if errors else ""))
    where = (f"service process {cpu['service']:.1f} s, load generator {cpu['client']:.1f} s"
             if cpu["service"] is not None else
             f"service and load generator together {cpu['client']:.1f} s")
    print(f"CPU (timed)   {where}; whole machine busy {cpu['machine']:.1f} s (PostgreSQL and "
          f"the rest: the difference), over {results.wall_s:.1f} s wall on {cpu_count()} CPUs")
    print(f"database      {setup['state']}")
    print(f"lock waits    {observe.describe_lock_waits(setup['waits'])}")
    if setup["log_events"]:
        print("service log   " + ", ".join(f"{name} {n}" for name, n in
                                           sorted(setup["log_events"].items())))


async def timed_phase(dsn: str, clients: list[httpx.AsyncClient], bodies: list[dict],
                      args: argparse.Namespace, pid: int) -> tuple[Results, dict, Counter]:
    """The timed requests, with CPU time and lock waits observed around them."""
    before = (observe.cpu_seconds(pid), observe.own_cpu_seconds(),
              observe.machine_busy_seconds())
    stop = asyncio.Event()
    sampler = asyncio.create_task(observe.sample_lock_waits(dsn, stop))
    try:
        results = await drive(clients, bodies, args.max_seconds)
    finally:
        stop.set()
        waits = await sampler
    cpu = {"service": None if args.in_process else observe.cpu_seconds(pid) - before[0],
           "client": observe.own_cpu_seconds() - before[1],
           "machine": observe.machine_busy_seconds() - before[2]}
    return results, cpu, waits


async def run(args: argparse.Namespace) -> None:
    host = machine()
    bodies = make_bodies(args.warmup + args.requests, args.seed + 1)
    async with fresh_database(fast=args.fast) as database:
        kinds, districts = await prepare(database.dsn, args)
        log = Path(tempfile.mkdtemp(prefix="d112-bench-log-")) / "service.log"
        if args.in_process:
            starter, mode = service_in_process(database.dsn), "in-process (uvicorn, same loop)"
        else:
            starter = service_process(database.dsn, log, args.log_level)
            mode = f"separate process: dispatch112 serve, log level {args.log_level}"
        async with starter as (base_url, pid):
            token = await login(base_url)
            async with open_clients(base_url, token, args.clients) as clients:
                await drive(clients, bodies[:args.warmup], args.max_seconds)
                results, cpu, waits = await timed_phase(database.dsn, clients,
                                                        bodies[args.warmup:], args, pid)
        setup = {"version": database.server_version, "origin": database.origin, "mode": mode,
                 "kinds": kinds, "districts": districts,
                 "state": await database_state(database.dsn),
                 "log_events": observe.log_event_counts(log), "waits": waits, "host": host}
        report(args, setup, results, cpu)
        if sum(results.errors.values()) and log.exists():
            print(f"service log kept: {log}")
        else:
            shutil.rmtree(log.parent, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m load.bench_incidents",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--requests", type=int, default=2000,
                        help="timed requests (default 2000, at most 20000)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed requests first (50)")
    parser.add_argument("--teams", type=int, default=200, help="on-duty teams (200)")
    parser.add_argument("--seed", type=int, default=112)
    parser.add_argument("--max-seconds", type=float, default=300.0,
                        help="stop sending after this long per phase (default 300)")
    parser.add_argument("--districts", default=str(DISTRICTS_FILE),
                        help="kecamatan GeoJSON to import ('' for none); read, never copied")
    parser.add_argument("--in-process", action="store_true",
                        help="serve in this process instead of a dispatch112 serve process")
    parser.add_argument("--log-level", default="info",
                        help="DISPATCH112_LOG_LEVEL of the service process (default info)")
    parser.add_argument("--fast", action="store_true",
                        help="embedded server with fsync off (no effect with DATABASE_URL)")
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= 500 and 1 <= args.requests <= 20_000
            and 0 <= args.warmup <= 1000 and 1 <= args.teams <= 10_000
            and 0 < args.max_seconds <= 3600):
        parser.error("clients 1..500, requests 1..20000, warmup 0..1000, teams 1..10000, "
                     "max-seconds 0..3600")
    return args


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
