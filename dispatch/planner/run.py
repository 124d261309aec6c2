"""Running scenarios: replications with their calls and trips, the distance floor, and
the results as plain dicts (the `--json` output; docs/planner.md).

`progress(done, total)`, when given, is called after each replication.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from dispatch.planner.calls import draw_calls
from dispatch.planner.demand import Demand, get_demand
from dispatch.planner.scenario import Scenario, ScenarioError
from dispatch.planner.simulate import Replication, TeamSpec, plan_trips, simulate
from dispatch.planner.stats import fractiles, interval
from routing.geodesic import GeodesicRouter

# Metrics that are shares: their intervals are clipped to 0..1.
SHARES = {"late_share": (0.0, 1.0), "late8_share": (0.0, 1.0), "p_wait": (0.0, 1.0),
          "utilisation": (0.0, 1.0)}
Progress = Callable[[int, int], None] | None
LATE8_MIN = 8.0
METRICS = ("late_share", "late8_share", "mean_response_min", "p90_response_min", "p_wait",
           "utilisation")


def get_router(scenario: Scenario):
    """The live service's router for `travel.router`: geodesic with the scenario's speed
    and circuity, or the road router over the extract's graph (loaded once a process).
    ScenarioError (`travel.router`) for an extract whose graph cannot be built."""
    spec = scenario.travel.router
    if spec.startswith("osm:"):
        return road_router(spec.removeprefix("osm:"))
    return GeodesicRouter(circuity=scenario.travel.circuity,
                          speed_kmh=scenario.travel.speed_kmh)


@functools.lru_cache(maxsize=2)
def road_router(path: str):
    """An OsmRouter with the graph of `path` loaded (built and cached beside it the first
    time), kept for the process: scenarios compared, replications and page runs in the
    worker share it and its searches."""
    from routing.roads import ExtractError, load_graph
    from routing.roads.router import OsmRouter
    router = OsmRouter(path)
    try:
        router.use(load_graph(path))
    except ExtractError as exc:
        raise ScenarioError([("travel.router", f"cannot use the extract {path}: {exc}")]) \
            from None
    return router


def scenario_sites(scenario: Scenario) -> tuple[np.ndarray, list[TeamSpec]]:
    """The distinct bases of the scenario's teams (lat, lon) and the teams on them."""
    sites: list[tuple[float, float]] = []
    teams = []
    for team in scenario.teams:
        point = (team.base.lat, team.base.lon)
        if point not in sites:
            sites.append(point)
        teams.append(TeamSpec(team.code, team.kind, sites.index(point), tuple(team.shifts)))
    return np.array(sites, dtype=float), teams


def hospitals_of(scenario: Scenario) -> np.ndarray:
    return np.array([(h.lat, h.lon) for h in scenario.hospitals], dtype=float)


def fixed_minutes(scenario: Scenario) -> float:
    """Call processing + turnout, their means: what the floor adds to travel."""
    return scenario.call_processing_min.mean + scenario.turnout_min.mean


def site_grid_minutes(scenario: Scenario, demand: Demand, sites: np.ndarray) -> np.ndarray:
    """Travel minutes from each site to each point of the demand's floor grid (S, G)."""
    lat, lon, _, _ = demand.grid
    etas = get_router(scenario).eta_matrix(sites, np.column_stack([lat, lon]))
    return etas.reshape(len(sites), len(lat)) / 60.0


def floor_from(scenario: Scenario, demand: Demand, grid_minutes: np.ndarray) -> tuple:
    """(floor share, floor share by polygon) given travel minutes from the bases (S, G):
    the demand whose response would exceed the target with every team free at base."""
    _, _, weight, area = demand.grid
    beyond = (fixed_minutes(scenario) + grid_minutes.min(axis=0)) > scenario.target_min
    by_area = np.bincount(area, weights=weight * beyond, minlength=len(demand.names))
    return float(weight[beyond].sum()), by_area / demand.shares


def get_floor(scenario: Scenario, demand: Demand | None = None) -> float:
    """The scenario's distance floor (share of demand, 0..1)."""
    demand = demand or get_demand(scenario.demand)
    sites, _ = scenario_sites(scenario)
    return floor_from(scenario, demand, site_grid_minutes(scenario, demand, sites))[0]


def simulate_team_sets(scenario: Scenario, demand: Demand, sites: np.ndarray,
                       team_sets: Sequence[list[TeamSpec]], progress: Progress = None,
                       done: int = 0, total: int | None = None) -> list[list[Replication]]:
    """Each team set through the same calls (common random numbers): results by team
    set, then by replication. The calls and trips of a replication are made once."""
    router = get_router(scenario)
    hospitals = hospitals_of(scenario)
    results: list[list[Replication]] = [[] for _ in team_sets]
    total = total or scenario.replications * len(team_sets)
    for replication in range(scenario.replications):
        calls = draw_calls(scenario, demand, replication)
        trips = plan_trips(router, calls, sites, hospitals)
        for out, teams in zip(results, team_sets, strict=True):
            out.append(simulate(teams, calls, trips, router, warmup_days=scenario.warmup_days,
                                days=scenario.days))
            done += 1
            if progress:
                progress(done, total)
    return results


