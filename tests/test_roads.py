"""Road routing (`DISPATCH112_ROUTER=osm:PATH`): allocation through the running service
picks the team that drives there first, on a synthetic extract written here.

Each scenario lies in a region of its own, 20 km from the others, joined to them only
by one road from one junction. Teams and incidents stand on junctions, so that an ETA
is exactly the distance along the roads over the road's speed
(`routing.roads.speed_kmh`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dispatch.app import create_app, lifespan
from dispatch.config import Settings
from routing.roads import ExtractError, speed_kmh
from tests.roads_support import OsmWriter, place
from tests.support import Api

# Residential streets everywhere: one speed, so the ETA is road metres / this.
SPEED_MS = speed_kmh("residential") / 3.6
# Rounding per edge (0.01 s, 0.1 m) and the sphere-to-ellipsoid of the test's own
# placement: an ETA within 1 % and 2 s of distance / speed.
TOLERANCE = 0.01


def region(n: int) -> tuple[float, float]:
    """Origin of the n-th scenario's region."""
    return (-4.0, 119.62 + 0.2 * n)


GRID, ONEWAY, RIVER, ISLAND, NO_CARS = (region(n) for n in range(5))


def street(osm: OsmWriter, origin, *points: tuple[float, float], **tags: str) -> None:
    """A residential way through `points` given in metres in the region."""
    osm.way([place(x, y, origin) for x, y in points], **{"highway": "residential", **tags})


def draw_city() -> OsmWriter:
    osm = OsmWriter()
    # A 6 x 6 grid, 200 m blocks.
    for k in range(6):
        street(osm, GRID, *[(200 * i, 200 * k) for i in range(6)])
        street(osm, GRID, *[(200 * k, 200 * j) for j in range(6)])
    # A one-way street eastwards, (0,0) -> (400,0) -> (800,0), a loop back over the
    # north, and a two-way street coming in from the west.
    street(osm, ONEWAY, (0, 0), (400, 0), (800, 0), oneway="yes")
    street(osm, ONEWAY, (800, 0), (800, 400), (0, 400), (0, 0))
    street(osm, ONEWAY, (-600, 0), (0, 0))
    # Two banks of a river 300 m wide and one bridge at their east end.
    street(osm, RIVER, *[(x, 0) for x in range(0, 2001, 400)])
    street(osm, RIVER, *[(x, 300) for x in range(0, 2001, 400)])
    street(osm, RIVER, (2000, 0), (2000, 300), bridge="yes")
    # A mainland road, and an island road 250 m off it that no road joins.
    street(osm, ISLAND, (0, 0), (500, 0), (1000, 0))
    street(osm, ISLAND, (0, 250), (300, 250))
    # A street closed to motor vehicles that would be the shortcut, the way round,
    # and a longer open street to the south.
    street(osm, NO_CARS, (0, 0), (600, 0), motor_vehicle="no")
    street(osm, NO_CARS, (0, 0), (0, 400), (600, 400), (600, 0))
    street(osm, NO_CARS, (0, 0), (0, -1000))
    # A track for tractors only: not for ambulances either.
    street(osm, NO_CARS, (0, -1000), (600, 0), highway="track", access="agricultural")
    # One road joins each region, at one junction, to a trunk road 3 km south: the
    # regions are one city (one connected piece), and no path through the trunk is a
    # shortcut inside a region (it leaves and comes back through the same junction).
    joins = [(GRID, (1000, 1000)), (ONEWAY, (-600, 0)), (RIVER, (0, 0)),
             (ISLAND, (1000, 0)), (NO_CARS, (0, -1000))]
    for origin, (x, y) in joins:
        osm.way([place(x, y, origin), place(x, -3000, origin)], highway="tertiary")
    osm.way([place(x, -3000, origin) for origin, (x, _) in joins], highway="trunk")
    return osm


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return draw_city().write(tmp_path_factory.mktemp("roads") / "city.osm")


@pytest.fixture
def settings(settings: Settings, extract: Path) -> Settings:
    return replace(settings, router=f"osm:{extract}")


def assert_eta(assignment: dict, road_m: float) -> None:
    """The assignment's ETA and distance are those of `road_m` metres of street."""
    assert assignment["eta_source"] == "osm"
    assert assignment["distance_m"] == pytest.approx(road_m, rel=TOLERANCE, abs=2)
    assert assignment["eta_s"] == pytest.approx(road_m / SPEED_MS, rel=TOLERANCE, abs=2)


async def test_grid_the_team_with_the_shorter_drive_wins(api: Api) -> None:
    # Geometrically the diagonal team is nearer (849 m against 1,000 m), but it
    # drives 1,200 m; the other drives 1,000 m along one street.
    await api.team("DIAG", *place(600, 600, GRID))
    straight = await api.team("STRAIGHT", *place(0, 1000, GRID))
    body = (await api.incident(*place(0, 0, GRID))).json()
    assert body["assignment"]["team_id"] == straight["id"]
    assert_eta(body["assignment"], 1000)


