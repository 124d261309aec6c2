"""Loading a city pack into the database: districts at both levels and the gazetteer."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from shapely.geometry import shape

from db import districts as districts_db
from db import places as places_db
from dispatch.cities import Area, CityPack

FACILITY_KIND = "faskes"


@dataclass(frozen=True)
class Loaded:
    """How many of each a pack brought (whether new or already there)."""

    kecamatan: int
    kelurahan: int
    facilities: int

    def describe(self, city: str) -> str:
        return (f"{city}: {self.kecamatan} kecamatan, {self.kelurahan} kelurahan, "
                f"{self.facilities} facilities")


async def _store_area(conn: asyncpg.Connection, area: Area) -> None:
    """The area as a district of its level (centroid for the nearest-centre fallback)
    and as a place at a point inside it ("Kecamatan NAME" for a kecamatan)."""
    polygon = shape(area.geometry)
    centre, inside = polygon.centroid, polygon.representative_point()
    await districts_db.upsert_district(conn, area.name, centre.y, centre.x, area.geometry,
                                       level=area.level, population=area.population)
    place = f"Kecamatan {area.name}" if area.level == "kecamatan" else area.name
    await places_db.upsert_place(conn, place, area.level, inside.y, inside.x)


async def do_load_city(conn: asyncpg.Connection, pack: CityPack) -> Loaded:
    """Load `pack` in the caller's transaction: its kecamatan become the districts
    incidents are located in, its kelurahan districts of level kelurahan (the map), and
    both, with the facilities (kind faskes), places in the gazetteer. Rows are matched
    by (level, name) and (name, kind), so loading the same pack again changes nothing."""
    for area in [*pack.kecamatan, *pack.kelurahan]:
        await _store_area(conn, area)
    for facility in pack.facilities:
        await places_db.upsert_place(conn, facility.name, FACILITY_KIND, facility.lat,
                                     facility.lon)
    return Loaded(len(pack.kecamatan), len(pack.kelurahan), len(pack.facilities))
