"""The 112 line and its backup numbers."""

from __future__ import annotations

import asyncpg


async def upsert_line(conn: asyncpg.Connection, number: str, label: str, priority: int,
                      probe: dict) -> int:
    return await conn.fetchval(
        """INSERT INTO lines (number, label, priority, probe) VALUES ($1, $2, $3, $4)
           ON CONFLICT (number) DO UPDATE SET label = EXCLUDED.label,
               priority = EXCLUDED.priority, probe = EXCLUDED.probe
           RETURNING id""", number, label, priority, probe)


async def line_exists(conn: asyncpg.Connection, line_id: int) -> bool:
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM lines WHERE id = $1)", line_id)


async def get_lines(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, number, label, priority, probe, state FROM lines ORDER BY priority, id")
