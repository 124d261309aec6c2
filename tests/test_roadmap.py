"""The road map's API: GET /api/v1/roads draws the loaded graph's streets (main roads
whole, every road in a small box), GET /api/v1/team/route the team's drive to its
incident; both say plainly when the service has no road graph. On the synthetic town
of tests/roadmap_support.py, served with `DISPATCH112_ROUTER=osm:PATH`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csgraph

from dispatch.config import Settings
from routing.roads import load_graph
from tests.roadmap_support import (
    BLOCK_M,
    ISLAND_X_M,
    ORIGIN,
    island,
    junction,
    town_settings,
    write_town,
)
from tests.roads_support import place
from tests.support import Api

# Per-edge rounding and the sphere of the test's own placement (tests/test_roads.py).
TOLERANCE = 0.01
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_town(tmp_path_factory.mktemp("roadmap"))


@pytest.fixture
def settings(settings: Settings, extract: Path, request: pytest.FixtureRequest) -> Settings:
    """The town's graph, unless the test names its own router."""
    return town_settings(settings, extract, request)


def box(*corners: tuple[float, float]) -> str:
    """The bbox parameter (south,west,north,east) around (lat, lon) points."""
    lats, lons = [c[0] for c in corners], [c[1] for c in corners]
    return f"{min(lats)},{min(lons)},{max(lats)},{max(lons)}"


def around(i0: int, j0: int, i1: int, j1: int, margin_m: float = 10) -> str:
    """The bbox of junctions (i0, j0)..(i1, j1), widened by `margin_m`."""
    return box(place(i0 * BLOCK_M - margin_m, j0 * BLOCK_M - margin_m, ORIGIN),
               place(i1 * BLOCK_M + margin_m, j1 * BLOCK_M + margin_m, ORIGIN))


def classes(collection: dict) -> list[str]:
    return sorted(f["properties"]["highway"] for f in collection["features"])


async def test_main_roads_of_the_whole_town(api: Api) -> None:
    response = await api.get("/api/v1/roads")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["detail"] == "main"
    assert body["truncated"] is False
    assert classes(body) == ["primary"] * 4 + ["secondary"] * 2
    for feature in body["features"]:
        assert feature["geometry"]["type"] == "LineString"
        assert len(feature["geometry"]["coordinates"]) == 11
        assert feature["properties"]["main"] is True
    south, west, north, east = body["bounds"]
    assert (south, west) == pytest.approx(junction(0, 0), abs=1e-6)
    assert east == pytest.approx(island(0)[1], abs=1e-6)
    assert north == pytest.approx(junction(10, 10)[0], abs=1e-6)
    # The team's phone may draw them too.
    await api.team("RM1", *junction(0, 0))
    await api.device_token("RM1")
    assert (await api.get("/api/v1/roads", role="team:RM1")).status_code == 200


async def test_every_road_in_a_small_box_and_only_main_ones_without_detail(api: Api) -> None:
    # The south-west corner block: streets 0 and 1 both ways cross it.
    corner = around(0, 0, 1, 1)
    every = (await api.get(f"/api/v1/roads?detail=all&bbox={corner}")).json()
    assert classes(every) == ["primary", "primary", "residential", "residential"]
    assert {f["properties"]["main"] for f in every["features"]} == {True, False}
    main = (await api.get(f"/api/v1/roads?detail=main&bbox={corner}")).json()
    assert classes(main) == ["primary", "primary"]
    # The whole town at detail=all: its 22 streets, not the island 3 km away.
    town = (await api.get(f"/api/v1/roads?detail=all&bbox={around(0, 0, 10, 10)}")).json()
    assert len(town["features"]) == 22
    # Inside a block, away from every street: nothing.
    inside = (await api.get(f"/api/v1/roads?detail=all&bbox={around(3, 3, 4, 4, -20)}")).json()
    assert inside["features"] == [] and inside["truncated"] is False
    # The island alone.
    near_island = box(place(ISLAND_X_M - 10, -10, ORIGIN), place(ISLAND_X_M + 10, 210, ORIGIN))
    far = (await api.get(f"/api/v1/roads?detail=all&bbox={near_island}")).json()
    assert classes(far) == ["residential"]


@pytest.mark.parametrize(("query", "field"), [
    ("bbox=1,2,3", "bbox"),
    ("bbox=a,b,c,d", "bbox"),
    ("bbox=nan,119.6,-4.0,119.7", "bbox"),
    ("bbox=-4.1,inf,-4.0,119.7", "bbox"),
    ("bbox=-4.0,119.6,-4.1,119.7", "bbox"),          # south above north
    ("bbox=-4.1,119.7,-4.0,119.6", "bbox"),          # west east of east
    ("bbox=-91,119.6,-4.0,119.7", "bbox"),
    ("bbox=-4.1,119.6,-4.0,181", "bbox"),
    ("bbox=" + ",".join(["1" * 60] * 4), "bbox"),
    ("detail=every", "detail"),
    ("detail=all", "bbox"),                          # every road of the whole graph
    ("detail=all&bbox=-4.1,119.6,-4.0,119.7", "bbox"),  # a box of 0.1 degree
    ("zoom=15", "zoom"),
])
async def test_bad_road_queries_are_refused_by_name(api: Api, query: str, field: str) -> None:
    response = await api.get(f"/api/v1/roads?{query}")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["errors"][0]["field"] == field


