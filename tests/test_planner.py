"""The what-if planner (dispatch/planner/): its simulation against what can be computed
independently (the nearest team at low load, M/M/1 and M/M/c queues, the distance
floor over the polygons), common random numbers, and the scenario file's errors.
Pure computations: no database, no service."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import shapely
from geopy.distance import geodesic
from shapely.geometry import shape

from dispatch.cities import load_pack
from dispatch.planner import compare_scenarios, get_floor, parse_scenario, run_scenario
from dispatch.planner.calls import draw_calls
from dispatch.planner.demand import get_demand
from dispatch.planner.run import get_router, metrics, scenario_sites, simulate_team_sets
from dispatch.planner.simulate import plan_trips, simulate

ROOT = Path(__file__).resolve().parents[1]
RSUD = {"lat": -4.034919, "lon": 119.633957}
LAPPADDE = {"lat": -3.990952, "lon": 119.656288}
LOMPOE = {"lat": -4.034359, "lon": 119.679390}
LAKESSI = {"lat": -4.005628, "lon": 119.628014}


def _scenario(**fields) -> dict:
    base = {"name": "A", "replications": 5, "days": 10, "warmup_days": 0, "seed": 7,
            "calls_per_hour": 1.0,
            "teams": [{"code": "A1", "base": RSUD}]}
    return base | fields


def _square(tmp_path: Path, centre: dict, half_m: float = 10.0) -> str:
    """A GeoJSON file of one small square around `centre`: calls come from there."""
    dlat = half_m / 110_574
    dlon = half_m / (111_320 * math.cos(math.radians(centre["lat"])))
    lat, lon = centre["lat"], centre["lon"]
    ring = [[lon - dlon, lat - dlat], [lon + dlon, lat - dlat], [lon + dlon, lat + dlat],
            [lon - dlon, lat + dlat], [lon - dlon, lat - dlat]]
    path = tmp_path / "square.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "kotak", "population": 1},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    return str(path)


def test_at_low_load_every_response_is_processing_turnout_and_the_nearest_travel() -> None:
    scenario = parse_scenario(_scenario(
        calls_per_hour=1 / 24, days=60, replications=2, call_processing_min=1.5,
        turnout_min=2, on_scene_min=5, transport_share=0.5, handover_min=5,
        travel={"speed_kmh": 30, "circuity": 1.4},
        teams=[{"code": "RS", "base": RSUD}, {"code": "LP", "base": LAPPADDE},
               {"code": "LM", "base": LOMPOE}]))
    demand = get_demand(None)
    sites, teams = scenario_sites(scenario)
    bases = [RSUD, LAPPADDE, LOMPOE]
    checked = 0
    for replication in range(scenario.replications):
        calls = draw_calls(scenario, demand, replication)
        router = get_router(scenario)
        trips = plan_trips(router, calls, sites, np.array([[RSUD["lat"], RSUD["lon"]]]))
        rep = simulate(teams, calls, trips, router, warmup_days=0, days=scenario.days)
        assert len(rep.response) == len(calls) > 40
        for i in range(len(calls)):
            # A call an hour or less after another may find its team still out.
            if i and calls.at[i] - calls.at[i - 1] < 60:
                continue
            travel_s = min(round(geodesic((calls.lat[i], calls.lon[i]),
                                          (b["lat"], b["lon"])).meters * 1.4 / (30 / 3.6))
                           for b in bases)
            expected = 1.5 + 2 + travel_s / 60
            # To the second: ETAs are whole seconds, as live allocation's are.
            assert abs(rep.response[i] - expected) <= 1 / 60 + 1e-9, (i, rep.response[i])
            checked += 1
    assert checked >= 100


def _erlang_c(servers: int, load: float) -> float:
    """Probability of waiting in M/M/c (Erlang C), offered load in Erlangs."""
    top = load ** servers / math.factorial(servers) * servers / (servers - load)
    return top / (sum(load ** k / math.factorial(k) for k in range(servers)) + top)


@pytest.mark.parametrize(("teams", "rate"), [(1, 1.0), (2, 2.0)])
def test_waiting_probability_matches_erlang_c(tmp_path: Path, teams: int, rate: float) -> None:
    """Calls at the base itself (travel ~0), exponential on-scene time of 30 min, no
    transport: each team is an exponential server, so the share of calls that find no
    team free is M/M/1's rho, and M/M/2's Erlang C."""
    scenario = parse_scenario(_scenario(
        calls_per_hour=rate, days=60, replications=30, warmup_days=1,
        demand={"geojson": _square(tmp_path, RSUD)}, call_processing_min=0, turnout_min=0,
        on_scene_min={"dist": "exponential", "mean": 30}, transport_share=0,
        teams=[{"code": f"T{n}", "base": RSUD} for n in range(teams)]))
    result = run_scenario(scenario)
    expected = _erlang_c(teams, rate * 0.5)
    lo, hi = result["p_wait"]["ci95"]
    assert lo <= expected <= hi, (expected, result["p_wait"])
    assert hi - lo < 0.05
    # The mean wait too, Wq = C / (c mu - lambda); the response is that wait and a
    # drive of a few metres (at most 2 s).
    wait = expected / (teams / 30 - rate / 60)
    lo, hi = result["mean_response_min"]["ci95"]
    assert lo - 2 / 60 <= wait <= hi, (wait, result["mean_response_min"])
    assert result["utilisation"]["ci95"][0] <= rate * 0.5 / teams + 0.002


def _exact_floor(bases: list[dict], reach_m: float) -> float:
    """Population share beyond `reach_m` of geodesic distance from every base: the area
    of each kelurahan outside the union of discs, on a local ellipsoidal plane."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    lat0, lon0 = -4.02, 119.66
    s = math.sin(math.radians(lat0))
    m_per_deg_lat = math.radians(1) * a * (1 - e2) / (1 - e2 * s * s) ** 1.5
    m_per_deg_lon = math.radians(1) * a / math.sqrt(1 - e2 * s * s) * math.cos(
        math.radians(lat0))

    def project(geom):
        return shapely.transform(geom, lambda xy: np.column_stack(
            [(xy[:, 0] - lon0) * m_per_deg_lon, (xy[:, 1] - lat0) * m_per_deg_lat]))

    discs = shapely.union_all([shapely.Point(project(shapely.Point(b["lon"], b["lat"])))
                               .buffer(reach_m, quad_segs=128) for b in bases])
    areas = [k for k in load_pack("parepare").kelurahan if k.population]
    total = sum(k.population for k in areas)
    beyond = 0.0
    for area in areas:
        polygon = project(shape(area.geometry))
        beyond += area.population * polygon.difference(discs).area / polygon.area
    return beyond / total


