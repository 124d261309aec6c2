"""Districts (kecamatan): names, centroids and, when imported, boundary polygons."""

from __future__ import annotations

import asyncpg


async def upsert_district(conn: asyncpg.Connection, name: str, centroid_lat: float,
                          centroid_lon: float, geometry: dict | None) -> int:
    """Insert or replace a district by name. A None geometry keeps an imported one."""
    return await conn.fetchval(
        """INSERT INTO districts (name, centroid_lat, centroid_lon, geometry)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (name) DO UPDATE SET
               centroid_lat = EXCLUDED.centroid_lat, centroid_lon = EXCLUDED.centroid_lon,
               geometry = coalesce(EXCLUDED.geometry, districts.geometry),
               updated_at = now()
           RETURNING id""", name, centroid_lat, centroid_lon, geometry)


async def get_districts(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, name, centroid_lat, centroid_lon, geometry FROM districts ORDER BY name")


async def get_districts_version(conn: asyncpg.Connection) -> tuple:
    """Changes whenever a district is added or replaced: the cache key of the index."""
    row = await conn.fetchrow("SELECT count(*), max(updated_at) FROM districts")
    return (row[0], row[1])
