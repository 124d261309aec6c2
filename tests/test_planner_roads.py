"""The planner by road (`"travel": {"router": "osm:PATH"}`): its travel times are the
live road router's to the second, a simulated response at low load is what live
allocation would send, and a river crossed by one bridge makes the road planner see
the late calls the straight line misses; over HTTP, only the service's own router.
Synthetic extracts; the database only for the page's API."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dispatch.errors import ValidationFailed
from dispatch.planner import parse_scenario, run_scenario
from dispatch.planner.calls import draw_calls
from dispatch.planner.demand import get_demand
from dispatch.planner.run import get_router, scenario_sites
from dispatch.planner.scenario import ScenarioError, load_scenario
from dispatch.planner.schemas import RunRequest, check_run_request
from dispatch.planner.simulate import plan_trips, simulate
from routing import Position
from routing.roads.matrix import UNREACHABLE_S
from routing.roads.router import OsmRouter
from tests.roads_support import OsmWriter, city_grid, place
from tests.support import Api, running_service, wait_until

ROOT = Path(__file__).resolve().parents[1]
SIDE, SPACING_M = 30, 80.0  # a city of 900 junctions, 2.3 km across


def _box(folder: Path, x0: float, y0: float, x1: float, y1: float) -> str:
    """A GeoJSON demand file of one rectangle (metres from the extracts' origin)."""
    corners = [place(x0, y0), place(x1, y0), place(x1, y1), place(x0, y1), place(x0, y0)]
    path = folder / "demand.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "kota", "population": 1},
         "geometry": {"type": "Polygon",
                      "coordinates": [[[lon, lat] for lat, lon in corners]]}}]}))
    return str(path)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """city_grid: one-way streets, gaps, jitter and an island off the east side."""
    return city_grid(SIDE, SPACING_M).write(tmp_path_factory.mktemp("city") / "city.osm")


async def _live(extract: Path) -> OsmRouter:
    router = OsmRouter(extract)
    await router.prepare()
    return router


def _at(xy: np.ndarray) -> np.ndarray:
    return np.array([place(x, y) for x, y in xy])


async def test_eta_matrix_is_the_live_routes_to_the_second(city: Path) -> None:
    router = await _live(city)
    rng = np.random.default_rng(15)
    span = SIDE * SPACING_M
    # Mostly in town, some beyond its edge (off the roads: the geodesic fallback), one
    # on the island (no road to or from the town).
    points = np.vstack([_at(rng.uniform(-400, span + 300, (80, 2))),
                        place((SIDE + 5) * SPACING_M, 200)])
    compared = by_road = unreachable = 0
    for k in range(len(points)):
        # Single pairs, and five teams at once (the planner's bases x one call).
        for teams in ([int(rng.integers(len(points)))], rng.choice(len(points), 5).tolist()):
            live = await router.routes([Position(*points[i]) for i in teams],
                                       Position(*points[k]))
            matrix = router.eta_matrix(points[teams], points[k:k + 1])[:, 0]
            for route, eta in zip(live, matrix.tolist(), strict=True):
                assert eta == (UNREACHABLE_S if route is None else route.eta_s)
                compared += 1
                by_road += route is not None and route.source == "osm"
                unreachable += route is None
    assert compared > 400 and by_road > compared / 2 and unreachable > 0
    # Both directions of search give the same seconds (few origins: forward; few
    # destinations: over the reversed graph), as does the cached one-call search.
    many, few = points[:60], points[60:63]
    assert (router.eta_matrix(few, many) == np.column_stack(
        [router.eta_matrix(few, many[k:k + 1]) for k in range(len(many))])).all()
    assert (router.eta_matrix(many, few) == np.vstack(
        [router.eta_matrix(many[k:k + 1], few) for k in range(len(many))])).all()
    # A search cut at within_s: the ETAs up to it exact, those beyond still beyond.
    exact = router.eta_matrix(many, few)
    router.searches = None  # no search cached to a farther bound
    for within in (60, 200, 400):
        cut = np.column_stack([router.eta_matrix(many, few[k:k + 1], within_s=within)[:, 0]
                               for k in range(len(few))])
        near = exact <= within
        assert (cut[near] == exact[near]).all() and (cut[~near] > within).all()