@pytest.mark.parametrize(("bases", "target"), [([RSUD], 15), ([RSUD], 10),
                                               ([RSUD, LAPPADDE, LOMPOE], 8)])
def test_distance_floor_equals_the_polygons(bases: list[dict], target: float) -> None:
    scenario = parse_scenario(_scenario(
        target_min=target, call_processing_min=1, turnout_min=1,
        teams=[{"code": f"T{n}", "base": b} for n, b in enumerate(bases)]))
    reach_m = (target - 2) * 60 * (40 / 3.6) / 1.35
    exact = _exact_floor(bases, reach_m)
    assert 0.01 < exact < 0.9
    assert get_floor(scenario) == pytest.approx(exact, abs=0.004)


def test_identical_scenarios_give_identical_results() -> None:
    a = parse_scenario(_scenario(name="A", calls_per_hour=1.5,
                                 teams=[{"code": "A1", "base": RSUD},
                                        {"code": "A2", "base": LAPPADDE}]))
    b = a.model_copy(update={"name": "B"})
    out = compare_scenarios([a, b])
    first, second = out["scenarios"]
    for key in ("late_share", "mean_response_min", "p_wait", "utilisation", "by_kelurahan",
                "fractiles", "floor_share"):
        assert first[key] == second[key]
    assert out["differences"][0]["late_share"] == {"mean": 0.0, "ci95": [0.0, 0.0]}


def test_one_more_team_is_never_worse_at_low_load() -> None:
    scenario = parse_scenario(_scenario(
        calls_per_hour=0.2, days=30, replications=20,
        teams=[{"code": "RS", "base": RSUD}, {"code": "LP", "base": LAPPADDE}]))
    demand = get_demand(None)
    sites = np.array([[RSUD["lat"], RSUD["lon"]], [LAPPADDE["lat"], LAPPADDE["lon"]],
                      [LOMPOE["lat"], LOMPOE["lon"]]])
    _, teams = scenario_sites(scenario)
    more = teams + [teams[0].__class__("LM", "als", 2, teams[0].shifts)]
    fewer, extra = simulate_team_sets(scenario, demand, sites, [teams, more])
    for rep_a, rep_b in zip(fewer, extra, strict=True):
        assert len(rep_a.response) == len(rep_b.response)  # the same calls
        a, b = metrics(rep_a, 15), metrics(rep_b, 15)
        assert b["late_share"] <= a["late_share"]
        assert b["mean_response_min"] < a["mean_response_min"]
    compared = compare_scenarios([scenario, parse_scenario(_scenario(
        calls_per_hour=0.2, days=30, replications=20, name="B",
        teams=[{"code": "RS", "base": RSUD}, {"code": "LP", "base": LAPPADDE},
               {"code": "LM", "base": LOMPOE}]))])
    difference = compared["differences"][0]["mean_response_min"]
    assert difference["ci95"][1] < 0  # paired: narrow enough to tell