async def test_a_one_way_street_makes_the_nearer_team_slower(api: Api) -> None:
    # NEAR is 400 m east of the incident on the one-way street; it must go round the
    # loop (400 + 800 + 400 + 400 = 2,000 m). WEST drives 600 + 400 = 1,000 m.
    await api.team("NEAR", *place(800, 0, ONEWAY))
    west = await api.team("WEST", *place(-600, 0, ONEWAY))
    body = (await api.incident(*place(400, 0, ONEWAY))).json()
    assert body["assignment"]["team_id"] == west["id"]
    assert_eta(body["assignment"], 1000)
    # With WEST gone, NEAR goes, the long way round.
    second = (await api.incident(*place(400, 0, ONEWAY))).json()
    assert_eta(second["assignment"], 2000)


async def test_across_the_river_loses_to_the_same_bank(api: Api) -> None:
    # OPPOSITE is 300 m away across the water and drives 2,000 + 300 + 2,000 m over
    # the bridge; BANK is 1,200 m down the same bank.
    await api.team("OPPOSITE", *place(0, 300, RIVER))
    bank = await api.team("BANK", *place(1200, 0, RIVER))
    body = (await api.incident(*place(0, 0, RIVER))).json()
    assert body["assignment"]["team_id"] == bank["id"]
    assert_eta(body["assignment"], 1200)
    detail = (await api.get(f"/api/v1/incidents/{body['id']}")).json()
    assert detail["assignment"]["eta_source"] == "osm"
    created = next(e for e in detail["events"] if e["name"] == "assignment.created")
    assert created["data"]["eta_source"] == "osm"
    # The reports count it, and the incident log names it.
    today = datetime.now(UTC).date()
    period = {"from": (today - timedelta(days=1)).isoformat(),
              "to": (today + timedelta(days=1)).isoformat()}
    report = (await api.get("/api/v1/reports/response-times", params=period,
                            role="health_office")).json()
    assert report["eta_sources"] == {"osm": 1, "osrm": 0, "geodesic": 0}
    log = (await api.get("/api/v1/reports/response-times.csv", params=period,
                         role="health_office")).text
    [row] = csv.DictReader(io.StringIO(log))
    assert row["incident_id"] == str(body["id"]) and row["eta_source"] == "osm"


async def test_a_team_on_an_island_never_wins(api: Api) -> None:
    island = await api.team("ISLAND", *place(0, 250, ISLAND))
    mainland = await api.team("MAINLAND", *place(1000, 0, ISLAND))
    body = (await api.incident(*place(0, 0, ISLAND))).json()
    assert body["assignment"]["team_id"] == mainland["id"]
    assert_eta(body["assignment"], 1000)
    # With the mainland team busy, the island team is unreachable by road: the
    # incident waits rather than sending it as if it could drive there.
    queued = (await api.incident(*place(500, 0, ISLAND))).json()
    assert queued["status"] == "queued"
    # On the island itself, the island team drives there.
    on_island = (await api.incident(*place(300, 250, ISLAND))).json()
    assert on_island["assignment"]["team_id"] == island["id"]
    assert_eta(on_island["assignment"], 300)


async def test_an_incident_on_an_island_without_a_team_is_placed_by_distance(
        api: Api) -> None:
    # No free team can reach the island by road: the graph cannot answer, the
    # nearest team by distance goes (by boat, or as the operator decides), and the
    # assignment says its ETA is an estimate.
    await api.team("FAR", *place(1000, 0, ISLAND))
    near = await api.team("NEAR", *place(0, 0, ISLAND))
    body = (await api.incident(*place(300, 250, ISLAND))).json()
    assert body["assignment"]["team_id"] == near["id"]
    assert body["assignment"]["eta_source"] == "geodesic"


async def test_a_street_closed_to_motor_vehicles_is_no_shortcut(api: Api) -> None:
    # EAST is 600 m away along a street closed to cars (and a tractor track): it
    # drives 400 + 600 + 400 m round. SOUTH drives 1,000 m.
    await api.team("EAST", *place(600, 0, NO_CARS))
    south = await api.team("SOUTH", *place(0, -1000, NO_CARS))
    body = (await api.incident(*place(0, 0, NO_CARS))).json()
    assert body["assignment"]["team_id"] == south["id"]
    assert_eta(body["assignment"], 1000)


async def test_a_team_off_the_roads_is_placed_by_distance(api: Api) -> None:
    # 5 km out at sea from the grid, beyond the snapping distance: the graph cannot
    # place it, so its ETA is the geodesic estimate, and the candidates say which.
    await api.team("SEA", *place(0, -5000, GRID))
    road = await api.team("ROAD", *place(1000, 1000, GRID))
    body = (await api.incident(*place(0, 0, GRID))).json()
    assert body["assignment"]["team_id"] == road["id"]
    await api.team("SEA2", *place(0, -6000, GRID))
    listed = (await api.get(f"/api/v1/incidents/{body['id']}/candidates")).json()["items"]
    assert {c["code"]: c["eta_source"] for c in listed} == {"SEA": "geodesic",
                                                            "SEA2": "geodesic"}


async def test_a_missing_extract_stops_the_start(settings: Settings, tmp_path: Path) -> None:
    app = create_app(replace(settings, router=f"osm:{tmp_path / 'missing.osm.pbf'}"))
    with pytest.raises(ExtractError, match="no such OpenStreetMap extract"):
        async with lifespan(app):
            pass