async def test_at_low_load_a_response_is_processing_turnout_and_the_nearest_road_eta(
        city: Path, tmp_path: Path) -> None:
    bases = [(400, 400), (1900, 600), (1200, 2000)]
    scenario = parse_scenario({
        "replications": 2, "days": 20, "warmup_days": 0, "seed": 5,
        "calls_per_hour": 1 / 24, "call_processing_min": 1.5, "turnout_min": 2,
        "on_scene_min": 5, "transport_share": 0, "travel": {"router": f"osm:{city}"},
        "demand": {"geojson": _box(tmp_path, 150, 150, 2150, 2150)},
        "hospital": dict(zip(("lat", "lon"), place(1000, 1000), strict=True)),
        "teams": [{"code": f"T{i}", "base": dict(zip(("lat", "lon"), place(*b), strict=True))}
                  for i, b in enumerate(bases)]})
    live = await _live(city)  # a router of its own, as the live service holds
    demand = get_demand(scenario.demand)
    sites, teams = scenario_sites(scenario)
    router = get_router(scenario)
    checked = 0
    for replication in range(scenario.replications):
        calls = draw_calls(scenario, demand, replication)
        trips = plan_trips(router, calls, sites, np.array([place(1000, 1000)]))
        rep = simulate(teams, calls, trips, router, warmup_days=0, days=scenario.days)
        for i in range(len(calls)):
            if i and calls.at[i] - calls.at[i - 1] < 60:  # its team may still be out
                continue
            routes = await live.routes([Position(*place(*b)) for b in bases],
                                       Position(calls.lat[i], calls.lon[i]))
            nearest_s = min(r.eta_s for r in routes if r is not None)
            assert rep.response[i] == pytest.approx(1.5 + 2 + nearest_s / 60, abs=1e-9)
            checked += 1
    assert checked > 20


def _river_town(folder: Path) -> Path:
    """Two banks of a river running north, 400 m apart, one road along each bank and
    a single bridge at the south end."""
    osm = OsmWriter()
    ys = range(0, 4001, 100)
    osm.way([place(-200, y) for y in ys], highway="residential")
    osm.way([place(200, y) for y in ys], highway="residential")
    osm.way([place(-200, 0), place(0, 0), place(200, 0)], highway="residential",
            bridge="yes")
    return osm.write(folder / "river.osm")


def test_a_river_with_one_bridge_makes_the_far_bank_late_by_road(tmp_path: Path) -> None:
    """The team's base is on the west bank, across from the calls of the east bank:
    a minute or two in a straight line, kilometres round by the bridge."""
    extract = _river_town(tmp_path)
    base = dict(zip(("lat", "lon"), place(-200, 3000), strict=True))
    fields = {"replications": 3, "days": 14, "warmup_days": 0, "seed": 9,
              "calls_per_hour": 0.2, "target_min": 8, "on_scene_min": 5,
              "transport_share": 0, "demand": {"geojson": _box(tmp_path, 170, 2000, 230, 4000)},
              "teams": [{"code": "W", "base": base}]}
    by_line = run_scenario(parse_scenario(fields | {"name": "garis lurus"}))
    by_road = run_scenario(parse_scenario(fields | {
        "name": "jalan", "travel": {"router": f"osm:{extract}"}}))
    # 4-7 km by road at 36 km/h: 7-12 minutes of travel, late nearly always; across the
    # water at most 2.2 minutes, late only when a call waits for the one team.
    assert by_line["late_share"]["mean"] < 0.05
    assert by_road["late_share"]["mean"] > 0.6
    assert by_road["mean_response_min"]["mean"] > by_line["mean_response_min"]["mean"] + 5
    assert by_road["floor_share"] > 0.6 > by_line["floor_share"]


def test_an_extract_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    team = {"code": "A", "base": {"lat": -4.0, "lon": 119.62}}
    for router in ("osm:" + str(tmp_path / "nowhere.osm.pbf"), "osm:", "osrm:x", 5):
        with pytest.raises(ScenarioError) as caught:
            parse_scenario({"teams": [team], "travel": {"router": router}})
        assert [field for field, _ in caught.value.errors] == ["travel.router"]
    # A relative path is found beside the scenario file, like a demand file.
    _river_town(tmp_path)
    (tmp_path / "s.json").write_text(json.dumps(
        {"teams": [team], "travel": {"router": "osm:river.osm"}}))
    assert load_scenario(tmp_path / "s.json").travel.router == f"osm:{tmp_path / 'river.osm'}"
    # A file that is no extract: named when the scenario is run.
    (tmp_path / "junk.osm").write_text("not an extract")
    scenario = parse_scenario({"teams": [team], "travel": {"router": f"osm:{tmp_path}/junk.osm"}})
    with pytest.raises(ScenarioError) as caught:
        get_router(scenario)
    assert caught.value.errors[0][0] == "travel.router"


