"""Callers to call back: their call was open on a line that went down."""

from __future__ import annotations

import asyncpg

CALLBACK_COLUMNS = "id, call_id, caller_number, line_id, dropped_at, done_at, done_by"


async def drop_open_calls(conn: asyncpg.Connection, line_id: int) -> list[asyncpg.Record]:
    """End the calls still open on a line as `dropped`; the calls ended."""
    return await conn.fetch(
        """UPDATE calls SET status = 'ended', disposition = 'dropped', ended_at = now()
           WHERE line_id = $1 AND status = 'open'
           RETURNING id, caller_number, line_id, status, disposition, incident_id,
                     received_at, ended_at, blocked, taken_by, taken_at""", line_id)


async def insert_callback(conn: asyncpg.Connection, call_id: int, caller_number: str,
                          line_id: int | None) -> asyncpg.Record | None:
    """Queue a call for calling back; None when it is queued already."""
    return await conn.fetchrow(
        f"""INSERT INTO callbacks (call_id, caller_number, line_id) VALUES ($1, $2, $3)
            ON CONFLICT (call_id) DO NOTHING RETURNING {CALLBACK_COLUMNS}""",
        call_id, caller_number, line_id)


async def get_callbacks(conn: asyncpg.Connection, done: bool | None,
                        limit: int) -> list[asyncpg.Record]:
    """Callbacks to do first, oldest drop first (the longest waiting caller on top),
    then those done, latest first."""
    return await conn.fetch(
        f"""SELECT {CALLBACK_COLUMNS} FROM callbacks
            WHERE $1::boolean IS NULL OR (done_at IS NOT NULL) = $1
            ORDER BY done_at IS NOT NULL, CASE WHEN done_at IS NULL THEN dropped_at END,
                     done_at DESC, id
            LIMIT $2""", done, limit)


async def get_callback(conn: asyncpg.Connection, callback_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE id = $1", callback_id)


async def mark_done(conn: asyncpg.Connection, callback_id: int,
                    actor: str) -> asyncpg.Record | None:
    """Mark a callback done; None when it is unknown or done already."""
    return await conn.fetchrow(
        f"""UPDATE callbacks SET done_at = now(), done_by = $2
            WHERE id = $1 AND done_at IS NULL RETURNING {CALLBACK_COLUMNS}""",
        callback_id, actor)
