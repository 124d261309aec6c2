"""/api/v1/planner/*: the planner page's runs, for the health office and admins.

A run is started (202 with its id), simulated in the background worker
(dispatch/planner/service.py) and polled until done; its fractile curves are drawn
as SVG like the reports' charts.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dispatch.auth.service import Principal
from dispatch.errors import Conflict, NotFound, ValidationFailed
from dispatch.http import JSON, Operation, read_model
from dispatch.planner import schemas, service
from dispatch.planner.scenario import scenario_defaults
from dispatch.planner.search import city_sites
from dispatch.planner.views import run_view
from dispatch.reports import plots
from dispatch.reports.plot_labels import LANGUAGES
from dispatch.vocabulary import REPORT_READERS, TEAM_KINDS

RUN_ID = re.compile(r"[0-9a-f]{16}")
# As the reports' charts (dispatch/reports/charts.py): an SVG opened on its own runs
# nothing and loads nothing.
SVG = "image/svg+xml"
SVG_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"}
LANG = {"name": "lang", "in": "query", "required": False,
        "description": "language of the labels: id (default) or en",
        "schema": {"type": "string", "enum": list(LANGUAGES)}}
LIMITS = {"replications": [2, schemas.MAX_REPLICATIONS], "days": [1, schemas.MAX_DAYS],
          "scenarios": [2, schemas.MAX_SCENARIOS], "new_bases": [1, schemas.MAX_NEW_BASES],
          "top": [1, schemas.MAX_TOP]}


def check_lang(params) -> str:
    """`lang` of the query: "id" (default) or "en"; anything else is a 422."""
    lang = params.get("lang") or "id"
    if lang not in LANGUAGES:
        raise ValidationFailed.field("lang", "must be one of " + ", ".join(LANGUAGES))
    return lang


def _runs(request: Request) -> service.PlannerRuns:
    return request.app.state.planner


def _run(request: Request) -> service.Run:
    run_id = str(request.path_params["run_id"])
    if not RUN_ID.fullmatch(run_id):
        raise NotFound("no such planner run")
    return _runs(request).get_run(run_id)


async def planner_defaults(request: Request, principal: Principal) -> Response:
    """What the page's form starts from: every field's default, ready-made scenarios,
    the candidate sites (the city's health facilities) and the limits of a run."""
    sites, settings = city_sites(), request.app.state.settings
    return JSON({"defaults": scenario_defaults(), "presets": service.get_presets(sites),
                 "sites": sites, "kinds": list(TEAM_KINDS), "limits": LIMITS,
                 "max_calls": settings.planner_max_calls,
                 # Whether `travel.router: "service"` plans on the service's road graph.
                 "roads": settings.router.startswith("osm:")})


async def start_run(request: Request, principal: Principal) -> Response:
    body = await read_model(request, schemas.RunRequest)
    settings = request.app.state.settings
    job = schemas.check_run_request(body, settings.planner_max_calls, settings.router)
    run = _runs(request).do_start_run(job, principal.name)
    return JSON(run_view(run, with_result=False), status_code=202,
                headers={"Location": f"/api/v1/planner/runs/{run.id}"})


async def list_runs(request: Request, principal: Principal) -> Response:
    return JSON({"items": [run_view(run, with_result=False)
                           for run in _runs(request).get_runs()]})


async def get_run(request: Request, principal: Principal) -> Response:
    return JSON(run_view(_run(request)), headers={"Cache-Control": "no-store"})


def _curves(result: dict) -> list[tuple[str, list[dict]]]:
    scenarios = result.get("scenarios") or [result]
    return [(s["name"], s["fractiles"]) for s in scenarios if "fractiles" in s]


async def run_fractiles(request: Request, principal: Principal) -> Response:
    """The run's fractile curves (each scenario's), as SVG; 409 before it is done."""
    lang = check_lang(request.query_params)
    run = _run(request)
    if run.status != "done":
        raise Conflict(f"the run is {run.status}: its curves come when it is done")
    scenarios = run.result.get("scenarios") or [run.result]
    target_s = 60 * float(scenarios[0].get("target_min", 15))
    svg = await run_in_threadpool(plots.fractile_curves_svg, _curves(run.result),
                                  target_s=target_s, lang=lang)
    return Response(svg, media_type=SVG, headers=SVG_HEADERS)


RUN_PARAM = ({"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}},)
operations = [
    Operation("get", "/api/v1/planner/defaults", planner_defaults, REPORT_READERS,
              "The planner form's defaults, ready-made scenarios, candidate sites, limits",
              answers={200: "`{\"defaults\", \"presets\", \"sites\", \"kinds\", \"limits\", "
                            "\"max_calls\", \"roads\"}` (roads: the service has a road "
                            "graph the form may plan on)"}),
    Operation("post", "/api/v1/planner/runs", start_run, REPORT_READERS,
              "Start a planner run: one scenario, 2-4 compared, or a search for bases",
              body=schemas.RunRequest,
              answers={202: "the run `{\"id\", \"status\": \"queued\", ...}` (Location: its URL)",
                       422: "every wrong field named (`scenario.teams[0].base.lat`...)",
                       503: "the planner is busy (Retry-After)"}),
    Operation("get", "/api/v1/planner/runs", list_runs, REPORT_READERS,
              "This instance's runs, newest first, without their results",
              answers={200: "`{\"items\": [run]}`"}),
    Operation("get", "/api/v1/planner/runs/{run_id}", get_run, REPORT_READERS,
              "A run: status (queued, running, done, failed), progress 0..1, result or error",
              answers={200: "the run with `result` (docs/planner.md) once done",
                       404: "no such run on this instance"}, parameters=RUN_PARAM),
    Operation("get", "/api/v1/planner/runs/{run_id}/fractiles.svg", run_fractiles,
              REPORT_READERS, "The run's fractile curves (each scenario), as SVG",
              answers={200: "image/svg+xml", 404: "no such run", 409: "not done yet",
                       422: "bad lang"}, parameters=(*RUN_PARAM, LANG), media_type=SVG),
]
