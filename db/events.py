"""The append-only event log."""

from __future__ import annotations

import asyncpg

NOTIFY_CHANNEL = "dispatch112_events"


async def append_event(conn: asyncpg.Connection, name: str, *, actor: str, data: dict,
                       incident_id: int | None = None, team_id: int | None = None) -> int:
    """Append one event in the caller's transaction; return its seq."""
    return await conn.fetchval(
        """INSERT INTO events (name, actor, data, incident_id, team_id)
           VALUES ($1, $2, $3, $4, $5) RETURNING seq""",
        name, actor, data, incident_id, team_id)


async def get_incident_events(conn: asyncpg.Connection, incident_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT seq, name, at, actor, data, team_id FROM events
           WHERE incident_id = $1 ORDER BY seq""", incident_id)


async def get_latest_seq(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT coalesce(max(seq), 0) FROM events")


async def get_events_after(conn: asyncpg.Connection, after_seq: int,
                           limit: int = 1000) -> list[asyncpg.Record]:
    """Committed events after `after_seq`, stopping before any event whose writing
    transaction may still be in flight (so a reader never skips a later-committing seq)."""
    return await conn.fetch(
        """SELECT seq, at, name, incident_id, team_id, actor, data FROM events
           WHERE seq > $1 AND xid < pg_snapshot_xmin(pg_current_snapshot())
           ORDER BY seq LIMIT $2""", after_seq, limit)


async def do_notify(conn: asyncpg.Connection, seq: int) -> None:
    """Wake listeners: carries the newest seq; sent outside the writing transaction."""
    await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(seq))
