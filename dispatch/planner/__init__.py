"""The what-if planner: how many teams, where, and on which shifts keep the response
target. A discrete-event simulation of the service on the city's own demand, ranking
teams with live allocation's own rule and router (docs/planner.md).

The Python API (plain dicts, the same as `dispatch112 plan --json` prints):

    scenario = load_scenario("a.json")          # or parse_scenario(dict); ScenarioError
    result = run_scenario(scenario, progress=lambda done, total: ...)
    both = compare_scenarios([a, b], progress)  # common random numbers, paired differences
    best = search_bases(scenario, sites=None, k=1, top=3, progress=progress)

The planner page's API lives beside it (/api/v1/planner/*): endpoints, schemas (the
run request), service (runs kept in memory, one worker process), worker (what that
process runs) and views.
"""

from dispatch.planner.run import compare_scenarios, get_floor, run_scenario
from dispatch.planner.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
    scenario_defaults,
)
from dispatch.planner.search import city_sites, search_bases

__all__ = ["Scenario", "ScenarioError", "city_sites", "compare_scenarios", "get_floor",
           "load_scenario", "parse_scenario", "run_scenario", "scenario_defaults", "search_bases"]
