"""The append-only event log."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db.pool import encode_json

NOTIFY_CHANNEL = "dispatch112_events"


async def append_event(conn: asyncpg.Connection, name: str, *, actor: str, data: dict,
                       incident_id: int | None = None, team_id: int | None = None) -> int:
    """Append one event in the caller's transaction; return its seq."""
    return await conn.fetchval(
        """INSERT INTO events (name, actor, data, incident_id, team_id)
           VALUES ($1, $2, $3, $4, $5) RETURNING seq""",
        name, actor, data, incident_id, team_id)


async def append_events(conn: asyncpg.Connection, events: list) -> int:
    """Append events (objects with name, actor, data, incident_id, team_id) in order, in
    one statement (one round trip, one take of the writers' lock); return the last seq.
    Rows get their seq in the order given (the SELECT is ordered by position)."""
    if len(events) == 1:
        event = events[0]
        return await append_event(conn, event.name, actor=event.actor, data=event.data,
                                   incident_id=event.incident_id, team_id=event.team_id)
    return await conn.fetchval(
        """WITH rows AS (
               INSERT INTO events (name, actor, data, incident_id, team_id)
               SELECT name, actor, data::jsonb, incident_id, team_id
               FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
                    WITH ORDINALITY AS e (name, actor, data, incident_id, team_id, pos)
               ORDER BY pos
               RETURNING seq)
           SELECT max(seq) FROM rows""",
        [e.name for e in events], [e.actor for e in events],
        [encode_json(e.data) for e in events], [e.incident_id for e in events],
        [e.team_id for e in events])


async def get_incident_events(conn: asyncpg.Connection, incident_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT seq, name, at, actor, data, team_id FROM events
           WHERE incident_id = $1 ORDER BY seq""", incident_id)


async def get_latest_seq(conn: asyncpg.Connection) -> int:
    """The newest committed seq: the last row's, or the pruning horizon when every row
    up to it was pruned (the log never goes back to a seq it has shown)."""
    return await conn.fetchval(
        """SELECT greatest(coalesce(max(seq), 0),
                           (SELECT pruned_through FROM events_horizon)) FROM events""")


async def get_events_after(conn: asyncpg.Connection, after_seq: int, *,
                           team_id: int | None = None, limit: int = 500,
                           upto: int | None = None) -> list[asyncpg.Record]:
    """Committed events after `after_seq`, in seq order; only the team's own when
    `team_id` is given. Event writers are serialised (migration 0002), so no event
    below the last one returned can still commit later."""
    return await conn.fetch(
        """SELECT seq, at, name, incident_id, team_id, data FROM events
           WHERE seq > $1 AND ($2::bigint IS NULL OR team_id = $2)
             AND ($4::bigint IS NULL OR seq <= $4)
           ORDER BY seq LIMIT $3""", after_seq, team_id, limit, upto)


async def get_pruned_through(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT pruned_through FROM events_horizon")


async def get_prunable_through(conn: asyncpg.Connection, older_than: datetime,
                               active_states: list[str]) -> int:
    """The highest seq that may be pruned: events older than `older_than`, but none
    from the first event of an incident still active (its timeline stays whole)."""
    return await conn.fetchval(
        """SELECT least(
               (SELECT coalesce(max(seq), 0) FROM events WHERE at < $1),
               (SELECT coalesce(min(e.seq) - 1, 9223372036854775806)
                FROM incidents i JOIN events e ON e.incident_id = i.id
                WHERE i.status = ANY($2)))""", older_than, active_states)


async def prune_events(conn: asyncpg.Connection, through_seq: int) -> int:
    """Delete events up to `through_seq`; clients resuming from below must resync."""
    await conn.execute(
        "UPDATE events_horizon SET pruned_through = greatest(pruned_through, $1)", through_seq)
    status = await conn.execute("DELETE FROM events WHERE seq <= $1", through_seq)
    return int(status.split()[-1])


async def do_notify(conn: asyncpg.Connection, seq: int) -> None:
    """Wake listeners: carries the newest seq; sent outside the writing transaction."""
    await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(seq))
