"""Where calls come from: polygons (the city's kelurahan by default) weighted by
population, a call uniform inside its polygon; and the fine grid of weighted points
the distance floor is measured on."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from dispatch.cities import DEFAULT_PACK, load_pack
from dispatch.planner.scenario import Demand as DemandSpec
from dispatch.planner.scenario import ScenarioError

METRES_PER_DEGREE = 111_320.0
# The floor's grid: a point every 50 m (about 40,000 points for Parepare's 99 km²),
# each standing for its share of its polygon's population. The floor is exact to
# within the grid's resolution (tests/test_planner.py compares it with an exact
# computation over the polygons).
FLOOR_GRID_M = 50.0
SAMPLE_BATCH = 64


@dataclass(frozen=True)
class Demand:
    """Named polygons and their weights (population); `shares` sums to 1."""

    names: tuple[str, ...]
    weights: np.ndarray
    polygons: tuple[BaseGeometry, ...]

    @property
    def shares(self) -> np.ndarray:
        return self.weights / self.weights.sum()

    def sample(self, rng: np.random.Generator, count: int) -> tuple[np.ndarray, ...]:
        """`count` calls: (lat, lon, polygon index), the polygon drawn by weight and the
        point uniform inside it (rejection sampling in its bounding box)."""
        area = rng.choice(len(self.names), size=count, p=self.shares)
        lat, lon = np.empty(count), np.empty(count)
        for index in np.unique(area):
            where = np.flatnonzero(area == index)
            lat[where], lon[where] = _inside(rng, self.polygons[index], len(where))
        return lat, lon, area

    @functools.cached_property
    def grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Points every FLOOR_GRID_M inside the polygons: (lat, lon, weight, polygon
        index), the weights summing to 1. A polygon too small to hold a grid point
        gets its representative point."""
        lats, lons, weights, areas = [], [], [], []
        for index, (polygon, share) in enumerate(zip(self.polygons, self.shares,
                                                     strict=True)):
            min_x, min_y, max_x, max_y = polygon.bounds
            step_y = FLOOR_GRID_M / METRES_PER_DEGREE
            step_x = step_y / math.cos(math.radians((min_y + max_y) / 2))
            xs, ys = np.meshgrid(np.arange(min_x + step_x / 2, max_x, step_x),
                                 np.arange(min_y + step_y / 2, max_y, step_y))
            xs, ys = xs.ravel(), ys.ravel()
            inside = shapely.contains_xy(polygon, xs, ys)
            if not inside.any():
                point = polygon.representative_point()
                xs, ys, inside = np.array([point.x]), np.array([point.y]), np.array([True])
            count = int(inside.sum())
            lats.append(ys[inside])
            lons.append(xs[inside])
            weights.append(np.full(count, share / count))
            areas.append(np.full(count, index))
        return (np.concatenate(lats), np.concatenate(lons), np.concatenate(weights),
                np.concatenate(areas))


def _inside(rng: np.random.Generator, polygon: BaseGeometry,
            count: int) -> tuple[np.ndarray, np.ndarray]:
    min_x, min_y, max_x, max_y = polygon.bounds
    fill = max(polygon.area / ((max_x - min_x) * (max_y - min_y) or 1.0), 0.05)
    lats, lons, found = [], [], 0
    while found < count:
        batch = int((count - found) / fill * 1.2) + SAMPLE_BATCH
        xs = rng.uniform(min_x, max_x, batch)
        ys = rng.uniform(min_y, max_y, batch)
        keep = shapely.contains_xy(polygon, xs, ys)
        lats.append(ys[keep])
        lons.append(xs[keep])
        found += int(keep.sum())
    return np.concatenate(lats)[:count], np.concatenate(lons)[:count]


def _prepared(geometry: dict) -> BaseGeometry:
    polygon = shape(geometry)
    shapely.prepare(polygon)
    return polygon


@functools.lru_cache(maxsize=4)
def city_demand(pack: str = DEFAULT_PACK) -> Demand:
    """A city pack's kelurahan, weighted by their census population."""
    areas = [area for area in load_pack(pack).kelurahan if area.population]
    return Demand(names=tuple(area.name for area in areas),
                  weights=np.array([float(area.population) for area in areas]),
                  polygons=tuple(_prepared(area.geometry) for area in areas))


def _read_features(path: str) -> list[dict]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        features = data["features"] if data.get("type") == "FeatureCollection" else [data]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, AttributeError) as exc:
        raise ScenarioError([("demand.geojson", f"cannot read GeoJSON from {path}: {exc}")]) \
            from None
    return features


def file_demand(spec: DemandSpec) -> Demand:
    """Polygons of a GeoJSON file weighted by `spec.weight_property` (features without a
    positive weight, or that are not polygons, are left out)."""
    names, weights, polygons = [], [], []
    for number, feature in enumerate(_read_features(spec.geojson)):
        props = feature.get("properties") or {}
        weight = props.get(spec.weight_property)
        geometry = feature.get("geometry") or {}
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        if not isinstance(weight, int | float) or isinstance(weight, bool) or not weight > 0:
            continue
        try:
            polygon = _prepared(geometry)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ScenarioError([("demand.geojson", f"feature {number}: {exc}")]) from None
        if polygon.is_empty or polygon.area <= 0:
            continue
        names.append(str(props.get(spec.name_property) or f"#{number}"))
        weights.append(float(weight))
        polygons.append(polygon)
    if not polygons:
        raise ScenarioError([("demand.weight_property",
                              f"no polygon of {spec.geojson} has a positive "
                              f"{spec.weight_property!r}")])
    return Demand(tuple(names), np.array(weights), tuple(polygons))


def get_demand(spec: DemandSpec | None) -> Demand:
    """The scenario's demand: its file, else the city's kelurahan."""
    return city_demand() if spec is None else file_demand(spec)
