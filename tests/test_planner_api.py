"""The planner page's API: who may plan, bad scenarios named field by field, a run
simulated in the background worker to its result with progress on the way, and a
busy worker refusing more runs without starting them."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time

import pytest

from dispatch.config import Settings
from tests.support import WAIT_S, Api, running_service, wait_until

RSUD = {"lat": -4.034919, "lon": 119.633957}
LAKESSI = {"lat": -4.005628, "lon": 119.628014}
SMALL = {"replications": 3, "days": 2}


def scenario(name: str = "dua tim", **fields) -> dict:
    return {"name": name, "calls_per_hour": 1.0,
            "teams": [{"code": "A1", "base": RSUD}, {"code": "A2", "base": LAKESSI}], **fields}


async def finished(api: Api, run_id: str, seen: list[dict] | None = None) -> dict:
    """Poll the run until it is done or failed; every answer on the way into `seen`."""
    async def check() -> dict | None:
        response = await api.get(f"/api/v1/planner/runs/{run_id}", role="health_office")
        assert response.status_code == 200, response.text
        body = response.json()
        if seen is not None:
            seen.append(body)
        return body if body["status"] in ("done", "failed") else None
    return await wait_until(check, what="a finished run", poll_s=0.02)


async def test_defaults_and_roles(api: Api) -> None:
    response = await api.get("/api/v1/planner/defaults", role="health_office")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["defaults"]["target_min"] == 15 and "teams" not in body["defaults"]
    assert "RSUD Andi Makkasau" in [site["name"] for site in body["sites"]]
    assert body["presets"][0]["teams"][0]["code"] == "RSUD-1"
    assert (await api.get("/api/v1/planner/defaults", role="admin")).status_code == 200
    for role, status in (("operator", 403), (None, 401)):
        assert (await api.get("/api/v1/planner/defaults", role=role)).status_code == status
        refused = await api.post("/api/v1/planner/runs", {"scenario": scenario(), **SMALL},
                                 role=role)
        assert refused.status_code == status, refused.text
    assert (await api.get("/api/v1/planner/runs", role="health_office")).json() == {"items": []}


@pytest.mark.parametrize(("body", "fields"), [
    ({"scenario": {"teams": [{"code": "A", "base": {"lat": 99, "lon": 119.6}}],
                   "calls_per_hour": -1, "replications": 1, "colour": "red"}},
     {"scenario.teams[0].base.lat", "scenario.calls_per_hour", "scenario.replications",
      "scenario.colour"}),
    ({"scenario": scenario(), "replications": 5000, "days": 0},
     {"replications", "days"}),
    ({"scenario": scenario(demand={"geojson": "/etc/passwd"})}, {"scenario.demand"}),
    ({"scenarios": [scenario(), {"teams": []}]}, {"scenarios[1].teams"}),
    ({}, {"scenario"}),
    ({"scenario": scenario(), "scenarios": [scenario(), scenario()]}, {"scenario"}),
    ({"scenarios": [scenario(), scenario()], "search_bases": {"k": 1}}, {"search_bases"}),
    ({"scenario": scenario(), "search_bases": {"k": 9, "kind": "helicopter"}},
     {"search_bases.k", "search_bases.kind"}),
    ({"scenario": scenario(calls_per_hour=100), "replications": 100, "days": 365},
     {"replications"}),
    ({"scenario": "teams"}, {"scenario"}),
])
async def test_bad_runs_name_every_field(api: Api, body: dict, fields: set[str]) -> None:
    response = await api.post("/api/v1/planner/runs", body, role="health_office")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in response.json()["errors"]} == fields, response.text
    assert (await api.get("/api/v1/planner/runs", role="health_office")).json() == {"items": []}


async def test_not_json_and_unknown_runs(api: Api) -> None:
    bad = await api.call("POST", "/api/v1/planner/runs", role="health_office",
                         content=b"{nope", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400, bad.text
    for run_id in ("0123456789abcdef", "../../etc", "x" * 200):
        missing = await api.get(f"/api/v1/planner/runs/{run_id}", role="health_office")
        assert missing.status_code == 404, missing.text
        assert missing.headers["content-type"] == "application/problem+json"


async def test_a_run_goes_to_its_result_with_progress(api: Api) -> None:
    started = time.monotonic()
    response = await api.post("/api/v1/planner/runs", {"scenario": scenario(), **SMALL},
                              role="health_office")
    assert response.status_code == 202, response.text
    run = response.json()
    assert run["status"] == "queued" and run["kind"] == "run"
    assert response.headers["location"] == f"/api/v1/planner/runs/{run['id']}"
    # The service keeps answering while the worker simulates.
    health = await api.get("/api/v1/health", role=None)
    assert health.status_code == 200
    seen: list[dict] = []
    done = await finished(api, run["id"], seen)
    assert done["status"] == "done", done
    assert done["progress"] == 1 and done["replications_total"] == 3
    progress = [answer["progress"] for answer in seen]
    assert progress == sorted(progress)  # never backwards
    result = done["result"]
    assert result["replications"] == 3 and result["days"] == 2
    assert 0 <= result["late_share"]["mean"] <= 1
    assert len(result["fractiles"]) == 30 and len(result["by_kelurahan"]) == 22
    assert [t["code"] for t in result["teams"]] == ["A1", "A2"]
    assert time.monotonic() - started < WAIT_S
    # The curve as SVG, in both languages; the list shows the run without its result.
    svg = await api.get(f"/api/v1/planner/runs/{run['id']}/fractiles.svg?lang=en",
                        role="health_office")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert "dua tim" in svg.text and "Target 15 min" in svg.text
    listed = (await api.get("/api/v1/planner/runs", role="admin")).json()["items"]
    assert [(r["id"], r["status"], "result" in r) for r in listed] == [(run["id"], "done", False)]


async def test_compare_and_search(api: Api) -> None:
    one = scenario("satu tim", teams=[{"code": "A1", "base": RSUD}])
    compare = await api.post("/api/v1/planner/runs",
                             {"scenarios": [one, scenario()], **SMALL}, role="admin")
    assert compare.status_code == 202, compare.text
    search = await api.post("/api/v1/planner/runs", {"scenario": one, **SMALL,
                                                     "search_bases": {"k": 1, "top": 2}},
                            role="health_office")
    assert search.status_code == 202, search.text
    both = (await finished(api, compare.json()["id"]))["result"]
    assert [s["name"] for s in both["scenarios"]] == ["satu tim", "dua tim"]
    # A second team cannot make the same calls later on average.
    assert both["differences"][0]["name"] == "dua tim - satu tim"
    assert both["differences"][0]["mean_response_min"]["mean"] <= 0
    best = (await finished(api, search.json()["id"]))["result"]
    assert best["k"] == 1 and len(best["best"]) == 2
    assert best["best"][0]["sites"][0] in [s["name"] for s in best["sites"]]
    # Shares and their intervals stay within 0..1, as in a plain run's result.
    for figure in [best["current"]["late_share"], *(row["late_share"] for row in best["best"])]:
        assert 0 <= figure["ci95"][0] <= figure["mean"] <= figure["ci95"][1] <= 1, figure


@pytest.mark.settings(planner_queue=0)
async def test_a_busy_worker_refuses_more_runs(api: Api) -> None:
    first = await api.post("/api/v1/planner/runs", {"scenario": scenario(), **SMALL},
                           role="health_office")
    assert first.status_code == 202, first.text
    busy = await api.post("/api/v1/planner/runs", {"scenario": scenario(), **SMALL},
                          role="admin")
    assert busy.status_code == 503, busy.text
    assert busy.headers["content-type"] == "application/problem+json"
    assert int(busy.headers["retry-after"]) > 0
    items = (await api.get("/api/v1/planner/runs", role="admin")).json()["items"]
    assert [r["id"] for r in items] == [first.json()["id"]]
    # A run not done has no curve yet; once it is done, the next run is taken.
    early = await api.get(f"/api/v1/planner/runs/{first.json()['id']}/fractiles.svg",
                          role="admin")
    assert early.status_code in (200, 409)
    await finished(api, first.json()["id"])
    again = await api.post("/api/v1/planner/runs", {"scenario": scenario(), **SMALL},
                           role="admin")
    assert again.status_code == 202, again.text
    assert (await finished(api, again.json()["id"]))["status"] == "done"


async def test_the_event_loop_stays_free_while_simulating(api: Api) -> None:
    """A bigger run simulates in the worker process: the service's own requests keep
    answering quickly meanwhile."""
    response = await api.post("/api/v1/planner/runs",
                              {"scenario": scenario(calls_per_hour=4), "replications": 20,
                               "days": 10}, role="health_office")
    assert response.status_code == 202, response.text
    run_id = response.json()["id"]
    slowest, deadline = 0.0, time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        body = (await api.get(f"/api/v1/planner/runs/{run_id}", role="health_office")).json()
        slowest = max(slowest, time.monotonic() - t0)
        if body["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.05)
    assert body["status"] == "done", body
    assert slowest < 1.0, slowest


async def test_a_killed_worker_fails_its_run_and_the_next_run_gets_a_new_one(
        api: Api) -> None:
    response = await api.post("/api/v1/planner/runs",
                              {"scenario": scenario(calls_per_hour=4), "replications": 100,
                               "days": 60}, role="health_office")
    assert response.status_code == 202, response.text
    run_id = response.json()["id"]

    async def running() -> bool:
        body = (await api.get(f"/api/v1/planner/runs/{run_id}", role="health_office")).json()
        return body["status"] == "running"
    await wait_until(running, what="the run running")
    # The worker is the one process this test's service started with multiprocessing.
    workers = multiprocessing.active_children()
    assert len(workers) == 1, workers
    os.kill(workers[0].pid, signal.SIGKILL)
    failed = await finished(api, run_id)
    assert failed["status"] == "failed" and "worker stopped" in failed["error"], failed
    assert failed["result"] is None
    again = await api.post("/api/v1/planner/runs", {"scenario": scenario(), **SMALL},
                           role="health_office")
    assert again.status_code == 202, again.text
    assert (await finished(api, again.json()["id"]))["status"] == "done"


async def test_stopping_the_service_ends_a_running_simulation(settings: Settings,
                                                              dsn: str) -> None:
    """A service stopped mid-run does not wait for the simulation: its worker ends."""
    async with running_service(settings) as base_url, Api(base_url, dsn) as api:
        await api.login_all()
        response = await api.post("/api/v1/planner/runs",
                                  {"scenario": scenario(calls_per_hour=4), "replications": 100,
                                   "days": 60}, role="health_office")
        run_id = response.json()["id"]

        async def running() -> bool:
            answer = await api.get(f"/api/v1/planner/runs/{run_id}", role="health_office")
            return answer.json()["status"] == "running"
        await wait_until(running, what="the run running")
        workers = multiprocessing.active_children()
        assert len(workers) == 1, workers
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 10

    async def ended() -> bool:
        # The executor's own thread may be the one reaping the process: wait for it.
        return not workers[0].is_alive()
    await wait_until(ended, what="the worker process ended")
