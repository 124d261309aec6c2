"""Baselines measured in the same run as the service, so that ratios hold on a noisy
machine: what PostgreSQL alone allows, and what the socket layer alone allows.

- `db_loop`: closed-loop asyncpg connections (as many as the service's pool) running
  the service's own statement mix for one allocation, through the functions of `db/`
  the service calls, without HTTP, Starlette, routing or ranking: the incident insert
  returning it, the candidate query (the 100 nearest), the team's reservation with its
  assignment returning the team (one call), the incident's guarded update returning
  it, four event rows in one INSERT, COMMIT, NOTIFY. Once with the event
  log's writers' lock (held to COMMIT, as migrations 0002 to 0017 had it) and once
  without (as now). Teams are set free again between rounds (untimed). Then the same
  allocations one at a time on one connection: the latency PostgreSQL alone gives one
  allocation when nothing else runs, the database's share of a dispatch's latency.
- `ws_broadcast`: a bare `websockets` server in its own process, the same number of
  sockets, the same fan-out per event (one team's socket and every dashboard), the
  events per second the service's dashboards received in the run, the same frame
  size, no permessage-deflate (as the service): latency from the server's send to the
  client's receive.

    .venv/bin/python -m load.baselines ws-serve --port P   (started by ws_broadcast)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson

from db import assignments as assignments_db
from db import events as events_db
from db import incidents as incidents_db
from db import locks
from db import teams as teams_db
from db.pool import connect
from dispatch.incidents.allocation import NEAREST
from load.bots import Sock, open_sock
from load.common import percentile, random_point

GPS_FRESH_S = 300
KINDS = ["als", "bls"]
# Events an allocation writes: incident.created, assignment.created, team.updated,
# incident.updated (dispatch/incidents/).
EVENT_NAMES = ("incident.created", "assignment.created", "team.updated", "incident.updated")


class _Pending:
    """An event row as dispatch.events buffers it."""

    __slots__ = ("name", "actor", "data", "incident_id", "team_id")

    def __init__(self, name: str, data: dict, incident_id: int, team_id: int | None):
        self.name, self.actor, self.data = name, "user:baseline", data
        self.incident_id, self.team_id = incident_id, team_id


def _jsonable(row: asyncpg.Record | dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


async def _allocate_once(conn: asyncpg.Connection, rng: random.Random,
                         day_start: datetime, lock: bool) -> bool:
    """One allocation's statements in one transaction; False when no team was free."""
    lat, lon = random_point(rng)
    async with conn.transaction():
        row = await incidents_db.insert_incident(
            conn, call_id=None, caller_number="+6281234567890", lat=lat, lon=lon,
            district_id=None, address="Jl. Baseline", complaint="sesak napas", priority=1,
            required_kind=None, patients=1, notes="", received_at=None,
            created_by="user:baseline")
        incident_id, created = row["id"], _jsonable(row)
        rows = await teams_db.get_candidate_teams(conn, kinds=KINDS, gps_fresh_s=GPS_FRESH_S,
                                                  exclude=[], day_start=day_start,
                                                  near=(lat, lon), limit=NEAREST)
        for row in rows[:5]:  # nearest first; a team taken meanwhile is skipped
            allocated = await assignments_db.allocate_team(
                conn, team_id=row["id"], target="dispatched", sources=("available",),
                incident_id=incident_id, incident_target="assigned",
                incident_sources=("queued",), stamp="assigned_at", eta_s=420,
                distance_m=4600, position_source="base", eta_source="geodesic",
                gps_fresh_s=GPS_FRESH_S)
            if allocated is not None:
                break
        else:
            return False
        team = _jsonable(allocated.team)
        updated = _jsonable(allocated.incident)
        if lock:  # what the trigger of migration 0002 did until migration 0017
            await conn.execute("SELECT pg_advisory_xact_lock($1)", locks.EVENT_LOG)
        written = await events_db.append_events(conn, [
            _Pending(EVENT_NAMES[0], created, incident_id, None),
            _Pending(EVENT_NAMES[1], {"incident": updated, "team_id": row["id"]}, incident_id,
                     row["id"]),
            _Pending(EVENT_NAMES[2], team, None, row["id"]),
            _Pending(EVENT_NAMES[3], updated, incident_id, row["id"])])
    await events_db.do_notify(conn, written[-1]["seq"])
    return True


