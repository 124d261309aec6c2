"""What the event log's writes cost a transaction, alone: four events (an allocation's)
written one INSERT each or in one INSERT ... unnest, by 10 connections at once through
the writers' lock, with and without asyncpg's session reset on releasing a pooled
connection. fsync stays on (the lock is held until COMMIT, and COMMIT waits for it).

    .venv/bin/python -m load.bench_event_writes [--transactions 2000] [--connections 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import asyncpg

from db import events as events_db
from db import locks
from db.pool import _init_connection, _keep_session
from load.common import fresh_database, machine, summary_ms


class _Event:
    __slots__ = ("name", "actor", "data", "incident_id", "team_id")

    def __init__(self, name: str, team_id: int) -> None:
        self.name, self.actor, self.team_id, self.incident_id = name, "user:bench", team_id, None
        self.data = {"id": team_id, "code": f"B{team_id:04d}", "status": "dispatched",
                     "note": "x" * 600}


async def _one_by_one(conn, events) -> int:
    seq = 0
    for e in events:
        seq = await events_db.append_event(conn, e.name, actor=e.actor, data=e.data,
                                           incident_id=e.incident_id, team_id=e.team_id)
    return seq


def _locked(write):
    async def locked(conn, events) -> int:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", locks.EVENT_LOG)
        return await write(conn, events)
    return locked


async def _round(dsn: str, write, reset, args) -> tuple[float, list[float]]:
    pool = await asyncpg.create_pool(dsn, min_size=args.connections,
                                     max_size=args.connections, init=_init_connection,
                                     reset=reset)
    left, latencies = [args.transactions], []

    async def worker(k: int) -> None:
        events = [_Event(n, k + 1) for n in ("incident.created", "assignment.created",
                                              "team.updated", "incident.updated")]
        while left[0] > 0:
            left[0] -= 1
            started = time.perf_counter()
            async with pool.acquire() as conn:
                async with conn.transaction():
                    await conn.execute("SELECT 1")  # the transaction's other work
                    await write(conn, events)
            latencies.append(time.perf_counter() - started)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(args.connections)))
        return time.perf_counter() - started, latencies
    finally:
        await pool.close()


async def run(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}")
    async with fresh_database() as db:
        print(f"PostgreSQL {db.server_version} ({db.origin}); {args.transactions} "
              f"transactions of 4 events, {args.connections} connections")
        for lock in (True, False):
            print(f" writers' lock (held to COMMIT, migrations 0002-0017): "
                  f"{'on' if lock else 'off'}")
            for label, write in (("one INSERT per event", _one_by_one),
                                 ("one INSERT ... unnest", events_db.append_events)):
                for reset_label, reset in (("asyncpg reset", None), ("no reset", _keep_session)):
                    wall, lat = await _round(db.dsn, _locked(write) if lock else write,
                                             reset, args)
                    print(f"  {label:<22} {reset_label:<14} "
                          f"{args.transactions / wall:7.0f} tx/s  {summary_ms(lat)}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m load.bench_event_writes")
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args()
    if not (1 <= args.transactions <= 100_000 and 1 <= args.connections <= 100):
        parser.error("transactions 1..100000, connections 1..100")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
