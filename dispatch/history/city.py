"""Where incidents happen: the city pack's kelurahan, weighted by census population,
and a uniform point inside the chosen kelurahan's polygon."""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from dispatch.cities import CityPack
from dispatch.history.model import HILLY

MAX_TRIES = 1000


class HistoryError(RuntimeError):
    """The database lacks what the history needs (the demo's teams, lines, districts)."""


@dataclass(frozen=True)
class Area:
    """A kelurahan with its kecamatan, their district ids and its census population."""

    name: str
    kecamatan: str
    kelurahan_id: int
    kecamatan_id: int
    population: int
    polygon: BaseGeometry

    @property
    def hilly(self) -> bool:
        return self.kecamatan in HILLY


def get_areas(pack: CityPack, district_ids: dict[tuple[str, str], int]) -> list[Area]:
    """The pack's kelurahan with population, each with its kecamatan (matched by code:
    a kelurahan's code extends its kecamatan's) and both district ids, by
    (level, name). HistoryError when the pack is not loaded."""
    kecamatan_of = {area.code: area.name for area in pack.kecamatan}
    areas = []
    for area in pack.kelurahan:
        kecamatan = kecamatan_of[area.code.rsplit(".", 1)[0]]
        try:
            ids = (district_ids[("kelurahan", area.name)],
                   district_ids[("kecamatan", kecamatan)])
        except KeyError:
            raise HistoryError(f"the city pack {pack.key} is not loaded") from None
        polygon = shape(area.geometry)
        shapely.prepare(polygon)
        areas.append(Area(area.name, kecamatan, *ids, area.population or 0, polygon))
    if not any(area.population for area in areas):
        raise HistoryError(f"the city pack {pack.key} has no population figures")
    return areas


class AreaPicker:
    """Draws kelurahan in proportion to their population."""

    def __init__(self, areas: list[Area]) -> None:
        self.areas = areas
        self.cumulative = list(itertools.accumulate(area.population for area in areas))

    def pick(self, rng: random.Random) -> Area:
        index = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.areas[min(index, len(self.areas) - 1)]


def sample_point(rng: random.Random, area: Area) -> tuple[float, float]:
    """A uniform (lat, lon) inside the area: rejection sampling in its bounding box."""
    min_x, min_y, max_x, max_y = area.polygon.bounds
    for _ in range(MAX_TRIES):
        lon, lat = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if shapely.contains_xy(area.polygon, lon, lat):
            return lat, lon
    point = area.polygon.representative_point()  # a sliver: its one safe point
    return point.y, point.x
