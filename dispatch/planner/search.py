"""Where to put the next base(s): k new teams at candidate sites (the city's health
facilities, or any points), the best sets by simulated late share.

Every set of k sites is scored by its distance floor first (cheap: one matrix of
travel times from each site to the floor grid). The best `shortlist` sets by floor
(all of them when there are few) are then simulated on the same calls (common random
numbers) and reported best first, with intervals, and each one's difference from the
best, paired replication by replication. Above MAX_SETS sets, the sets are grown
greedily, one site at a time, by floor.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np

from dispatch.cities import DEFAULT_PACK, load_pack
from dispatch.planner.demand import get_demand
from dispatch.planner.run import (
    SHARES,
    Progress,
    floor_from,
    metrics,
    paired,
    scenario_sites,
    simulate_team_sets,
    site_grid_minutes,
)
from dispatch.planner.scenario import Scenario, Shift
from dispatch.planner.simulate import TeamSpec
from dispatch.planner.stats import interval

MAX_SETS = 2000
DEFAULT_SHORTLIST = 8


def city_sites(pack: str = DEFAULT_PACK) -> list[dict]:
    """The city pack's health facilities as candidate sites: {"name", "lat", "lon"}."""
    return [{"name": f.name, "lat": f.lat, "lon": f.lon} for f in load_pack(pack).facilities]


def _floor_sets(floor_of, count: int, k: int) -> list[tuple[int, ...]]:
    """Sets of k site indices, best floor first: every set, or greedy beyond MAX_SETS."""
    if math.comb(count, k) <= MAX_SETS:
        return sorted(itertools.combinations(range(count), k), key=lambda s: (floor_of(s), s))
    chosen: tuple[int, ...] = ()
    for _ in range(k):
        rest = [i for i in range(count) if i not in chosen]
        chosen = min((tuple(sorted(chosen + (i,))) for i in rest), key=floor_of)
    return [chosen]


def search_bases(scenario: Scenario, sites: list[dict] | None = None, k: int = 1,
                 top: int = 3, kind: str = "als", shortlist: int = DEFAULT_SHORTLIST,
                 progress: Progress = None) -> dict:
    """The best sets of `k` new bases among `sites` (default: the city's facilities),
    each with one new team of `kind` on duty all day, added to the scenario's teams.

    Returns {"k", "sites", "current": {late_share, floor_share}, "best": [{"sites":
    [names], "late_share", "late8_share", ..., "floor_share", "difference_from_best"}]}.
    """
    if not 1 <= k <= len(sites or city_sites()):
        raise ValueError("k must be between 1 and the number of candidate sites")
    started = time.perf_counter()
    sites = sites or city_sites()
    demand = get_demand(scenario.demand)
    bases, teams = scenario_sites(scenario)
    candidates = np.array([(s["lat"], s["lon"]) for s in sites], dtype=float)
    all_sites = np.vstack([bases, candidates])
    grid = site_grid_minutes(scenario, demand, all_sites)
    current = grid[:len(bases)].min(axis=0)

    def floor_of(chosen: tuple[int, ...]) -> float:
        best = np.minimum(current, grid[[len(bases) + i for i in chosen]].min(axis=0))
        return floor_from(scenario, demand, best[None, :])[0]

    scored = _floor_sets(floor_of, len(sites), k)
    ranked = scored[:max(shortlist, top)]
    team_sets = [teams] + [
        teams + [TeamSpec(f"NEW{n + 1}", kind, len(bases) + i, (Shift(start=0, end=24),))
                 for n, i in enumerate(chosen)] for chosen in ranked]
    results = simulate_team_sets(scenario, demand, all_sites, team_sets, progress)
    per_set = [[metrics(rep, scenario.target_min) for rep in reps] for reps in results]
    order = sorted(range(1, len(team_sets)),
                   key=lambda i: np.nanmean([m["late_share"] for m in per_set[i]]))
    best = order[0]
    rows = []
    for i in order[:top]:
        chosen = ranked[i - 1]
        row = {"sites": [sites[j]["name"] for j in chosen],
               "points": [{"lat": sites[j]["lat"], "lon": sites[j]["lon"]} for j in chosen],
               "floor_share": floor_of(chosen)}
        row |= {m: interval([r[m] for r in per_set[i]], SHARES.get(m)) for m in per_set[i][0]}
        row["difference_from_best"] = paired("", per_set[i], per_set[best])
        row["difference_from_current"] = paired("", per_set[i], per_set[0])
        rows.append(row)
    return {"k": k, "kind": kind, "sites": sites, "sets_scored_by_floor": len(scored),
            "sets_simulated": len(ranked),
            "current": {"late_share": interval([m["late_share"] for m in per_set[0]],
                                               SHARES["late_share"]),
                        "floor_share": floor_from(scenario, demand, current[None, :])[0]},
            "best": rows,
            "best_by_floor": [{"sites": [sites[j]["name"] for j in chosen],
                               "floor_share": floor_of(chosen)} for chosen in scored[:top]],
            "runtime_s": round(time.perf_counter() - started, 3)}
