"""Push latency over /ws with 1,000 responder sockets and 20 dashboards, on one or two
service instances, and resident memory per idle connection.

Push latency runs from just before `POST /api/v1/incidents` is sent to the moment the
assigned team's socket receives the `assignment.created` frame of that incident. Every
team has one responder socket and every dashboard an operator socket, all connected
before anything is timed; with two instances the sockets are split between them and
the POSTs alternate, so about half the assignments are made on the instance that does
not hold the team's socket (the event then travels by the event log and NOTIFY).
Memory is each service process's VmRSS after start-up and warm-up with no socket
open, and again once every socket is connected and has been idle a few seconds:
the difference divided by that process's sockets.

    .venv/bin/python -m load.bench_push [--instances 1|2] [--incidents 300]

DATABASE_URL names a server to make a fresh database on (dropped afterwards);
without it an embedded PostgreSQL is started in a temp dir and removed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import secrets
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from db import tokens as tokens_db
from db import users as users_db
from db.pool import connect
from dispatch.auth.service import digest, hash_secret
from dispatch.geo.districts import do_import_districts
from load import observe
from load.bench_incidents import COMPLAINTS, _district_items
from load.bots import connect_and_hello
from load.common import (
    DISTRICTS_FILE,
    TEAM_PIN,
    cpu_count,
    fresh_database,
    machine,
    percentile,
    random_point,
    seed_teams,
)
from load.service import service_process

OPERATOR = "bench-operator"
CLIENT_TIMEOUT_S = 30.0
TOKEN_TTL = timedelta(days=1)
SETTLE_STEP_S = 0.05


# -- set-up


@dataclass
class Fleet:
    kinds: dict[str, int]
    districts: int
    team_tokens: list[tuple[int, str]]  # (team_id, token), one per team
    operator_tokens: list[str]


async def prepare(dsn: str, args: argparse.Namespace) -> Fleet:
    """The operator, the on-duty teams, the districts (when the file is there), and
    tokens minted straight into the database: one per team, one per dashboard."""
    conn = await connect(dsn)
    try:
        user = await users_db.upsert_user(conn, OPERATOR,
                                          await hash_secret(secrets.token_hex(16)), "operator")
        kinds = await seed_teams(conn, args.teams, seed=args.seed,
                                 pin_hash=await hash_secret(TEAM_PIN), gps_share=0.3)
        team_ids = [r["id"] for r in await conn.fetch("SELECT id FROM teams ORDER BY id")]
        expires_at = datetime.now(UTC) + TOKEN_TTL
        team_tokens = [(team_id, secrets.token_urlsafe(32)) for team_id in team_ids]
        operator_tokens = [secrets.token_urlsafe(32) for _ in range(args.dashboards + 1)]
        async with conn.transaction():
            for team_id, token in team_tokens:
                await tokens_db.insert_token(conn, digest(token), "responder",
                                             expires_at=expires_at, team_id=team_id)
            for token in operator_tokens:
                await tokens_db.insert_token(conn, digest(token), "operator",
                                             expires_at=expires_at, user_id=user["id"])
        districts, items = 0, _district_items(args.districts)
        if items:
            async with conn.transaction():
                districts = await do_import_districts(conn, items)
        await conn.execute("ANALYZE")
        return Fleet(kinds, districts, team_tokens, operator_tokens)
    finally:
        await conn.close()


def make_bodies(count: int, seed: int) -> list[dict]:
    """Incident bodies at random points of the city; any ambulance will do."""
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        lat, lon = random_point(rng)
        bodies.append({"caller_number": f"0812{rng.randint(10_000_000, 99_999_999)}",
                       "location": {"lat": lat, "lon": lon},
                       "address": f"Jl. Andi Makkasau {rng.randint(1, 300)}",
                       "complaint": rng.choice(COMPLAINTS), "priority": rng.randint(1, 3)})
    return bodies


def raise_nofile(needed: int) -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit (the service processes started afterwards
    inherit it). Raises when even the hard limit is too low for the sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise SystemExit(f"RLIMIT_NOFILE hard limit {hard} is below the {needed} descriptors "
                         "this run needs; lower --teams or raise the limit")
    return soft, hard


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB (Linux /proc), 0 if unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


# -- sockets


@dataclass
class Socket:
    """One client socket and what it received: receive time of each incident's
    `assignment.created` and `incident.created`, by incident id."""

    role: str  # "responder" or "dashboard"
    instance: int
    team_id: int | None
    ws: ClientConnection | None = None
    assigned: dict[int, float] = field(default_factory=dict)
    created: dict[int, float] = field(default_factory=dict)
    foreign: int = 0  # events about another team seen by a responder (must stay 0)
    frames: int = 0
    closed: str | None = None  # why it closed before the end of the run
    reader: asyncio.Task | None = None


async def _read(sock: Socket) -> None:
    """Stamp each frame as it comes off the socket, before parsing it."""
    try:
        async for text in sock.ws:
            now = time.perf_counter()
            frame = json.loads(text)
            sock.frames += 1
            if frame.get("type") != "event":
                continue
            name, data = frame.get("name"), frame.get("data") or {}
            if name == "assignment.created":
                sock.assigned.setdefault(data["incident_id"], now)
                if sock.team_id is not None and data.get("team_id") != sock.team_id:
                    sock.foreign += 1
            elif name == "incident.created":
                sock.created.setdefault(data["id"], now)
                if sock.team_id is not None:
                    sock.foreign += 1
    except ConnectionClosed as exc:
        sock.closed = sock.closed or (
            f"closed {exc.rcvd.code if exc.rcvd else 'without a close frame'}")
    else:
        sock.closed = sock.closed or f"closed {sock.ws.close_code}"


async def open_socket(url: str, token: str, sock: Socket, compression: str | None,
                      errors: Counter) -> float | None:
    """Connect, hello, wait for the welcome, start the reader; the seconds it took."""
    started = time.perf_counter()
    sock.ws = await connect_and_hello(url, token, compression, errors)
    if sock.ws is None:
        return None
    sock.reader = asyncio.create_task(_read(sock))
    return time.perf_counter() - started


async def open_sockets(urls: list[str], fleet: Fleet, args: argparse.Namespace,
                       compression: str | None) -> tuple[list[Socket], list[float], Counter,
                                                         float]:
    """Dashboards first, then one socket per team, `args.batch` at a time. Socket i of
    each kind goes to instance i mod n."""
    n = len(urls)
    plan = [(Socket("dashboard", j % n, None), fleet.operator_tokens[j + 1])
            for j in range(args.dashboards)]
    plan += [(Socket("responder", i % n, team_id), token)
             for i, (team_id, token) in enumerate(fleet.team_tokens)]
    times: list[float] = []
    errors: Counter = Counter()
    started = time.perf_counter()
    for at in range(0, len(plan), args.batch):
        batch = plan[at:at + args.batch]
        took = await asyncio.gather(*(
            open_socket(f"{urls[sock.instance].replace('http', 'ws', 1)}/ws", token, sock,
                        compression, errors) for sock, token in batch))
        times += [t for t in took if t is not None]
    wall = time.perf_counter() - started
    return [sock for sock, _ in plan if sock.ws is not None], times, errors, wall


async def close_sockets(sockets: list[Socket], batch: int) -> None:
    for at in range(0, len(sockets), batch):
        part = sockets[at:at + batch]
        for sock in part:
            sock.closed = sock.closed or "closed by the benchmark"
        await asyncio.gather(*(sock.ws.close() for sock in part), return_exceptions=True)
    for sock in sockets:
        if sock.reader is not None:
            sock.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sock.reader


async def warm_up(urls: list[str], token: str, bodies: list[dict],
                  compression: str | None) -> None:
    """Untimed: some POSTs on each instance and one socket opened and closed on each,
    so that first-use costs are in the memory baseline, not in the figures."""
    async with open_clients(urls, token, 1) as (clients,):
        for k, body in enumerate(bodies):
            (await clients[k % len(urls)].post("/api/v1/incidents", json=body)
             ).raise_for_status()
    for url in urls:
        sock, errors = Socket("dashboard", 0, None), Counter()
        await open_socket(f"{url.replace('http', 'ws', 1)}/ws", token, sock, compression,
                          errors)
        if errors:
            raise RuntimeError(f"warm-up socket failed: {dict(errors)}")
        await close_sockets([sock], 1)


# -- the timed phase


@dataclass
class Post:
    index: int
    instance: int
    sent: float
    answered: float = 0.0
    status: str = ""
    incident_id: int | None = None
    team_id: int | None = None
    error: str | None = None


@asynccontextmanager
async def open_clients(urls: list[str], token: str,
                       count: int) -> AsyncIterator[list[list[httpx.AsyncClient]]]:
    """`count` posters, each with an httpx client per instance, made before any timing."""
    headers = {"Authorization": f"Bearer {token}"}
    async with AsyncExitStack() as stack:
        yield [[await stack.enter_async_context(httpx.AsyncClient(
            base_url=url, timeout=CLIENT_TIMEOUT_S, headers=headers)) for url in urls]
            for _ in range(count)]


async def poster(clients: list[httpx.AsyncClient], work, posts: list[Post], pause_s: float,
                 deadline: float, start_s: float) -> None:
    """After `start_s`, post the next body to instance index mod n, wait for the answer,
    pause, repeat."""
    await asyncio.sleep(start_s)
    for index, body in work:
        if time.monotonic() > deadline:
            posts.append(Post(index, index % len(clients), 0.0, error="not sent: time limit"))
            continue
        post = Post(index, index % len(clients), 0.0)
        posts.append(post)
        post.sent = time.perf_counter()
        try:
            response = await clients[post.instance].post(
                "/api/v1/incidents", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        except httpx.HTTPError as exc:
            post.error = type(exc).__name__
            continue
        post.answered = time.perf_counter()
        if response.status_code != 201:
            post.error = f"HTTP {response.status_code}"
            continue
        answer = response.json()
        post.status, post.incident_id = answer["status"], answer["id"]
        if answer.get("assignment"):
            post.team_id = answer["assignment"]["team_id"]
        await asyncio.sleep(pause_s)


def undelivered(posts: list[Post], teams: dict[int, Socket],
                dashboards: list[Socket]) -> tuple[int, int]:
    """(assignments not yet on their team's socket, incident.created not yet on a
    dashboard) for the posts that were answered."""
    missing_team = sum(1 for p in posts if p.team_id is not None
                       and (p.team_id not in teams
                            or p.incident_id not in teams[p.team_id].assigned))
    missing_dash = sum(1 for p in posts if p.incident_id is not None
                       for d in dashboards if p.incident_id not in d.created)
    return missing_team, missing_dash


async def timed_phase(clients: list[list[httpx.AsyncClient]], bodies: list[dict],
                      sockets: list[Socket], args: argparse.Namespace,
                      pids: list[int]) -> tuple[list[Post], dict]:
    teams = {s.team_id: s for s in sockets if s.role == "responder"}
    dashboards = [s for s in sockets if s.role == "dashboard"]
    before = ([observe.cpu_seconds(pid) for pid in pids], observe.own_cpu_seconds(),
              observe.machine_busy_seconds())
    posts: list[Post] = []
    work = iter(enumerate(bodies))
    deadline = time.monotonic() + args.max_seconds
    started = time.perf_counter()
    pause = args.pause_ms / 1000  # the posters start spread over one pause, not at once
    await asyncio.gather(*(poster(c, work, posts, pause, deadline, k * pause / len(clients))
                           for k, c in enumerate(clients)))
    wall = time.perf_counter() - started
    # Frames may still be on their way: wait for them, within --settle-s.
    for _ in range(int(args.settle_s / SETTLE_STEP_S)):
        if not any(undelivered(posts, teams, dashboards)):
            break
        await asyncio.sleep(SETTLE_STEP_S)
    stats = {"wall": wall,
             "service_cpu": [observe.cpu_seconds(pid) - b for pid, b in zip(pids, before[0],
                                                                               strict=True)],
             "client_cpu": observe.own_cpu_seconds() - before[1],
             "machine_busy": observe.machine_busy_seconds() - before[2],
             "load_end": os.getloadavg()[0],
             "rss_after": [rss_kib(pid) for pid in pids],
             "dropped": Counter(s.closed for s in sockets if s.closed is not None)}
    return sorted(posts, key=lambda p: p.index), stats


# -- figures


def _line(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)
    cells = [f"{n} {percentile(ordered, p) * 1000:7.1f}"
             for n, p in (("p50", 50), ("p90", 90), ("p99", 99))]
    return "  ".join([*cells, f"max {ordered[-1] * 1000:7.1f} ms  (n={len(ordered)})"])


def report(args: argparse.Namespace, setup: dict, sockets: list[Socket], posts: list[Post],
           stats: dict) -> int:
    """Print the figures; the number of failures (missed deliveries, socket or POST
    errors, events leaked to the wrong team)."""
    n = args.instances
    teams = {s.team_id: s for s in sockets if s.role == "responder"}
    dashboards = [s for s in sockets if s.role == "dashboard"]
    answered = [p for p in posts if p.error is None]
    push, by_path, early = [], {"same instance": [], "cross instance": []}, 0
    for p in answered:
        sock = teams.get(p.team_id)
        if sock is not None and p.incident_id in sock.assigned:
            latency = sock.assigned[p.incident_id] - p.sent
            push.append(latency)
            early += sock.assigned[p.incident_id] < p.answered
            by_path["same instance" if sock.instance == p.instance
                    else "cross instance"].append(latency)
    dash_latency = [d.created[p.incident_id] - p.sent for p in answered for d in dashboards
                    if p.incident_id in d.created]
    missing_team, missing_dash = undelivered(answered, teams, dashboards)
    unassigned = sum(1 for p in answered if p.team_id is None)
    errors = Counter(p.error for p in posts if p.error is not None)
    foreign = sum(s.foreign for s in sockets)
    dropped = stats["dropped"]
    rss = setup["rss"]

    print("dispatch112 push latency benchmark (/ws)")
    print(f"  machine      {setup['host']}")
    print(f"  PostgreSQL   {setup['version']} ({setup['origin']})")
    print(f"  service      {n} x dispatch112 serve (separate processes, one database), "
          f"log level {args.log_level}, default pool (10 connections each)")
    print(f"  fleet        {args.teams} on-duty available teams: "
          + ", ".join(f"{k} {v}" for k, v in setup["kinds"].items())
          + f"; districts imported: {setup['districts']}")
    print(f"  sockets      {len(sockets)} open: {sum(1 for s in sockets if s.team_id)} "
          f"responders, {len(dashboards)} dashboards; "
          + ", ".join(f"instance {i + 1}: {sum(1 for s in sockets if s.instance == i)}"
                      for i in range(n))
          + f"; client compression {setup['compression'] or 'none'}; "
          f"RLIMIT_NOFILE soft {setup['nofile'][0]}")
    print(f"  connecting   {setup['connect_wall']:.1f} s in batches of {args.batch}; "
          f"connect+hello->welcome {_line(setup['connect_times'])}")
    if setup["connect_errors"]:
        print(f"  connect errors {dict(setup['connect_errors'])}")
    for i, (_pid, before, after) in enumerate(rss):
        count = sum(1 for s in sockets if s.instance == i)
        per = (after - before) / count if count else float("nan")
        print(f"  memory       instance {i + 1}: VmRSS {before / 1024:.1f} MiB before, "
              f"{after / 1024:.1f} MiB with {count} idle sockets after {args.idle_s:g} s: "
              f"{per:.1f} KiB per idle connection ({stats['rss_after'][i] / 1024:.1f} MiB "
              "after the timed phase)")
    total = sum(a - b for _, b, a in rss)
    print(f"  memory       all instances: {total / max(len(sockets), 1):.1f} KiB per idle "
          f"connection; load generator VmRSS {setup['client_rss'] / 1024:.1f} MiB")
    print(f"  load         {len(posts)} incidents posted by {args.posters} posters with a "
          f"{args.pause_ms:g} ms pause" + (", alternating instances" if n > 1 else "")
          + f": {len(answered) / stats['wall']:.1f} POST/s over {stats['wall']:.1f} s")
    print(f"push latency  {_line(push)}")
    if n > 1:
        for path, values in by_path.items():
            print(f"  {path:<14}  {_line(values)}")
    print(f"POST latency  {_line([p.answered - p.sent for p in answered])}")
    print(f"  the push came before the POST's answer for {early} of {len(push)} incidents")
    print(f"dashboards    incident.created {_line(dash_latency)}")
    print(f"missed        assignment.created not on the team's socket: {missing_team}; "
          f"incident.created missing on dashboards: {missing_dash} of "
          f"{len(answered) * len(dashboards)}")
    print(f"checks        incidents without an assignment: {unassigned}; events about "
          f"another team on responder sockets: {foreign}; POST errors: "
          + (", ".join(f"{k} {v}" for k, v in errors.items()) or "0")
          + "; sockets closed during the run: "
          + (", ".join(f"{k} {v}" for k, v in dropped.items()) or "0"))
    wall = stats["wall"]
    print("CPU (timed)   " + ", ".join(f"instance {i + 1} {c:.1f} s"
                                       for i, c in enumerate(stats["service_cpu"]))
          + f", load generator {stats['client_cpu']:.1f} s; machine busy "
          f"{stats['machine_busy']:.1f} s of {wall * cpu_count():.1f} "
          f"({100 * stats['machine_busy'] / (wall * cpu_count()):.0f} %); 1-min load average "
          f"{stats['load_end']:.2f} at the end")
    if setup["log_events"]:
        print("service log   " + ", ".join(f"{name} {v}" for name, v in
                                           sorted(setup["log_events"].items())))
    return (missing_team + missing_dash + foreign + sum(errors.values())
            + sum(setup["connect_errors"].values()) + sum(dropped.values()))


# -- the run


async def run(args: argparse.Namespace) -> int:
    sockets_needed = args.teams + args.dashboards
    nofile = raise_nofile(sockets_needed + 200)
    host = machine()
    bodies = make_bodies(args.warmup + args.incidents, args.seed + 1)
    compression = None if args.no_deflate else "deflate"
    logs = Path(tempfile.mkdtemp(prefix="d112-bench-log-"))
    failures = 1
    try:
        async with fresh_database(fast=args.fast) as database, AsyncExitStack() as stack:
            fleet = await prepare(database.dsn, args)
            services = [await stack.enter_async_context(service_process(
                database.dsn, logs / f"service-{i + 1}.log", args.log_level))
                for i in range(args.instances)]
            urls, pids = [url for url, _ in services], [pid for _, pid in services]
            token = fleet.operator_tokens[0]
            await warm_up(urls, token, bodies[:args.warmup], compression)
            await asyncio.sleep(1.0)
            before = [rss_kib(pid) for pid in pids]
            sockets, connect_times, connect_errors, connect_wall = await open_sockets(
                urls, fleet, args, compression)
            await asyncio.sleep(args.idle_s)
            rss = [(pid, b, rss_kib(pid)) for pid, b in zip(pids, before, strict=True)]
            try:
                async with open_clients(urls, token, args.posters) as clients:
                    posts, stats = await timed_phase(clients, bodies[args.warmup:], sockets,
                                                     args, pids)
            finally:
                client_rss = rss_kib(os.getpid())
                await close_sockets(sockets, args.batch)
            setup = {"host": host, "version": database.server_version,
                     "origin": database.origin, "kinds": fleet.kinds,
                     "districts": fleet.districts, "nofile": nofile,
                     "compression": compression, "connect_times": connect_times,
                     "connect_errors": connect_errors, "connect_wall": connect_wall,
                     "rss": rss, "client_rss": client_rss, "log_events": Counter()}
            for i in range(args.instances):
                setup["log_events"].update(observe.log_event_counts(logs / f"service-{i + 1}.log"))
            failures = report(args, setup, sockets, posts, stats)
    finally:
        if failures:
            print(f"service logs kept: {logs}")
        else:
            shutil.rmtree(logs, ignore_errors=True)
    return 1 if failures else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m load.bench_push",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, choices=(1, 2), default=1,
                        help="service processes sharing the database (1)")
    parser.add_argument("--teams", type=int, default=1000,
                        help="on-duty teams, one responder socket each (1000)")
    parser.add_argument("--dashboards", type=int, default=20, help="operator sockets (20)")
    parser.add_argument("--incidents", type=int, default=300,
                        help="timed incidents (default 300, at most 2000)")
    parser.add_argument("--posters", type=int, default=10, help="concurrent posters (10)")
    parser.add_argument("--pause-ms", type=float, default=1000.0,
                        help="pause of a poster after each answer (1000: about 10 POST/s "
                             "in all, far from saturating a 2-core machine)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed incidents first (10)")
    parser.add_argument("--batch", type=int, default=50, help="sockets opened at a time (50)")
    parser.add_argument("--idle-s", type=float, default=3.0,
                        help="idle time before memory is read (3)")
    parser.add_argument("--settle-s", type=float, default=10.0,
                        help="longest wait for late frames after the last answer (10)")
    parser.add_argument("--max-seconds", type=float, default=300.0,
                        help="stop posting after this long (default 300)")
    parser.add_argument("--seed", type=int, default=112)
    parser.add_argument("--no-deflate", action="store_true",
                        help="clients do not offer permessage-deflate (browsers do)")
    parser.add_argument("--districts", default=str(DISTRICTS_FILE),
                        help="kecamatan GeoJSON to import ('' for none); read, never copied")
    parser.add_argument("--log-level", default="info",
                        help="DISPATCH112_LOG_LEVEL of the service processes (default info)")
    parser.add_argument("--fast", action="store_true",
                        help="embedded server with fsync off (no effect with DATABASE_URL)")
    args = parser.parse_args(argv)
    if not (1 <= args.teams <= 5000 and 0 <= args.dashboards <= 200
            and 1 <= args.incidents <= 2000 and 1 <= args.posters <= 100
            and 0 <= args.pause_ms <= 10_000 and 0 <= args.warmup <= 100
            and 1 <= args.batch <= 500 and 0 <= args.idle_s <= 60
            and 0 <= args.settle_s <= 60 and 0 < args.max_seconds <= 1800):
        parser.error("teams 1..5000, dashboards 0..200, incidents 1..2000, posters 1..100, "
                     "pause-ms 0..10000, warmup 0..100, batch 1..500, idle-s 0..60, "
                     "settle-s 0..60, max-seconds 0..1800")
    return args


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(asyncio.run(run(parse_args(argv))))


if __name__ == "__main__":
    main()
