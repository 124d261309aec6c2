"""The append-only event log."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db.pool import encode_json

NOTIFY_CHANNEL = "dispatch112_events"


async def append_event(conn: asyncpg.Connection, name: str, *, actor: str, data: dict,
                       incident_id: int | None = None, team_id: int | None = None) -> int:
    """Append one event in the caller's transaction; return its seq."""
    rows = await conn.fetch(
        _APPEND, [name], [actor], [encode_json(data)], [incident_id], [team_id])
    return rows[0]["seq"]


# The transaction's id is taken (materialised) before any row's seq: a reader that saw
# a seq handed out knows its writer's xid was already assigned (see get_snapshot_bounds).
_APPEND = """
    WITH x AS MATERIALIZED (SELECT pg_current_xact_id() AS xid),
         rows AS (
             INSERT INTO events (name, actor, data, incident_id, team_id, xid)
             SELECT e.name, e.actor, e.data::jsonb, e.incident_id, e.team_id, x.xid
             FROM x, unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
                  WITH ORDINALITY AS e (name, actor, data, incident_id, team_id, pos)
             ORDER BY e.pos
             RETURNING seq, at)
    SELECT seq, at FROM rows ORDER BY seq"""


async def append_events(conn: asyncpg.Connection, events: list) -> list[asyncpg.Record]:
    """Append events (objects with name, actor, data, incident_id, team_id) in order, in
    one statement (one round trip); return each row's seq and at, in the order given
    (rows get their seq in that order). Writers do not wait for each other: seq order
    is not commit order, and readers keep to the safe horizon (get_snapshot_bounds)."""
    return await conn.fetch(
        _APPEND, [e.name for e in events], [e.actor for e in events],
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
                           upto: int | None = None,
                           names: list[str] | None = None) -> list[asyncpg.Record]:
    """Committed events after `after_seq` up to `upto`, in seq order; only the team's
    own when `team_id` is given, only those named in `names` when given. Seqs are
    handed out at insert, not at commit: callers pass a safe horizon as `upto`
    (realtime/hub.py), below which no event can still commit."""
    return await conn.fetch(
        """SELECT seq, at, name, incident_id, team_id, data FROM events
           WHERE seq > $1 AND ($2::bigint IS NULL OR team_id = $2)
             AND ($4::bigint IS NULL OR seq <= $4)
             AND ($5::text[] IS NULL OR name = ANY($5))
           ORDER BY seq LIMIT $3""", after_seq, team_id, limit, upto, names)


async def get_allocated_seq(conn: asyncpg.Connection) -> int:
    """The last seq handed out to any writer, committed or not (0: none yet). Read
    before get_snapshot_bounds, in an earlier statement.

    Through pg_sequence_last_value, which reads the sequence's page under its buffer
    lock, not by a SELECT from the sequence: a nextval that logs the sequence (one in
    32, and the first after a checkpoint) writes the value 32 ahead into the page
    while it logs it, then puts the true one back, and a SELECT reads the page after
    letting go of the lock. A reader that caught the value ahead
    took 32 seqs not yet handed out for ended writers, and the hub moved past them: the
    next 32 events, committed after, reached no socket (seen at 50-100 calls a second:
    docs/performance.md, the fifteenth round)."""
    return await conn.fetchval(
        "SELECT coalesce(pg_sequence_last_value('events_seq_seq'::regclass), 0)")


async def get_snapshot_bounds(conn: asyncpg.Connection) -> tuple[int, int]:
    """(xmin, bound): the xmin of a snapshot taken now (every transaction id below it
    has ended), and a transaction id assigned now to this statement, above every id
    assigned before it. Every seq handed out before this statement (get_allocated_seq)
    belongs to a writer with a smaller id (writers take their id before their seq), so
    once a later snapshot's xmin reaches `bound`, all those seqs are final: committed or
    never to be.

    Not the snapshot's xmax: that is one past the latest *completed* id, and a writer
    whose id is above it may still be running (the newest writers, while none after them
    has ended); a horizon built on xmax pushed seqs past such a writer's, which then
    committed and were never sent. The id costs a commit record with no data, not
    waited for (synchronous_commit off for this statement's transaction)."""
    row = await conn.fetchrow(
        """SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
                  pg_current_xact_id()::text AS bound,
                  set_config('synchronous_commit', 'off', true) AS lazy""")
    return int(row["xmin"]), int(row["bound"])


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