def metrics(rep: Replication, target: float) -> dict[str, float]:
    """One replication's figures (NaN when it measured no call)."""
    r = rep.response
    if len(r) == 0:
        return dict.fromkeys(METRICS, math.nan) | {"utilisation": rep.utilisation}
    return {"late_share": float(np.mean(r > target)), "late8_share": float(np.mean(r > LATE8_MIN)),
            "mean_response_min": float(r.mean()),
            "p90_response_min": float(np.quantile(r, 0.9)),
            "p_wait": float(rep.waited.mean()), "utilisation": rep.utilisation}


def summarise(scenario: Scenario, demand: Demand, reps: list[Replication],
              floor: tuple[float, np.ndarray], runtime_s: float) -> dict:
    """The result of a scenario as the `--json` output prints it."""
    per_rep = [metrics(rep, scenario.target_min) for rep in reps]
    result: dict = {"name": scenario.name}
    for name in METRICS:
        result[name] = interval([m[name] for m in per_rep], SHARES.get(name))
    response = np.concatenate([rep.response for rep in reps])
    area = np.concatenate([rep.area for rep in reps])
    late = response > scenario.target_min
    calls = np.bincount(area, minlength=len(demand.names))
    late_calls = np.bincount(area, weights=late, minlength=len(demand.names))
    result["floor_share"] = floor[0]
    result["by_kelurahan"] = [
        {"name": name, "late_share": float(late_calls[i] / calls[i]) if calls[i] else None,
         "calls_per_replication": float(calls[i] / len(reps)),
         "floor_share": float(floor[1][i])} for i, name in enumerate(demand.names)]
    result["by_priority"] = [
        {"priority": p, "late_share": float(late[mask].mean()) if mask.any() else None}
        for p in (1, 2, 3) for mask in [np.concatenate([rep.priority for rep in reps]) == p]]
    result["teams"] = [
        {"code": team.code, "base": {"lat": team.base.lat, "lon": team.base.lon},
         "kind": team.kind,
         "utilisation": interval([rep.team_utilisation[j] for rep in reps])}
        for j, team in enumerate(scenario.teams)]
    result["fractiles"] = fractiles(response)
    result["calls_per_replication"] = float(len(response) / len(reps))
    result["target_min"] = scenario.target_min
    result["replications"], result["days"] = scenario.replications, scenario.days
    result["seed"] = scenario.seed
    result["runtime_s"] = round(runtime_s, 3)
    return result


def _run(scenario: Scenario, progress: Progress, done: int, total: int) -> tuple[dict, list]:
    started = time.perf_counter()
    demand = get_demand(scenario.demand)
    sites, teams = scenario_sites(scenario)
    floor = floor_from(scenario, demand, site_grid_minutes(scenario, demand, sites))
    reps = simulate_team_sets(scenario, demand, sites, [teams], progress, done, total)[0]
    result = summarise(scenario, demand, reps, floor, time.perf_counter() - started)
    return result, [metrics(rep, scenario.target_min) for rep in reps]


def run_scenario(scenario: Scenario, progress: Progress = None) -> dict:
    """Simulate a scenario's replications; its result dict (docs/planner.md)."""
    return _run(scenario, progress, 0, scenario.replications)[0]


def paired(name: str, of: list[dict], against: list[dict]) -> dict:
    """Differences `of` - `against`, replication by replication, with their intervals."""
    return {"name": name} | {
        metric: interval([a[metric] - b[metric] for a, b in zip(of, against, strict=True)])
        for metric in METRICS}


def compare_scenarios(scenarios: Sequence[Scenario], progress: Progress = None) -> dict:
    """Run several scenarios on common random numbers: every scenario takes the first
    one's seed, replications, days and warm-up, so that scenarios drawing calls the
    same way see the same calls. Differences are each scenario minus the first."""
    first = scenarios[0]
    common = {"seed": first.seed, "replications": first.replications, "days": first.days,
              "warmup_days": first.warmup_days}
    aligned = [s.model_copy(update=common) for s in scenarios]
    total = first.replications * len(aligned)
    results, per_rep = [], []
    for number, scenario in enumerate(aligned):
        result, reps = _run(scenario, progress, number * first.replications, total)
        results.append(result)
        per_rep.append(reps)
    differences = [paired(f"{s.name} - {first.name}", reps, per_rep[0])
                   for s, reps in zip(aligned[1:], per_rep[1:], strict=True)]
    return {"scenarios": results, "differences": differences}