async def _free_teams(conn: asyncpg.Connection) -> None:
    """Untimed: end the baseline's assignments and make every team available again."""
    await conn.execute("""UPDATE assignments SET ended_at = now(), end_reason = 'completed'
                          WHERE ended_at IS NULL""")
    await conn.execute("UPDATE teams SET status = 'available' WHERE status <> 'available'")


async def db_round(dsn: str, *, connections: int, count: int, seed: int,
                   lock: bool) -> tuple[float, list]:
    """`count` allocations over `connections` closed-loop connections: (seconds, the
    latency of each transaction)."""
    conns = [await connect(dsn) for _ in range(connections)]
    latencies: list[float] = []
    left = [count]
    day_start = datetime.now(UTC) - timedelta(hours=12)

    async def worker(conn: asyncpg.Connection, rng: random.Random) -> None:
        while left[0] > 0:
            left[0] -= 1
            started = time.perf_counter()
            if await _allocate_once(conn, rng, day_start, lock):
                latencies.append(time.perf_counter() - started)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker(c, random.Random(seed + i)) for i, c in enumerate(conns)))
        return time.perf_counter() - started, latencies
    finally:
        for conn in conns:
            await conn.close()


# Allocations in the one-connection round (its p99: the third slowest).
ONE_AT_A_TIME = 300


def _rate_and_latency(ordered: list[float], seconds: float) -> dict:
    return {"rate_per_s": round(len(ordered) / seconds, 1),
            "p50_ms": round(percentile(ordered, 50) * 1000, 2),
            "p99_ms": round(percentile(ordered, 99) * 1000, 2)}


async def db_loop(dsn: str, *, teams: int, connections: int = 10, rounds: int = 3,
                  seed: int = 112) -> dict:
    """The bare database loop with the event log's lock and without: allocations per
    second and transaction latency, `rounds` rounds of 80 % of the teams each; then
    `one_at_a_time`: ONE_AT_A_TIME allocations in a row on one connection."""
    admin = await connect(dsn)
    result = {}
    try:
        for label, lock in (("with_lock", True), ("without_lock", False)):
            seconds, latencies = 0.0, []
            for r in range(rounds):
                await _free_teams(admin)
                took, lat = await db_round(dsn, connections=connections,
                                           count=int(teams * 0.8), seed=seed + 100 * r,
                                           lock=lock)
                seconds, latencies = seconds + took, latencies + lat
            ordered = sorted(latencies)
            result[label] = {"allocations": len(ordered), "seconds": round(seconds, 3),
                             **_rate_and_latency(ordered, seconds)}
        await _free_teams(admin)
        seconds, latencies = await db_round(dsn, connections=1, count=min(ONE_AT_A_TIME, teams),
                                            seed=seed, lock=False)
        result["one_at_a_time"] = {"allocations": len(latencies),
                                   **_rate_and_latency(sorted(latencies), seconds)}
        await _free_teams(admin)
    finally:
        await admin.close()
    return result


# -- the bare websockets broadcast


def _frame(seq: int, sample: bytes) -> str:
    return orjson.dumps({"type": "event", "seq": seq, "name": "assignment.created",
                         "at": time.time(), "data": {"pad": sample}}).decode()


