"""Which instance probes the lines: a session advisory lock, and its beat.

Advisory locks belong to one database, so instances of different databases (and
test databases side by side on one server) never contend.
"""

from __future__ import annotations

import asyncpg

from db import locks

# Arbitrary constant, like the migration lock: "this session probes the lines".


async def try_lock(conn: asyncpg.Connection) -> bool:
    """Take the monitor lock for this session, without waiting; True when held."""
    return await conn.fetchval("SELECT pg_try_advisory_lock($1)", locks.LINE_MONITOR)


async def unlock(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_unlock_all()")


async def beat(conn: asyncpg.Connection, instance_id: str) -> None:
    """The holder shows it is alive (by the database's clock)."""
    await conn.execute(
        """INSERT INTO line_monitor (region_id, instance_id, beat_at) VALUES (1, $1, now())
           ON CONFLICT (region_id) DO UPDATE SET instance_id = $1, beat_at = now()""",
        instance_id)


async def get_leader(conn: asyncpg.Connection) -> asyncpg.Record | None:
    """The last holder and how long ago it beat."""
    return await conn.fetchrow(
        """SELECT instance_id, beat_at, extract(epoch FROM now() - beat_at) AS age_s
           FROM line_monitor""")


async def end_stale_holder(conn: asyncpg.Connection, application_name: str, instance_id: str,
                           stale_s: float) -> bool:
    """End the session holding the monitor lock if it is `instance_id`'s (named by
    `application_name`) and that instance has not beaten for `stale_s`: a frozen or
    cut-off holder keeps its lock as long as its TCP connection looks open. Naming the
    instance makes sure a holder that has just taken over is never the one ended."""
    return bool(await conn.fetchval(
        """SELECT bool_or(pg_terminate_backend(a.pid))
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0
             AND l.objid = $1::oid AND l.objsubid = 1
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND a.application_name = $2
             AND EXISTS (SELECT 1 FROM line_monitor WHERE instance_id = $3
                         AND beat_at < now() - make_interval(secs => $4))""",
        locks.LINE_MONITOR, application_name, instance_id, stale_s))
