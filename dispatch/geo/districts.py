"""Which kecamatan and kelurahan an incident lies in: the imported polygon that
contains it, else (kecamatan only) the one with the nearest centroid."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from geopy.distance import great_circle
from shapely import Point, prepare
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from db import districts as districts_db


class DistrictImportError(ValueError):
    """The GeoJSON file cannot be imported; the message says why."""


@dataclass(frozen=True)
class District:
    id: int
    name: str
    lat: float
    lon: float
    shape: BaseGeometry | None


@dataclass(frozen=True)
class Place:
    """Where an incident lies: its kecamatan and kelurahan ids (None: none known)."""

    kecamatan_id: int | None
    kelurahan_id: int | None


class DistrictIndex:
    """In-memory index of the districts table, reloaded when the table changes.

    The table's version is read before a lookup unless notices of its changes arrive
    (`watch_with`) and none came since the last read: a district written elsewhere
    takes effect here once its commit's notice has arrived, milliseconds later."""

    def __init__(self) -> None:
        self._version: tuple | None = None
        self._levels: dict[str, list[District]] = {"kecamatan": [], "kelurahan": []}
        self._listening: Callable[[], bool] = lambda: False
        self._notices = 0  # notices of a change received
        self._read_at = -1  # how many had been received when the version was last read

    def watch_with(self, listening: Callable[[], bool]) -> None:
        """Trust notices (`changed()`) while `listening()` says they arrive."""
        self._listening = listening

    def changed(self) -> None:
        """A notice: the table may have changed (or notices may have been missed)."""
        self._notices += 1

    async def refresh(self, conn: asyncpg.Connection) -> None:
        if self._read_at == self._notices and self._listening():
            return
        # Counted before reading: a notice arriving meanwhile leaves the index behind,
        # and requests arriving meanwhile read the version too (none skips the first
        # load, and a failed read counts for nothing).
        notices = self._notices
        await self._reload_if_changed(conn)
        self._read_at = notices

    async def _reload_if_changed(self, conn: asyncpg.Connection) -> None:
        version = await districts_db.get_districts_version(conn)
        if version == self._version:
            return
        levels: dict[str, list[District]] = {"kecamatan": [], "kelurahan": []}
        for row in await districts_db.get_districts(conn):
            levels.setdefault(row["level"], []).append(_load(row))
        self._levels, self._version = levels, version

    async def locate(self, conn: asyncpg.Connection, lat: float, lon: float) -> int | None:
        """Id of the kecamatan at (lat, lon): the polygon that covers it, else the
        nearest centroid; None when no kecamatan is known."""
        return (await self.locate_both(conn, lat, lon)).kecamatan_id

    async def locate_both(self, conn: asyncpg.Connection, lat: float, lon: float) -> Place:
        """The kecamatan (as `locate`) and the kelurahan whose polygon covers (lat, lon)
        (None outside every kelurahan: reports group those under "unknown")."""
        await self.refresh(conn)
        point = Point(lon, lat)
        kecamatan = _covering(self._levels["kecamatan"], point)
        if kecamatan is None and self._levels["kecamatan"]:
            kecamatan = min(self._levels["kecamatan"], key=lambda d: great_circle(
                (lat, lon), (d.lat, d.lon)).meters).id
        return Place(kecamatan, _covering(self._levels["kelurahan"], point))


def _covering(districts: list[District], point: Point) -> int | None:
    return next((d.id for d in districts if d.shape is not None and d.shape.covers(point)),
                None)


def _load(row: asyncpg.Record) -> District:
    geometry = shape(row["geometry"]) if row["geometry"] else None
    if geometry is not None:
        prepare(geometry)
    return District(row["id"], row["name"], row["centroid_lat"], row["centroid_lon"], geometry)


def load_features(path: Path) -> list[dict]:
    """The features of a GeoJSON FeatureCollection file; DistrictImportError if it is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DistrictImportError(f"cannot read {path}: {exc}") from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise DistrictImportError(f"{path} is not a GeoJSON FeatureCollection")
    return [f for f in features if isinstance(f, dict)]


def read_geojson_districts(path: Path, name_property: str | None) -> list[tuple[str, dict]]:
    """(name, geometry) of every polygon feature in a GeoJSON file.

    The name is `name_property`, or the first of name/NAME/nmkec/kecamatan found.
    """
    found = [_feature(f, name_property) for f in load_features(path)]
    found = [item for item in found if item is not None]
    if not found:
        raise DistrictImportError(f"{path} has no Polygon/MultiPolygon feature with a name")
    return found


def _feature(feature: dict, name_property: str | None) -> tuple[str, dict] | None:
    geometry = feature.get("geometry") or {}
    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    props = feature.get("properties") or {}
    keys = [name_property] if name_property else ["name", "NAME", "nmkec", "kecamatan"]
    name = next((props[k] for k in keys if props.get(k)), None)
    return (str(name).strip().title(), geometry) if name else None


async def do_import_districts(conn: asyncpg.Connection, items: list[tuple[str, dict]],
                              level: str = "kecamatan") -> int:
    """Store the polygons as districts of `level` (features sharing a name are merged);
    return how many districts."""
    merged: dict[str, BaseGeometry] = {}
    for name, geometry in items:
        polygon = shape(geometry)
        if not polygon.is_valid:
            polygon = polygon.buffer(0)
        merged[name] = merged[name].union(polygon) if name in merged else polygon
    for name, polygon in merged.items():
        centre = polygon.centroid
        await districts_db.upsert_district(conn, name, centre.y, centre.x,
                                           polygon.__geo_interface__, level=level)
    return len(merged)
