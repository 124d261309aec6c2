"""The gazetteer: named places an operator can search to set an incident's location."""

from __future__ import annotations

import asyncpg


async def upsert_place(conn: asyncpg.Connection, name: str, kind: str, lat: float,
                       lon: float) -> None:
    await conn.execute(
        """INSERT INTO places (name, kind, lat, lon) VALUES ($1, $2, $3, $4)
           ON CONFLICT (name, kind) DO UPDATE SET lat = EXCLUDED.lat, lon = EXCLUDED.lon""",
        name, kind, lat, lon)


async def search_places(conn: asyncpg.Connection, query: str,
                        limit: int = 20) -> list[asyncpg.Record]:
    """Places whose name contains `query` (any case), names starting with it first."""
    pattern = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return await conn.fetch(
        """SELECT name, kind, lat, lon FROM places
           WHERE lower(name) LIKE '%' || $1 || '%'
           ORDER BY lower(name) NOT LIKE $1 || '%', name LIMIT $2""", pattern, limit)
