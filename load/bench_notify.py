"""What the wake-up NOTIFY costs event writers.

Every change appends its events as the last statement of its transaction (writers are
serialised by the event log's lock until COMMIT), then, after COMMIT, sends
`pg_notify` carrying the new seq. A NOTIFY inside the transaction would instead take
PostgreSQL's global notify lock at COMMIT, serialising every committing writer. This
measures, with W concurrent writers and a listener connected, the time of one write
(transaction + its notification) and the throughput in three ways:

- `none`:   the transaction only (the floor);
- `after`:  the transaction, then NOTIFY after COMMIT (what the service does);
- `inside`: NOTIFY inside the transaction (what the service avoids).

    .venv/bin/python -m load.bench_notify [--writers 20] [--writes 200]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import asyncpg

from db.events import NOTIFY_CHANNEL
from load.common import fresh_database, machine, summary_ms

INSERT = """INSERT INTO events (name, actor, data, incident_id, team_id)
            VALUES ('incident.updated', 'bench', '{"status": "assigned"}', 1, 1)
            RETURNING seq"""


async def _write(conn: asyncpg.Connection, mode: str) -> None:
    async with conn.transaction():
        seq = await conn.fetchval(INSERT)
        if mode == "inside":
            await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(seq))
    if mode == "after":
        await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(seq))


async def _writer(dsn: str, mode: str, writes: int, times: list[float]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(writes):
            start = time.perf_counter()
            await _write(conn, mode)
            times.append(time.perf_counter() - start)
    finally:
        await conn.close()


async def run_mode(dsn: str, mode: str, writers: int, writes: int) -> str:
    received = 0

    def count(*_: object) -> None:
        nonlocal received
        received += 1

    listener = await asyncpg.connect(dsn)
    await listener.add_listener(NOTIFY_CHANNEL, count)
    times: list[float] = []
    start = time.perf_counter()
    await asyncio.gather(*(_writer(dsn, mode, writes, times) for _ in range(writers)))
    wall = time.perf_counter() - start
    await asyncio.sleep(0.2)
    await listener.close()
    return (f"{mode:<7} {summary_ms(times)}  {len(times) / wall:7.0f} writes/s"
            f"  notifications received {received}")


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--writes", type=int, default=200, help="per writer (bounded)")
    args = parser.parse_args(argv)
    writes = min(args.writes, 5000)
    async with fresh_database() as database:
        print("dispatch112 NOTIFY benchmark")
        print(f"  machine      {machine()}")
        print(f"  PostgreSQL   {database.server_version} ({database.origin})")
        print(f"  load         {args.writers} writers x {writes} event writes, "
              "a listener connected")
        await run_mode(database.dsn, "none", args.writers, writes // 4 or 1)  # warm-up
        for round_ in (1, 2):
            for mode in ("none", "after", "inside"):
                print(f"round {round_}  " + await run_mode(database.dsn, mode, args.writers,
                                                          writes))


if __name__ == "__main__":
    asyncio.run(main())
