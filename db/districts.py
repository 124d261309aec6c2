"""Districts: kecamatan (incidents are located in these) and kelurahan (drawn on the
map), with names, centroids, population and, when imported, boundary polygons."""

from __future__ import annotations

import asyncpg


async def upsert_district(conn: asyncpg.Connection, name: str, centroid_lat: float,
                          centroid_lon: float, geometry: dict | None, *,
                          level: str = "kecamatan", population: int | None = None) -> int:
    """Insert or replace the district (level, name); return its id. A None geometry or
    population keeps the stored one; a row that would not change is not written (its
    updated_at stays), so loading the same data again changes nothing."""
    district_id = await conn.fetchval(
        """INSERT INTO districts (level, name, centroid_lat, centroid_lon, geometry, population)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (level, name) DO UPDATE SET
               centroid_lat = EXCLUDED.centroid_lat, centroid_lon = EXCLUDED.centroid_lon,
               geometry = coalesce(EXCLUDED.geometry, districts.geometry),
               population = coalesce(EXCLUDED.population, districts.population),
               updated_at = now()
           WHERE (districts.centroid_lat, districts.centroid_lon, districts.geometry,
                  districts.population)
                 IS DISTINCT FROM (EXCLUDED.centroid_lat, EXCLUDED.centroid_lon,
                  coalesce(EXCLUDED.geometry, districts.geometry),
                  coalesce(EXCLUDED.population, districts.population))
           RETURNING id""", level, name, centroid_lat, centroid_lon, geometry, population)
    if district_id is None:
        district_id = await conn.fetchval(
            "SELECT id FROM districts WHERE level = $1 AND name = $2", level, name)
    return district_id


async def get_districts(conn: asyncpg.Connection,
                        level: str | None = None) -> list[asyncpg.Record]:
    """Districts of `level` (all levels when None), kecamatan before kelurahan, by name."""
    return await conn.fetch(
        """SELECT id, level, name, centroid_lat, centroid_lon, geometry, population
           FROM districts WHERE $1::text IS NULL OR level = $1
           ORDER BY level, name""", level)


# Sent at the commit of any write to the districts (migration 0021).
NOTIFY_CHANNEL = "districts_changed"


async def get_districts_version(conn: asyncpg.Connection) -> tuple:
    """Changes whenever a district is added or replaced: the cache key of the index."""
    row = await conn.fetchrow("SELECT count(*), max(updated_at) FROM districts")
    return (row[0], row[1])
