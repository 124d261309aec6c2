"""Importing places into the gazetteer from any GeoJSON (points, or polygons taken at
a point inside them)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from shapely.geometry import shape

from db import places as places_db
from dispatch.geo.districts import DistrictImportError, load_features

NAME_KEYS = ("name", "NAME", "nama", "nmdesa", "nmkec")


def read_geojson_places(path: Path, name_property: str | None) -> list[tuple[str, float, float]]:
    """(name, lat, lon) of every named feature with a geometry."""
    found = []
    for feature in load_features(path):
        props = feature.get("properties") or {}
        keys = [name_property] if name_property else NAME_KEYS
        name = next((str(props[k]).strip() for k in keys if props.get(k)), None)
        if not name or not feature.get("geometry"):
            continue
        point = shape(feature["geometry"]).representative_point()
        found.append((name.title() if name.isupper() else name, point.y, point.x))
    if not found:
        raise DistrictImportError(f"{path} has no named feature")
    return found


async def do_import_places(conn: asyncpg.Connection, kind: str,
                           items: list[tuple[str, float, float]]) -> int:
    for name, lat, lon in items:
        await places_db.upsert_place(conn, name, kind, lat, lon)
    return len(items)
