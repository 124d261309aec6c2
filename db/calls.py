"""Calls received on the 112 lines."""

from __future__ import annotations

from datetime import datetime

import asyncpg

CALL_COLUMNS = """id, caller_number, line_id, status, disposition, incident_id,
    received_at, ended_at, created_by"""


async def insert_call(conn: asyncpg.Connection, *, caller_number: str, line_id: int | None,
                      received_at: datetime | None, created_by: str) -> asyncpg.Record:
    return await conn.fetchrow(
        f"""INSERT INTO calls (caller_number, line_id, received_at, created_by)
            VALUES ($1, $2, coalesce($3, now()), $4) RETURNING {CALL_COLUMNS}""",
        caller_number, line_id, received_at, created_by)


async def get_call(conn: asyncpg.Connection, call_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {CALL_COLUMNS} FROM calls WHERE id = $1", call_id)


async def end_call(conn: asyncpg.Connection, call_id: int, disposition: str,
                   incident_id: int | None) -> asyncpg.Record | None:
    """End an open call; None when it is not open (any more)."""
    return await conn.fetchrow(
        f"""UPDATE calls SET status = 'ended', disposition = $2,
                incident_id = coalesce($3, incident_id), ended_at = now()
            WHERE id = $1 AND status = 'open' RETURNING {CALL_COLUMNS}""",
        call_id, disposition, incident_id)


async def link_call_incident(conn: asyncpg.Connection, call_id: int, incident_id: int) -> None:
    await conn.execute(
        "UPDATE calls SET incident_id = $2 WHERE id = $1 AND incident_id IS NULL",
        call_id, incident_id)
