"""A small synthetic town for the road-map tests: an 11 x 11 grid of streets 100 m
apart in the middle of Parepare, and one street on an island 3 km east of it.

Streets 0 and 10 (both ways) are primary, street 5 secondary: six main roads; the
other sixteen are residential. Every street is one way of eleven nodes, with no
jitter, so that a junction is exactly `junction(i, j)` and a drive along the streets
is a whole number of 100 m blocks.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dispatch.config import Settings
from tests.roads_support import OsmWriter, place

ORIGIN = (-4.02, 119.635)
SIDE = 11
BLOCK_M = 100.0
MAIN_STREETS = {0: "primary", 5: "secondary", 10: "primary"}
ISLAND_X_M = 3000.0


def junction(i: int, j: int) -> tuple[float, float]:
    """(lat, lon) of the junction i blocks east and j blocks north of the south-west one."""
    return place(i * BLOCK_M, j * BLOCK_M, ORIGIN)


def island(y_m: float) -> tuple[float, float]:
    return place(ISLAND_X_M, y_m, ORIGIN)


def draw_town() -> OsmWriter:
    osm = OsmWriter()
    for k in range(SIDE):
        highway = MAIN_STREETS.get(k, "residential")
        osm.way([junction(i, k) for i in range(SIDE)], highway=highway)
        osm.way([junction(k, j) for j in range(SIDE)], highway=highway)
    osm.way([island(y) for y in (0, 100, 200)], highway="residential")
    return osm


def write_town(folder: Path) -> Path:
    return draw_town().write(folder / "town.osm")


def town_settings(settings: Settings, extract: Path, request: pytest.FixtureRequest,
                  **extra: object) -> Settings:
    """The service on the town's graph (plus `extra`), unless the test names its own
    router with `@pytest.mark.settings(router=...)`."""
    marker = request.node.get_closest_marker("settings")
    if marker and "router" in marker.kwargs:
        return settings
    return replace(settings, router=f"osm:{extract}", **extra)