async def _ws_serve(port: int, sockets: int, dashboards: int, rate: float, seconds: float,
                    frame_bytes: int, seed: int) -> None:
    """Accept `sockets` hellos, then send events at Poisson `rate` for `seconds`, each
    to one random team socket and every dashboard; then close everything."""
    from websockets.asyncio.server import broadcast, serve
    teams, dash, ready = [], [], asyncio.Event()

    async def handler(ws) -> None:
        hello = orjson.loads(await ws.recv())
        (dash if hello.get("token") == "dashboard" else teams).append(ws)
        await ws.send(orjson.dumps({"type": "welcome", "role": "x", "seq": 0}).decode())
        if len(teams) + len(dash) >= sockets:
            ready.set()
        await ws.wait_closed()

    rng, sample = random.Random(seed), "x" * frame_bytes
    # No permessage-deflate, as the service (DISPATCH112_WS_DEFLATE off).
    async with serve(handler, "127.0.0.1", port, compression=None, max_size=2**20,
                     ping_interval=None):
        print("listening", flush=True)
        await ready.wait()
        await asyncio.sleep(1.0)
        deadline, seq = time.monotonic() + seconds, 0
        next_at = time.monotonic()
        while next_at < deadline:
            next_at += rng.expovariate(rate)
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            seq += 1
            broadcast([rng.choice(teams), *dash], _frame(seq, sample))
        await asyncio.sleep(1.0)
        broadcast(teams + dash, orjson.dumps({"type": "done", "seq": seq}).decode())
        await asyncio.sleep(2.0)


async def _ws_read(sock: Sock, latencies: list[float], done: asyncio.Event,
                   sent: list[int]) -> None:
    async for text in sock.ws:
        now = time.time()
        frame = orjson.loads(text)
        if frame["type"] == "event":
            latencies.append(now - frame["at"])
        elif frame["type"] == "done":
            sent[0] = frame["seq"]
            done.set()
            return


def _spawn(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)


async def ws_broadcast(*, sockets: int, dashboards: int, rate: float, seconds: float,
                       frame_bytes: int = 1200, compression: str | None = "deflate",
                       seed: int = 112, port: int = 0) -> dict:
    """The bare broadcast: deliveries, p50/p99/max latency of send → receive."""
    from load.service import _free_port
    port = port or _free_port()
    cmd = [sys.executable, "-m", "load.baselines", "ws-serve", "--port", str(port),
           "--sockets", str(sockets + dashboards), "--rate", str(rate),
           "--seconds", str(seconds), "--frame-bytes", str(frame_bytes), "--seed", str(seed)]
    proc = _spawn(cmd)
    socks: list[Sock] = []
    try:
        await asyncio.to_thread(proc.stdout.readline)  # "listening"
        errors: Counter = Counter()
        url = f"ws://127.0.0.1:{port}/"
        plan = [("dashboard", "dashboard")] * dashboards + [("responder", "team")] * sockets
        latencies: list[float] = []
        done, sent = asyncio.Event(), [0]
        readers = []
        for at in range(0, len(plan), 50):
            batch = [(Sock(role, 0, None), token) for role, token in plan[at:at + 50]]
            oks = await asyncio.gather(*(open_sock(url, t, s, compression, errors)
                                         for s, t in batch))
            socks += [s for (s, _), ok in zip(batch, oks, strict=True) if ok]
        readers = [asyncio.create_task(_ws_read(s, latencies, done, sent)) for s in socks]
        await asyncio.wait_for(done.wait(), seconds + 60)
        await asyncio.sleep(0.5)
        for task in readers:
            task.cancel()
        ordered = sorted(latencies)
        return {"sockets": len(socks), "connect_errors": dict(errors), "events": sent[0],
                "deliveries": len(ordered), "expected": sent[0] * (1 + dashboards),
                "p50_ms": round(percentile(ordered, 50) * 1000, 2) if ordered else None,
                "p99_ms": round(percentile(ordered, 99) * 1000, 2) if ordered else None,
                "max_ms": round(ordered[-1] * 1000, 2) if ordered else None}
    finally:
        await asyncio.gather(*(s.ws.close() for s in socks), return_exceptions=True)
        proc.terminate()
        await asyncio.to_thread(proc.wait)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m load.baselines")
    parser.add_argument("what", choices=("ws-serve",))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sockets", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--frame-bytes", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=112)
    args = parser.parse_args()
    if not (1 <= args.sockets <= 20_000 and 0 < args.rate <= 5000 and 0 < args.seconds <= 600):
        parser.error("sockets 1..20000, rate 0..5000, seconds 0..600")
    asyncio.run(_ws_serve(args.port, args.sockets, 0, args.rate, args.seconds,
                          args.frame_bytes, args.seed))


if __name__ == "__main__":
    main()