def _plan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dispatch.cli", "plan", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_every_wrong_field_of_a_scenario_is_named(tmp_path: Path) -> None:
    bad = {"name": "", "days": 0, "replications": "many", "seed": -1, "target_min": 0,
           "calls_per_hour": -2, "priorities": {"1": 0.5, "2": 0.2},
           "demand": {"geojson": "x.geojson", "colour": "red"},
           "travel": {"router": "teleport", "speed_kmh": 0, "circuity": 0.5},
           "call_processing_min": "quick", "turnout_min": -1,
           "on_scene_min": {"dist": "weibull", "mean": 15},
           "transport_share": 1.5, "hospital": {"lat": -95, "lon": 119.6},
           "handover_min": {"dist": "lognormal", "mean": 0, "sd": 3},
           "teams": [{"code": "A1", "base": {"lat": -4.03}},
                     {"code": "B", "base": RSUD, "kind": "helicopter", "shifts": [[7, 7]]}],
           "warm_up": 3}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    done = _plan(str(path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""
    for field in ("name", "days", "replications", "seed", "target_min", "calls_per_hour",
                  "priorities", "demand.colour", "travel.router", "travel.speed_kmh",
                  "travel.circuity", "call_processing_min", "turnout_min",
                  "on_scene_min.dist", "transport_share", "hospital.lat", "handover_min",
                  "teams[0].base.lon", "teams[1].kind", "teams[1].shifts[0]", "warm_up"):
        assert f"  {field}: " in done.stderr, (field, done.stderr)
    for text, where in (("{not json", "(file)"), ("[1, 2]", "(scenario)"),
                        (json.dumps(_scenario(teams=[])), "teams"),
                        (json.dumps(_scenario(demand={"geojson": str(tmp_path / "no.json")})),
                         "demand.geojson"),
                        (json.dumps(_scenario(required_kinds={"als": 1},
                                              teams=[{"code": "B", "base": RSUD,
                                                      "kind": "bls"}])), "(scenario)"),
                        (json.dumps(_scenario(calls_per_hour=1,
                                              calls_per_hour_by_hour=[1] * 24)), "(scenario)")):
        path.write_text(text)
        done = _plan(str(path))
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert f"  {where}: " in done.stderr, (text, done.stderr)
    done = _plan(str(tmp_path / "missing.json"))
    assert done.returncode == 2 and "(file): cannot read" in done.stderr
    path.write_text(json.dumps(_scenario()))
    done = _plan(str(path), "--replications", "1")
    assert done.returncode == 2 and "  replications: " in done.stderr
    (tmp_path / "sites.json").write_text(json.dumps([{"name": "x", "lat": "north"}]))
    done = _plan(str(path), "--search-bases", "1", "--sites", str(tmp_path / "sites.json"))
    assert done.returncode == 2 and "  --sites[0]: " in done.stderr


def test_a_demand_file_is_found_beside_the_scenario(tmp_path: Path) -> None:
    square = Path(_square(tmp_path, LAPPADDE, half_m=200))
    (tmp_path / "a.json").write_text(json.dumps(_scenario(
        demand={"geojson": square.name}, replications=2, days=2)))
    done = _plan(str(tmp_path / "a.json"), "--json")
    assert done.returncode == 0, done.stderr
    assert [k["name"] for k in json.loads(done.stdout)["by_kelurahan"]] == ["kotak"]


def test_json_output_and_speed(tmp_path: Path) -> None:
    """The contract's --json fields; 30 replications x 30 days at 1 call an hour in a
    few seconds."""
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"name": "A", "calls_per_hour": 1.0,
                                "teams": [{"code": "A1", "base": RSUD},
                                          {"code": "A2", "base": RSUD}]}))
    started = time.perf_counter()
    done = _plan(str(path), "--json")
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    for key in ("late_share", "late8_share", "mean_response_min", "p90_response_min",
                "p_wait", "utilisation"):
        lo, hi = out[key]["ci95"]
        assert lo <= out[key]["mean"] <= hi
    assert out["replications"] == 30 and out["days"] == 30
    assert 0 < out["floor_share"] < out["late_share"]["mean"]
    assert {k["name"] for k in out["by_kelurahan"]} >= {"Lompoe", "Lumpue", "Lakessi"}
    assert all(0 <= k["late_share"] <= 1 for k in out["by_kelurahan"])
    assert elapsed < 20, elapsed  # a few seconds on a quiet 2-core machine