def test_over_http_only_the_services_own_router_is_accepted(city: Path) -> None:
    team = {"code": "A", "base": {"lat": -4.0, "lon": 119.62}}

    def check(router: str, service: str):
        body = RunRequest(scenario={"teams": [team], "travel": {"router": router}},
                          replications=2, days=1)
        return check_run_request(body, 1e6, service)

    with pytest.raises(ValidationFailed) as caught:
        check(f"osm:{city}", f"osm:{city}")  # a path, even the service's own: refused
    assert caught.value.errors[0].field == "scenario.travel.router"
    with pytest.raises(ValidationFailed):
        check("service", "osrm:http://127.0.0.1:5000")
    assert check("service", f"osm:{city}").scenarios[0]["travel"]["router"] == f"osm:{city}"
    assert check("service", "geodesic").scenarios[0]["travel"]["router"] == "geodesic"
    assert check("geodesic", f"osm:{city}").scenarios[0]["travel"]["router"] == "geodesic"


async def test_the_page_plans_by_the_services_own_roads(
        settings, dsn: str, tmp_path: Path) -> None:
    """A service routing by road: `"router": "service"` plans by its graph (another
    answer than the straight line's), a path is refused and names the field."""
    # The whole city: 40 x 40 junctions 350 m apart over Parepare's kelurahan.
    extract = city_grid(40, 350.0, origin=(-4.09, 119.61)).write(tmp_path / "kota.osm")
    rsud = {"lat": -4.034919, "lon": 119.633957}
    body = {"replications": 2, "days": 2, "scenario": {
        "name": "x", "calls_per_hour": 1.0, "teams": [{"code": "A1", "base": rsud}]}}
    async with running_service(replace(settings, router=f"osm:{extract}")) as base_url, \
            Api(base_url, dsn) as api:
        await api.login_all()
        # The page offers the choice only to a service with a road graph.
        assert (await api.get("/api/v1/planner/defaults", role="health_office")
                ).json()["roads"] is True
        refused = await api.post("/api/v1/planner/runs", body | {"scenario": body["scenario"] | {
            "travel": {"router": f"osm:{extract}"}}}, role="health_office")
        assert refused.status_code == 422, refused.text
        assert "scenario.travel.router" in refused.text
        means = {}
        for router in ("geodesic", "service"):
            started = await api.post("/api/v1/planner/runs", body | {"scenario": body[
                "scenario"] | {"travel": {"router": router, "speed_kmh": 40, "circuity": 1.35}}},
                role="health_office")  # as the page sends it: the preset's travel, router set
            assert started.status_code == 202, started.text
            run_id = started.json()["id"]

            async def done(run_id: str = run_id) -> dict | None:
                run = (await api.get(f"/api/v1/planner/runs/{run_id}",
                                     role="health_office")).json()
                return run if run["status"] in ("done", "failed") else None
            run = await wait_until(done, what="a finished run")
            assert run["status"] == "done", run["error"]
            means[router] = run["result"]["mean_response_min"]["mean"]
        assert means["service"] != pytest.approx(means["geodesic"], abs=0.05)


async def test_from_db_plans_by_the_services_roads(dsn: str, tmp_path: Path) -> None:
    """`plan --from-db` routes as the service does (DISPATCH112_ROUTER), unless the
    scenario gives its own `travel`."""
    extract = _river_town(tmp_path)
    base = dict(zip(("lat", "lon"), place(-200, 3000), strict=True))
    fields = {"replications": 2, "days": 7, "warmup_days": 0, "calls_per_hour": 0.2,
              "target_min": 8, "on_scene_min": 5, "transport_share": 0,
              "demand": {"geojson": _box(tmp_path, 170, 2000, 230, 4000)},
              "teams": [{"code": "W", "base": base}]}
    late = {}
    for name, scenario in (("service", fields), ("file", fields | {"travel": {}})):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(scenario))
        env = {**os.environ, "DATABASE_URL": dsn, "DISPATCH112_ROUTER": f"osm:{extract}"}
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "dispatch.cli", "plan", str(path), "--json",
                             "--from-db"], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=120)
        assert done.returncode == 0, done.stderr
        late[name] = json.loads(done.stdout)["late_share"]["mean"]
    assert late["service"] > 0.6 and late["file"] < 0.05
