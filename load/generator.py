"""One load generator for the whole service: open-loop Poisson arrivals of calls,
responder bots on /ws that walk their steps and send GPS fixes, dashboards, pranks and
duplicates, one or more instances; then the baselines of the same machine.

    .venv/bin/python -m load.generator --rate 50,100,200 --seconds 60 [--instances 2]
        [--teams 1000] [--dashboards 20] [--out load/results/NAME] [--profile]

Each offered rate is a phase of `--seconds`: calls arrive at exponential intervals
whatever the service answers (an arrival waits for nothing but a free client
connection, and its clock starts at its scheduled time). A share of calls are pranks
(`POST /calls`, then ended `prank`) or duplicates (ended `duplicate` of an earlier
incident); the rest post an incident. End-to-end dispatch latency runs from the
POST's scheduled time to `assignment.created` on the assigned team's socket; for an
incident that waited in the queue, from its allocation event's time. A progress bar
runs meanwhile; at the end a JSON summary and plots go to `--out` (load/report.py).

DATABASE_URL names a server to make a fresh database on (dropped afterwards);
without it an embedded PostgreSQL is started in a temp dir and removed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from db.pool import connect
from load import baselines, bots, observe, report
from load.bench_push import make_bodies, prepare, raise_nofile
from load.common import DISTRICTS_FILE, fresh_database, machine
from load.httpclient import Client, HttpError
from load.service import service_process

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "load" / "results"


@dataclass
class Arrival:
    """One call of the run: what it was, when it was due, what became of it."""

    index: int
    kind: str  # "incident", "prank" or "duplicate"
    rate: float
    due: float  # perf time it was scheduled for (the latency clock starts here)
    instance: int
    sent: float = 0.0
    answered: float = 0.0
    status: int = 0
    incident_id: int | None = None
    team_id: int | None = None
    queued: bool = False
    error: str | None = None
    server_ms: float | None = None  # the service's own time for the incident's POST


@dataclass
class Run:
    args: argparse.Namespace
    clients: list[Client]
    bodies: list[dict]
    rng: random.Random
    arrivals: list[Arrival] = field(default_factory=list)
    incident_ids: list[int] = field(default_factory=list)
    tasks: set[asyncio.Task] = field(default_factory=set)


async def _post(run: Run, a: Arrival) -> None:
    """The requests of one call; records the incident's answer."""
    client = run.clients[a.instance]
    body = run.bodies[a.index % len(run.bodies)]
    key = {"Idempotency-Key": uuid.uuid4().hex}
    a.sent = time.perf_counter()
    try:
        if a.kind == "incident":
            a.status, answer, a.server_ms = await client.request("POST", "/api/v1/incidents",
                                                                 body, key)
            a.answered = time.perf_counter()
            if a.status == 201:
                a.incident_id = answer["id"]
                run.incident_ids.append(a.incident_id)
                a.queued = answer.get("assignment") is None
                if not a.queued:
                    a.team_id = answer["assignment"]["team_id"]
            else:
                a.error = f"HTTP {a.status}"
            return
        a.status, call, _ = await client.request("POST", "/api/v1/calls",
                                              {"caller_number": body["caller_number"]})
        end = {"disposition": a.kind}
        if a.kind == "duplicate" and run.incident_ids:
            end["incident_id"] = run.rng.choice(run.incident_ids[-50:])
        if a.status == 201:
            a.status, _, _ = await client.request("POST", f"/api/v1/calls/{call['id']}/end",
                                                  end)
        a.answered = time.perf_counter()
        if a.status != 200:
            a.error = f"HTTP {a.status}"
    except HttpError as exc:
        a.error = str(exc)


def _kind(run: Run) -> str:
    draw = run.rng.random()
    if draw < run.args.prank_share:
        return "prank"
    if draw < run.args.prank_share + run.args.duplicate_share:
        return "duplicate"
    return "incident"


