"""The block list of numbers (pranks, abuse): one row per decision, never deleted."""

from __future__ import annotations

from datetime import datetime

import asyncpg

BLOCK_COLUMNS = """id, number, reason, created_at, created_by, expires_at, lifted_at,
    lifted_by"""


async def get_live_block(conn: asyncpg.Connection, number: str) -> asyncpg.Record | None:
    """The block of `number` in force now (the one lasting longest), or None. One index
    probe (blocklist_live): the gateway asks before every call rings."""
    return await conn.fetchrow(
        f"""SELECT {BLOCK_COLUMNS} FROM blocklist
            WHERE number = $1 AND lifted_at IS NULL AND expires_at > now()
            ORDER BY expires_at DESC LIMIT 1""", number)


async def insert_block(conn: asyncpg.Connection, number: str, reason: str,
                       expires_at: datetime, created_by: str) -> asyncpg.Record:
    return await conn.fetchrow(
        f"""INSERT INTO blocklist (number, reason, expires_at, created_by)
            VALUES ($1, $2, $3, $4) RETURNING {BLOCK_COLUMNS}""",
        number, reason, expires_at, created_by)


async def lift_blocks(conn: asyncpg.Connection, number: str,
                      lifted_by: str) -> list[asyncpg.Record]:
    """Lift every block of `number` in force now; the rows lifted (none: not blocked)."""
    return await conn.fetch(
        f"""UPDATE blocklist SET lifted_at = now(), lifted_by = $2
            WHERE number = $1 AND lifted_at IS NULL AND expires_at > now()
            RETURNING {BLOCK_COLUMNS}""", number, lifted_by)


async def get_blocks(conn: asyncpg.Connection, *, live_only: bool,
                     limit: int) -> list[asyncpg.Record]:
    """Blocks newest first: only those in force now, or the whole audit trail."""
    return await conn.fetch(
        f"""SELECT {BLOCK_COLUMNS} FROM blocklist
            WHERE NOT $1 OR (lifted_at IS NULL AND expires_at > now())
            ORDER BY created_at DESC, id DESC LIMIT $2""", live_only, limit)


async def delete_ended_blocks(conn: asyncpg.Connection, before: datetime) -> int:
    """Delete the entries that ended (expired or lifted) before `before`; how many."""
    status = await conn.execute(
        "DELETE FROM blocklist WHERE least(expires_at, lifted_at) < $1", before)
    return int(status.split()[-1])