def junctions_of(coordinates: list[list[float]]) -> list[tuple[int, int]]:
    """The (i, j) of each [lon, lat] point, which must all be junctions of the town."""
    found = []
    for lon, lat in coordinates:
        match = [(i, j) for i in range(11) for j in range(11)
                 if np.allclose(junction(i, j), (lat, lon), rtol=0, atol=2e-6)]
        assert match, f"{lat},{lon} is not a junction of the town"
        found.append(match[0])
    return found


def graph_seconds(extract: Path, start: tuple[float, float], end: tuple[float, float]) -> float:
    """The fastest drive between two junctions, searched here on the graph itself."""
    graph = load_graph(extract)
    nodes = [int(np.argmin((graph.lat - lat) ** 2 + (graph.lon - lon) ** 2))
             for lat, lon in (start, end)]
    return float(csgraph.dijkstra(graph.matrix(), indices=nodes[0])[nodes[1]])


async def test_the_team_sees_its_fastest_drive_to_the_incident(api: Api, extract: Path) -> None:
    await api.team("RM1", *junction(0, 0))
    await api.device_token("RM1")
    incident = (await api.incident(*junction(3, 7))).json()
    assert incident["status"] == "assigned"
    response = await api.get("/api/v1/team/route", role="team:RM1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["incident_id"] == incident["id"]
    assert body["from"]["source"] == "base"
    route = body["route"]
    assert route["geometry"]["type"] == "LineString"
    points = junctions_of(route["geometry"]["coordinates"])
    # From the team to the incident, one block at a time along the streets.
    assert points[0] == (0, 0) and points[-1] == (3, 7)
    steps = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(points, points[1:], strict=False)]
    blocks = [s for s in steps if s != (0, 0)]  # the snapped ends repeat a junction
    assert all(abs(di) + abs(dj) == 1 for di, dj in blocks)
    # 10 blocks (no shorter drive exists), as fast as the graph allows, and the ETA the
    # operator was given when the team was sent.
    props = route["properties"]
    assert len(blocks) == 10
    assert props["distance_m"] == pytest.approx(10 * BLOCK_M, rel=TOLERANCE, abs=2)
    expected_s = graph_seconds(extract, junction(0, 0), junction(3, 7))
    assert props["eta_s"] == pytest.approx(expected_s, rel=TOLERANCE, abs=2)
    assert props["eta_s"] == pytest.approx(incident["assignment"]["eta_s"], abs=2)
    assert props["source"] == "osm"


async def test_a_gps_fix_moves_the_start_and_no_road_means_no_line(api: Api) -> None:
    await api.team("RM1", *junction(0, 0))
    await api.device_token("RM1")
    await api.incident(*junction(3, 7))
    fix = await api.post("/api/v1/team/location", {"lat": junction(5, 5)[0],
                                                    "lon": junction(5, 5)[1]}, role="team:RM1")
    assert fix.status_code == 204
    body = (await api.get("/api/v1/team/route", role="team:RM1")).json()
    assert body["from"]["source"] == "gps"
    points = junctions_of(body["route"]["geometry"]["coordinates"])
    assert points[0] == (5, 5) and points[-1] == (3, 7)
    assert body["route"]["properties"]["distance_m"] == pytest.approx(400, rel=TOLERANCE, abs=2)
    # On the island, no road leads to the incident: no line, but the two ends.
    await api.post("/api/v1/team/location", {"lat": island(100)[0], "lon": island(100)[1]},
                   role="team:RM1")
    body = (await api.get("/api/v1/team/route", role="team:RM1")).json()
    assert body["route"] is None
    assert body["from"]["source"] == "gps"
    assert (body["from"]["lat"], body["from"]["lon"]) == pytest.approx(island(100))


async def test_a_team_without_an_assignment_has_no_route(api: Api) -> None:
    await api.team("RM1", *junction(0, 0))
    await api.device_token("RM1")
    response = await api.get("/api/v1/team/route", role="team:RM1")
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/not-found"


@pytest.mark.settings(router="geodesic")
async def test_without_a_graph_both_say_so(api: Api) -> None:
    for path, role in (("/api/v1/roads", "operator"), ("/api/v1/roads", "admin")):
        response = await api.get(path, role=role)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["type"] == "/problems/no-road-graph"
    await api.team("RM1", *junction(0, 0))
    await api.device_token("RM1")
    await api.incident(*junction(3, 7))
    response = await api.get("/api/v1/team/route", role="team:RM1")
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/no-road-graph"
    # Bad input is still bad input.
    assert (await api.get("/api/v1/roads?detail=every")).status_code == 422