async def arrivals(run: Run, rate: float, seconds: float, bar: tqdm) -> None:
    """Open loop: calls at exponential intervals (mean 1/rate) for `seconds`."""
    start = time.perf_counter()
    due, shown = start, start
    while True:
        due += run.rng.expovariate(rate)
        if due - start > seconds:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        a = Arrival(len(run.arrivals), _kind(run), rate, due,
                    0 if run.args.split else len(run.arrivals) % len(run.clients))
        run.arrivals.append(a)
        task = asyncio.create_task(_post(run, a))
        run.tasks.add(task)
        task.add_done_callback(run.tasks.discard)
        if due - shown >= 1.0:
            bar.update(1)
            shown += 1.0
            bar.set_postfix(rate=rate, calls=len(run.arrivals), in_flight=len(run.tasks),
                            errors=sum(1 for x in run.arrivals if x.error))
    await asyncio.sleep(max(0.0, start + seconds - time.perf_counter()))
    bar.update(int(seconds) - int(shown - start))


async def open_fleet(urls: list[str], fleet, args, tally: bots.Tally,
                     walk: bots.Walk) -> tuple[list[bots.Sock], Counter, float]:
    """Dashboards, then one bot per team, 50 at a time; socket i to instance i mod n
    (with --split, to instances 2..n: the first takes the calls alone)."""
    first, n = (1, len(urls) - 1) if args.split else (0, len(urls))
    plan = [(bots.Sock("dashboard", first + j % n, None), fleet.operator_tokens[j + 1])
            for j in range(args.dashboards)]
    plan += [(bots.Sock("responder", first + i % n, team_id), token)
             for i, (team_id, token) in enumerate(fleet.team_tokens)]
    errors: Counter = Counter()
    compression = None if args.no_deflate else "deflate"
    started = time.perf_counter()
    with tqdm(total=len(plan), desc="sockets", unit="sock", leave=False) as bar:
        for at in range(0, len(plan), 50):
            group = plan[at:at + 50]
            oks = await asyncio.gather(*(bots.open_sock(
                f"{urls[s.instance].replace('http', 'ws', 1)}/ws", token, s, compression,
                errors, batch=not args.no_batch, page_events=not args.all_events)
                for s, token in group))
            bar.update(len(group))
            for (sock, _), ok in zip(group, oks, strict=True):
                if ok:
                    bots.start(sock, tally, walk, args.seed + (sock.team_id or 0),
                               fleet.bases.get(sock.team_id))
    return [s for s, _ in plan if s.ws is not None], errors, time.perf_counter() - started


async def _router(spec: str, folder: Path) -> str:
    """DISPATCH112_ROUTER for the services. `synthetic[:SIDE]`: the synthetic road city
    of load.bench_roads (SIDE x SIDE junctions over Parepare's box, default 224: 50,176
    road nodes), written to `folder` and its graph built once before the services start
    (each would otherwise build it at start-up)."""
    if not spec.startswith("synthetic"):
        return spec
    from load.bench_roads import build_city
    side = int(spec.partition(":")[2] or 224)
    path, _ = build_city(folder, side, 112)
    build = await asyncio.create_subprocess_exec(
        os.sys.executable, "-m", "dispatch.cli", "roads", "import", str(path),
        cwd=ROOT, stdout=asyncio.subprocess.DEVNULL)
    if await build.wait() != 0:
        raise SystemExit("dispatch112 roads import failed for the synthetic city")
    return f"osm:{path}"


async def _bases(dsn: str) -> dict[int, tuple[float, float]]:
    conn = await connect(dsn)
    try:
        return {r["id"]: (r["base_lat"], r["base_lon"])
                for r in await conn.fetch("SELECT id, base_lat, base_lon FROM teams")}
    finally:
        await conn.close()


async def _settle(run: Run, socks: list[bots.Sock], seconds: float) -> None:
    """Wait for answers in flight and late frames, within `seconds`."""
    teams = {s.team_id: s for s in socks if s.role == "responder"}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waiting = run.tasks or any(a.team_id is not None and a.incident_id not in
                                   teams.get(a.team_id, bots.Sock("x", 0, None)).assigned
                                   for a in run.arrivals)
        if not waiting:
            return
        await asyncio.sleep(0.1)