def test_search_puts_the_next_base_where_it_helps_most() -> None:
    from dispatch.planner import search_bases
    scenario = parse_scenario(_scenario(replications=4, days=10, calls_per_hour=1.0))
    sites = [{"name": "RSUD", **RSUD}, {"name": "Lappadde", **LAPPADDE},
             {"name": "Lakessi", **LAKESSI}, {"name": "Lompoe", **LOMPOE}]
    found = search_bases(scenario, sites, k=2, top=3)
    assert found["sets_scored_by_floor"] == 6 and len(found["best"]) == 3
    lates = [row["late_share"]["mean"] for row in found["best"]]
    assert lates == sorted(lates)
    assert found["best"][0]["late_share"]["mean"] < found["current"]["late_share"]["mean"]
    assert "RSUD" not in found["best"][0]["sites"]  # a second team at the same base helps least


def test_the_defaults_make_a_scenario_again() -> None:
    from dispatch.planner import scenario_defaults
    defaults = scenario_defaults()
    again = parse_scenario(defaults | {"teams": [{"code": "A1", "base": RSUD}]})
    assert again.rate_table()[0][0] == 1.0 and again.target_min == 15
    assert again.on_scene_min.dist == "lognormal" and again.transport_share == 0.65


def test_a_team_goes_only_within_its_shifts() -> None:
    """A night team (23 to 7, past midnight) beside a day-and-night one: no call outside
    the night ever gets the night team; at night it answers its part of the city."""
    scenario = parse_scenario(_scenario(
        calls_per_hour=0.5, days=20, replications=2,
        teams=[{"code": "RS", "base": RSUD},
               {"code": "LP", "base": LAPPADDE, "shifts": [[23, 7]]}]))
    demand = get_demand(None)
    sites, teams = scenario_sites(scenario)
    router = get_router(scenario)
    night_calls = 0
    for replication in range(2):
        calls = draw_calls(scenario, demand, replication)
        trips = plan_trips(router, calls, sites, np.array([[RSUD["lat"], RSUD["lon"]]]))
        rep = simulate(teams, calls, trips, router, warmup_days=0, days=20)
        # When the team was sent: the call, then its processing and any wait.
        sent_at = calls.at + rep.response - calls.turnout - rep.travel
        allocated_at = sent_at / 60 % 24
        night = (allocated_at >= 23 - 1e-6) | (allocated_at < 7 + 1e-6)  # float sums
        assert not np.any((rep.team == 1) & ~night)
        night_calls += int(np.sum((rep.team == 1) & night))
    assert night_calls > 20
    assert rep.team_utilisation[1] > 0


def test_the_queue_serves_the_most_urgent_first() -> None:
    """One team, more calls than it can serve at times: red calls wait least."""
    result = run_scenario(parse_scenario(_scenario(calls_per_hour=1.5, days=20,
                                                   replications=5)))
    late = {row["priority"]: row["late_share"] for row in result["by_priority"]}
    assert late[1] < late[2] < late[3]
    assert result["p_wait"]["mean"] > 0.5


def test_compared_scenarios_show_paired_differences(tmp_path: Path) -> None:
    one = _scenario(name="satu", replications=4, days=5)
    two = one | {"name": "dua", "teams": one["teams"] + [{"code": "B1", "base": LAPPADDE}]}
    for name, doc in (("a", one), ("b", two)):
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
    done = _plan(str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [s["name"] for s in out["scenarios"]] == ["satu", "dua"]
    difference = out["differences"][0]
    assert difference["name"] == "dua - satu"
    assert difference["late_share"]["ci95"][1] < 0  # the second team helps, paired
    text = _plan(str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert text.returncode == 0 and "dua - satu (paired" in text.stdout
