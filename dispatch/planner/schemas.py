"""The planner page's request: one scenario to run, several to compare, or one to
search the next bases for; checked whole, every wrong field named at once.

Over HTTP a scenario always plans on the city's own kelurahan: `demand` (a file on
the server) is refused, so a request can never make the service read a path. For the
same reason `travel.router` is `geodesic` or `service` (the service's own router,
DISPATCH112_ROUTER: its road graph when it routes by road), never `osm:PATH`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from dispatch.errors import FieldError, ValidationFailed
from dispatch.planner.scenario import Scenario, ScenarioError, parse_scenario
from dispatch.planner.search import DEFAULT_SHORTLIST, city_sites
from dispatch.vocabulary import PLANNER_RUN_KINDS, TEAM_KINDS

# Bounds of the page's runs: every run shares one worker, so none may hog it.
MAX_REPLICATIONS = 100
MAX_DAYS = 365
MAX_SCENARIOS = 4
MAX_NEW_BASES = 3
MAX_TOP = 5


class SearchBases(BaseModel):
    """`k` new bases (one team of `kind` on duty all day at each) among the city's
    health facilities; the best `top` sets."""

    model_config = ConfigDict(extra="forbid")
    k: Annotated[int, Field(ge=1, le=MAX_NEW_BASES)] = 1
    top: Annotated[int, Field(ge=1, le=MAX_TOP)] = 3
    kind: Literal[TEAM_KINDS] = "als"


class RunRequest(BaseModel):
    """POST /api/v1/planner/runs. `scenario` or `scenarios` (2 to 4, compared on the
    same calls); `replications`, `days`, `seed` override the scenarios' own."""

    model_config = ConfigDict(extra="forbid")
    scenario: dict | None = None
    scenarios: Annotated[list[dict], Field(min_length=2, max_length=MAX_SCENARIOS)] | None = None
    replications: Annotated[int, Field(ge=2, le=MAX_REPLICATIONS)] | None = None
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None
    search_bases: SearchBases | None = None


@dataclass(frozen=True)
class Job:
    """A checked request, ready for the worker: `scenarios` as plain JSON."""

    kind: Literal[PLANNER_RUN_KINDS]
    scenarios: list[dict]
    search: dict | None
    expected_calls: float


def _router(data: dict, prefix: str, service_router: str,
            errors: list[FieldError]) -> dict | None:
    """`data` with `travel.router: "service"` made the service's own router; None (an
    error added) for a router a request may not name."""
    travel = data.get("travel")
    if not isinstance(travel, dict) or travel.get("router", "geodesic") == "geodesic":
        return data
    field = f"{prefix}.travel.router"
    if travel["router"] != "service":
        errors.append(FieldError(field, 'should be "geodesic" or "service" (the service\'s '
                                        'own router); a file is not accepted here'))
        return None
    if not (service_router == "geodesic" or service_router.startswith("osm:")):
        errors.append(FieldError(field, "the service routes with an OSRM server, which the "
                                        'planner cannot use; choose "geodesic"'))
        return None
    return data | {"travel": travel | {"router": service_router}}


def _scenario(data: dict, prefix: str, body: RunRequest, service_router: str,
              errors: list[FieldError]) -> Scenario | None:
    """One scenario parsed with the request's overrides; its errors under `prefix`."""
    if data.get("demand") is not None:
        errors.append(FieldError(f"{prefix}.demand", "not accepted here: the page plans on "
                                                     "the city's kelurahan"))
        return None
    data = _router(data, prefix, service_router, errors)
    if data is None:
        return None
    try:
        return parse_scenario(data, replications=body.replications, days=body.days,
                              seed=body.seed)
    except ScenarioError as exc:
        for field, message in exc.errors:
            name = prefix if field == "(scenario)" else f"{prefix}.{field}"
            errors.append(FieldError(name, message))
        return None


def calls_per_day(scenario: Scenario) -> float:
    """Expected calls a simulated day (the mean over the week)."""
    return sum(sum(day) for day in scenario.rate_table()) / 7


def _expected_calls(scenarios: list[Scenario], sets: int) -> float:
    """Calls the whole job simulates: every scenario runs with the first one's
    replications, days and warm-up; a search simulates `sets` team sets on one."""
    first = scenarios[0]
    runs = first.replications * (first.days + first.warmup_days)
    return sets * runs * sum(calls_per_day(s) for s in scenarios)


def check_run_request(body: RunRequest, max_calls: float,
                      service_router: str = "geodesic") -> Job:
    """The job `body` asks for; ValidationFailed naming every wrong field, including a
    job above `max_calls` simulated calls (the worker's budget per run).
    `service_router`: the service's DISPATCH112_ROUTER, what `"router": "service"` is."""
    errors: list[FieldError] = []
    if (body.scenario is None) == (body.scenarios is None):
        errors.append(FieldError("scenario", "give one scenario, or a list of 2 to "
                                             f"{MAX_SCENARIOS} as scenarios"))
    if body.search_bases is not None and body.scenario is None:
        errors.append(FieldError("search_bases", "searches bases for one scenario"))
    datas = [body.scenario] if body.scenario is not None else body.scenarios or []
    prefixes = ["scenario"] if body.scenario is not None else [
        f"scenarios[{i}]" for i in range(len(datas))]
    parsed = [_scenario(data, prefix, body, service_router, errors)
              for data, prefix in zip(datas, prefixes, strict=True)]
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors),
                               errors=errors)
    kind = "search" if body.search_bases else ("compare" if body.scenarios else "run")
    search = body.search_bases.model_dump() if body.search_bases else None
    sets = 1 + min(math.comb(len(city_sites()), search["k"]),
                   max(DEFAULT_SHORTLIST, search["top"])) if search else 1
    expected = _expected_calls(parsed, sets)
    if expected > max_calls:
        raise ValidationFailed.field(
            "replications", f"this run would simulate about {expected:,.0f} calls, more than "
                            f"{max_calls:,.0f}: fewer replications or days, or a lower call rate")
    return Job(kind, [s.model_dump(mode="json", exclude_none=True) for s in parsed], search,
               expected)