def _profile(pid: int, seconds: float, out: Path) -> subprocess.Popen | None:
    """py-spy sampling the service process for `seconds` (collapsed stacks)."""
    spy = shutil.which("py-spy") or str(Path(os.sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("py-spy not found: no profile")
        return None
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(int(seconds)),
                             "--rate", "200", "--format", "raw", "--nonblocking",
                             "-o", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _describe_waits(counts: Counter, piles: list, *, wall_start: float) -> dict:
    """pg_stat_activity's waits over the phases: the commonest, and the pile-ups (three
    or more sessions on one wait), with seconds into the phases."""
    return {"session_samples": dict(counts.most_common(12)),
            "pile_ups": [(round(at - wall_start, 2), what, n) for at, what, n in piles][:200]}


# --pg-log: what PostgreSQL itself says of a stall (the lock it waited for and who held
# it, a vacuum, a checkpoint).
PG_DIAGNOSIS = {"log_lock_waits": "on", "deadlock_timeout": "100ms",
                "log_autovacuum_min_duration": "0", "log_checkpoints": "on"}


async def measure(args: argparse.Namespace, out: Path) -> dict:
    raise_nofile(args.teams + args.dashboards + 500)
    bodies = make_bodies(max(2000, int(max(args.rate) * args.seconds) + 100), args.seed + 1)
    logs = Path(tempfile.mkdtemp(prefix="d112-gen-log-"))
    extra_env = {"DISPATCH112_ROUTER": await _router(args.router, logs)} if args.router else {}
    summary: dict = {"machine": machine(), "args": vars(args)}
    async with fresh_database(fast=args.fast, settings=PG_DIAGNOSIS if args.pg_log else None,
                              keep_log=out / "postgresql.log" if args.pg_log else None
                              ) as database:
        fleet = await prepare(database.dsn, args)
        fleet.bases = await _bases(database.dsn)
        summary["postgres"] = f"{database.server_version} ({database.origin})"
        async with AsyncExitStack() as stack:
            services = [await stack.enter_async_context(service_process(
                database.dsn, logs / f"service-{i + 1}.log", args.log_level, extra_env))
                for i in range(args.instances)]
            urls, pids = [u for u, _ in services], [p for _, p in services]
            clients = [Client(u, fleet.operator_tokens[0], args.connections) for u in urls]
            run = Run(args, clients, bodies, random.Random(args.seed))
            for k in range(10 * len(urls)):  # warm-up, untimed
                await clients[k % len(urls)].request("POST", "/api/v1/incidents", bodies[-1 - k])
            tally = bots.Tally()
            busy_s = args.busy_share * args.teams / max(args.rate)  # mean busy time a call
            walk = bots.Walk(step_s=busy_s / 5, fix_every_s=args.fix_every)
            socks, connect_errors, connect_s = await open_fleet(urls, fleet, args, tally, walk)
            # Phones connect over a shift change, not thousands in seconds: measure the
            # steady state, once every phone has sent fixes and the service has
            # digested the connection storm.
            await asyncio.sleep(args.warmup_s)
            gc.collect()
            # The generator's own collections would show as latency: none during the
            # phases (bounded in time; its cycles wait for the end). A full collection
            # over 5,000 sockets' objects stalled it for up to 200 ms.
            gc.freeze()
            gc.disable()
            before = ([observe.cpu_seconds(p) for p in pids], observe.own_cpu_seconds(),
                      observe.machine_busy_seconds(), time.perf_counter(), tally.fixes_sent)
            spy = (_profile(pids[0], len(args.rate) * args.seconds, out / "profile.raw")
                   if args.profile else None)
            lag = observe.LoopLag()
            lag.start()
            waits_stop = asyncio.Event()
            waits = (asyncio.create_task(observe.sample_waits(database.dsn, waits_stop))
                     if args.pg_log else None)
            phases = [time.time()]  # wall times, to match the service's log
            with tqdm(total=len(args.rate) * int(args.seconds), desc="load", unit="s",
                      mininterval=1.0) as bar:
                for rate in args.rate:
                    await arrivals(run, rate, args.seconds, bar)
            wall = time.perf_counter() - before[3]
            generator_lag = report.stats_ms(lag.stop())
            waits_stop.set()
            if waits is not None:
                summary["pg_waits"] = _describe_waits(*await waits, wall_start=phases[0])
            gc.enable()
            phases.append(time.time())
            fixes = tally.fixes_sent - before[4]
            cpu = {"service_s": [round(observe.cpu_seconds(p) - b, 1)
                                 for p, b in zip(pids, before[0], strict=True)],
                   "generator_s": round(observe.own_cpu_seconds() - before[1], 1),
                   "machine_busy_share": round((observe.machine_busy_seconds() - before[2])
                                               / (wall * os.cpu_count()), 3)}
            await _settle(run, socks, args.settle_s)
            for task in list(run.tasks):  # unanswered after the settle time: counted, not
                task.cancel()            # left to fail once the services are stopped
            for a in run.arrivals:
                if not a.answered and a.error is None:
                    a.error = "no answer before the end"
            bots.stop_activity(socks)
            if spy is not None:
                await asyncio.to_thread(spy.wait)
            await asyncio.sleep(1.0)
            conn = await connect(database.dsn)
            try:
                db_rows = await report.fetch_truth(conn)
            finally:
                await conn.close()
            for c in clients:
                await c.close()
            await bots.close_all(socks)
        summary.update(report.summarise(run.arrivals, socks, tally, db_rows, args))
        summary["cpu"], summary["wall_s"] = cpu, round(wall, 1)
        summary["generator_loop_lag"] = generator_lag
        summary["gps_fixes_per_s"] = round(fixes / wall, 1)
        summary["connect"] = {"seconds": round(connect_s, 1), "errors": dict(connect_errors)}
        summary["service_log"] = dict(sum((observe.log_event_counts(
            logs / f"service-{i + 1}.log") for i in range(args.instances)), Counter()))
        summary["slow_gc"] = report.summarise_collections(
            [c for i in range(args.instances)
             for c in observe.slow_collections(logs / f"service-{i + 1}.log", *phases)])
        summary["slow_loop"] = report.stats_ms([ms / 1000 for i in range(args.instances)
                                                for ms in observe.slow_loop_steps(
                                                    logs / f"service-{i + 1}.log", *phases)])
        for i in range(args.instances):
            observe.keep_warnings(logs / f"service-{i + 1}.log",
                                  out / f"service-{i + 1}.warnings.log")
        event_rate = max((len(s.seqs) for s in socks if s.role == "dashboard"),
                         default=0) / wall
        summary["events_per_s_on_a_dashboard"] = round(event_rate, 1)
        if args.baselines:
            summary["baselines"] = await run_baselines(database.dsn, args,
                                                       max(event_rate, max(args.rate)))
    shutil.rmtree(logs, ignore_errors=True)
    return summary


async def run_baselines(dsn: str, args: argparse.Namespace, event_rate: float) -> dict:
    print("baselines: bare database loop (with the event-log lock, then without) ...")
    db = await baselines.db_loop(dsn, teams=args.teams, connections=10 * args.instances)
    print("baselines: bare websockets broadcast ...")
    ws = await baselines.ws_broadcast(sockets=args.teams, dashboards=args.dashboards,
                                      rate=event_rate, seconds=min(args.seconds, 30),
                                      compression=None if args.no_deflate else "deflate")
    return {"db": db, "ws": ws}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m load.generator",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--rate", default="10", help="offered calls per second, one phase each: "
                                                "'50,100,200' (default 10)")
    p.add_argument("--seconds", type=float, default=60.0, help="length of each phase (60)")
    p.add_argument("--instances", type=int, default=1, help="service processes (1..4)")
    p.add_argument("--teams", type=int, default=1000, help="teams, one bot socket each (1000)")
    p.add_argument("--dashboards", type=int, default=20, help="operator sockets (20)")
    p.add_argument("--prank-share", type=float, default=0.1, help="share of pranks (0.1)")
    p.add_argument("--duplicate-share", type=float, default=0.05,
                   help="share of duplicate calls of an earlier incident (0.05)")
    p.add_argument("--busy-share", type=float, default=0.5,
                   help="bots walk their steps fast enough that this share of the fleet is "
                        "busy at the highest rate (0.5)")
    p.add_argument("--fix-every", type=float, default=10.0, help="GPS fix period per bot (10 s)")
    p.add_argument("--connections", type=int, default=64,
                   help="HTTP keep-alive connections per instance (64)")
    p.add_argument("--warmup-s", type=float, default=10.0,
                   help="after connecting, fixes only, no calls, before measuring (10)")
    p.add_argument("--settle-s", type=float, default=15.0, help="wait for late frames (15)")
    p.add_argument("--router", default="", help="DISPATCH112_ROUTER of the services "
                   "(default: theirs), or synthetic[:SIDE] for load.bench_roads' road city")
    p.add_argument("--no-baselines", dest="baselines", action="store_false")
    p.add_argument("--profile", action="store_true",
                   help="py-spy samples instance 1 during the phases (profile.raw in --out)")
    p.add_argument("--pg-log", action="store_true",
                   help="the embedded PostgreSQL logs lock waits over 100 ms, autovacuum "
                        "and checkpoints; its log is kept in --out")
    p.add_argument("--split", action="store_true",
                   help="with --instances 2 or more: the calls to the first instance "
                        "alone, every socket to the others (an API and a socket hub)")
    p.add_argument("--no-batch", action="store_true",
                   help="dashboards take every frame alone (they ask for batch frames, "
                        "as the dashboard page does)")
    p.add_argument("--all-events", action="store_true",
                   help="phones ask for every event they may see (their team's positions "
                        "too), not only those the team's page asks for")
    p.add_argument("--no-deflate", action="store_true",
                   help="clients do not offer permessage-deflate (browsers do)")
    p.add_argument("--districts", default=str(DISTRICTS_FILE))
    p.add_argument("--out", default="", help="directory for summary.json and the plots "
                                             "(default load/results/<time>)")
    p.add_argument("--log-level", default="info", help="the service's log level (info)")
    p.add_argument("--seed", type=int, default=112)
    p.add_argument("--fast", action="store_true", help="embedded server with fsync off")
    args = p.parse_args(argv)
    args.rate = [float(r) for r in args.rate.split(",") if r.strip()]
    args.incidents, args.posters = 0, 0  # bench_push's prepare reads neither
    if not (args.rate and all(0 < r <= 1000 for r in args.rate) and len(args.rate) <= 10
            and 1 <= args.seconds <= 600 and 1 <= args.instances <= 4
            and 1 <= args.teams <= 10_000 and 0 <= args.dashboards <= 200
            and 0 <= args.prank_share + args.duplicate_share < 1
            and 0 < args.busy_share <= 1 and 0 <= args.fix_every <= 600
            and 1 <= args.connections <= 500 and 0 <= args.settle_s <= 120
            and 0 <= args.warmup_s <= 120 and (args.instances > 1 or not args.split)):
        p.error("rates 0..1000 (at most 10), seconds 1..600, instances 1..4, teams "
                "1..10000, dashboards 0..200, shares below 1, busy-share 0..1, fix-every "
                "0..600, connections 1..500, settle-s and warmup-s 0..120, --split with 2 "
                "instances or more")
    return args


def _run(main_coroutine):
    """On uvloop, as the service (when installed): every socket's frames and timers go
    through this process's loop, and its delays are in every latency it measures."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main_coroutine)
    return uvloop.run(main_coroutine)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    out = Path(args.out) if args.out else RESULTS / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    summary = _run(measure(args, out))
    failures = report.write(summary, out)
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
