"""The road router on its own: the search goes as far as it needs for the nearest
teams; teams beyond it are ranked after them by the geodesic estimate; positions the
graph cannot place are left to the geodesic router."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing import Position
from routing.roadmap import fastest_path
from routing.roads import speed_kmh
from routing.roads.router import OsmRouter
from tests.roads_support import OsmWriter, place

SPEED_MS = speed_kmh("residential") / 3.6


@pytest.fixture(scope="module")
def road(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One residential road 20 km long, a node every 500 m."""
    osm = OsmWriter()
    osm.way([place(500 * k, 0) for k in range(41)], highway="residential")
    return osm.write(tmp_path_factory.mktemp("road") / "road.osm")


async def _router(road: Path, **options) -> OsmRouter:
    router = OsmRouter(road, **options)
    await router.prepare()
    return router


async def test_the_search_stops_once_it_has_the_nearest_teams(road: Path) -> None:
    router = await _router(road)
    teams = [Position(*place(1000 * k, 0)) for k in range(20, 0, -1)]  # far to near
    routes = await router.routes(teams, Position(*place(0, 0)))
    by_km = dict(zip(range(20, 0, -1), routes, strict=True))
    by_road = {km for km, r in by_km.items() if r.source == "osm"}
    # At least the ten nearest by road, exactly (2 minutes a km) ...
    assert set(range(1, 11)) <= by_road
    for km in by_road:
        assert by_km[km].eta_s == pytest.approx(1000 * km / SPEED_MS, abs=2)
        assert by_km[km].distance_m == pytest.approx(1000 * km, abs=2)
    # ... but not the whole road (the search stopped short of 40 minutes): the others
    # are straight-line estimates, every one after every team reached.
    rest = set(range(1, 21)) - by_road
    assert rest and all(by_km[km].source == "geodesic" for km in rest)
    assert min(by_km[km].eta_s for km in rest) > max(by_km[km].eta_s for km in by_road)


async def test_a_team_beyond_the_limit_is_still_ranked_last(road: Path) -> None:
    router = await _router(road, limit_s=90)
    near, far = Position(*place(500, 0)), Position(*place(3000, 0))
    near_route, far_route = await router.routes([near, far], Position(*place(0, 0)))
    assert near_route.source == "osm" and near_route.eta_s <= 90
    assert far_route.source == "geodesic" and far_route.eta_s > 90
    [alone] = await router.routes([far], Position(*place(0, 0)))
    assert alone is not None and alone.source == "geodesic"


async def test_what_the_graph_cannot_place_is_geodesic(road: Path) -> None:
    router = OsmRouter(road)
    team, scene = Position(*place(1000, 0)), Position(*place(0, 0))
    [before] = await router.routes([team], scene)  # not loaded yet
    assert before.source == "geodesic"
    await router.prepare()
    [loaded] = await router.routes([team], scene)
    assert loaded.source == "osm"
    [off_road] = await router.routes([team], Position(*place(0, 5000)))
    assert off_road.source == "geodesic"
    assert await router.routes([], scene) == []


async def test_the_path_of_a_drive_follows_the_one_way_streets(tmp_path: Path) -> None:
    osm = OsmWriter()
    a, b, c, d = (place(x, y) for x, y in ((0, 0), (400, 0), (400, 400), (0, 400)))
    osm.way([a, b], highway="residential", oneway="yes")  # a -> b only
    osm.way([b, c, d, a], highway="residential")
    router = await _router(osm.write(tmp_path / "loop.osm"))
    start, end = Position(*b), Position(*a)
    path = fastest_path(router.index, start, end).points
    # From b to a: not back along the one-way street, round the loop.
    assert [tuple(round(v, 6) for v in p) for p in path] == [
        tuple(round(v, 6) for v in p) for p in (b, b, c, d, a, a)]
    assert fastest_path(router.index, Position(*place(0, 5000)), end) is None  # off the roads
