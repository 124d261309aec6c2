"""The response-time reports against an independent computation: a past of 600
incidents with known step times (tests/reports_data.py), every figure of the JSON
report recomputed here with numpy from the definitions in docs/reports.md, and the
CSV log's intervals recomputed from its own timestamps."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import asyncpg
import numpy
import pytest

from tests.reports_data import CALLER, ZONE, Made, make_history
from tests.support import Api

# The written past must stay as written: no sweep serves its queued incidents.
pytestmark = pytest.mark.settings(sweep_interval_s=3600)
PERIOD = {"from": "2026-06-01", "to": "2026-08-31"}
TARGET_S = 900
SHIFTS = (("pagi", 7), ("sore", 15), ("malam", 23))
# Each interval: (from, to) step times; on scene ends with transport, else with clear.
INTERVALS = {
    "dispatch_s": ("received_at", "assigned_at"),
    "ack_s": ("last_assigned_at", "acknowledged_at"),
    "turnout_s": ("acknowledged_at", "en_route_at"),
    "travel_s": ("en_route_at", "on_scene_at"),
    "response_s": ("received_at", "on_scene_at"),
    "mobilisation_s": ("last_assigned_at", "en_route_at"),
    "on_scene_s": ("on_scene_at", ("transporting_at", "closed_at")),
    "transport_s": ("transporting_at", "at_hospital_at"),
    "handover_s": ("at_hospital_at", "closed_at"),
    "committed_s": ("last_assigned_at", "closed_at"),
}
CONTRACT_HEADER = ["incident_id", "priority", "district", "team_code", "received_at",
                   "assigned_at", "acknowledged_at", "en_route_at", "on_scene_at",
                   "closed_at", "dispatch_s", "ack_s", "turnout_s", "travel_s", "response_s"]


def interval(row: dict, name: str) -> float | None:
    start, end = INTERVALS[name]
    if isinstance(end, tuple):
        end = next((e for e in end if row.get(e)), end[-1])
    if row.get(start) is None or row.get(end) is None:
        return None
    return (row[end] - row[start]).total_seconds()


def key_of(row: dict, group_by: str, made: Made) -> str:
    local = row["received_at"].astimezone(ZONE)
    shift = next((name for name, start in reversed(SHIFTS) if start <= local.hour),
                 SHIFTS[-1][0])
    iso = local.isocalendar()
    return {"priority": str(row["priority"]),
            "district": made.districts.get(row["district_id"], ""),
            "kelurahan": made.kelurahan.get(row["kelurahan_id"], ""),
            "team": made.teams.get(row["team_id"], ""), "shift": shift,
            "hour": f"{local.hour:02d}", "weekday": str(local.isoweekday()),
            "week": f"{iso.year}-W{iso.week:02d}", "month": f"{local:%Y-%m}"}[group_by]


def expected_group(rows: list[dict]) -> dict:
    counts = {"count": len(rows),
              "cancelled": sum(r["status"] == "cancelled" for r in rows),
              "open": sum(r["status"] not in ("closed", "cancelled") for r in rows),
              "reassigned": sum(r["assignments"] > 1 for r in rows),
              "never_assigned": sum(r["assignments"] == 0 for r in rows)}
    intervals = {}
    for name in INTERVALS:
        values = [v for v in (interval(r, name) for r in rows) if v is not None]
        figures = {"n": len(values)}
        if values:
            p50, p90 = numpy.percentile(values, [50, 90])
            figures.update(p50=round(p50, 1), p90=round(p90, 1), max=round(max(values), 1),
                           mean=round(float(numpy.mean(values)), 1))
        if name == "response_s" and values:
            figures["share_within_target"] = round(
                float(numpy.mean([v <= TARGET_S for v in values])), 4)
        intervals[name] = figures
    return {**counts, "intervals": intervals}


@pytest.fixture
async def history(api: Api, db: asyncpg.Connection) -> Made:
    teams = {}
    for code in ("R1", "R2", "L1", "L2"):
        teams[(await api.team(code, -4.0, 119.64))["id"]] = code
    return await make_history(db, teams)


def in_period(made: Made) -> list[dict]:
    first = datetime(2026, 6, 1, tzinfo=ZONE)
    end = datetime(2026, 9, 1, tzinfo=ZONE)
    return [{"id": i, **row} for i, row in made.incidents.items()
            if first <= row["received_at"] < end]


@pytest.mark.parametrize("group_by", ["priority", "district", "kelurahan", "team", "shift",
                                      "hour", "weekday", "week", "month"])
async def test_every_figure_equals_an_independent_computation(
        api: Api, history: Made, group_by: str) -> None:
    rows = in_period(history)
    assert len(rows) == 600 and {r["kind"] for r in rows} >= {"reassigned", "queued", "open"}
    response = await api.get("/api/v1/reports/response-times",
                             params={**PERIOD, "group_by": group_by}, role="health_office")
    assert response.status_code == 200, response.text
    report = response.json()
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(key_of(row, group_by, history), []).append(row)
    assert [g["key"] for g in report["groups"]] == sorted(groups)
    for group in report["groups"]:
        expected = expected_group(groups[group["key"]])
        for name, figures in expected["intervals"].items():
            got = group["intervals"][name]
            for figure, value in figures.items():
                assert got[figure] == pytest.approx(value, abs=0.051), (group["key"], name,
                                                                        figure)
        assert {k: group[k] for k in expected if k != "intervals"} == \
            {k: v for k, v in expected.items() if k != "intervals"}
    total = expected_group(rows)
    assert report["total"]["count"] == total["count"] == 600
    assert report["total"]["intervals"]["response_s"]["p90"] == pytest.approx(
        total["intervals"]["response_s"]["p90"], abs=0.051)


async def test_fractiles_are_cumulative_shares_of_reached_incidents(
        api: Api, history: Made) -> None:
    responses = [v for v in (interval(r, "response_s") for r in in_period(history))
                 if v is not None]
    body = (await api.get("/api/v1/reports/response-times/fractiles", params=PERIOD,
                          role="health_office")).json()
    assert [item["minutes"] for item in body["items"]] == list(range(1, 31))
    for item in body["items"]:
        within = sum(v <= item["minutes"] * 60 for v in responses)
        assert item["count"] == within
        assert item["share"] == pytest.approx(within / len(responses), abs=1e-4)
    # Fractiles do not add: P90 of the parts is not P90 of the whole.
    total = (await api.get("/api/v1/reports/response-times", params=PERIOD,
                           role="health_office")).json()["total"]["intervals"]
    parts = sum(total[name]["p90"] for name in ("dispatch_s", "ack_s", "turnout_s",
                                                "travel_s"))
    assert parts != pytest.approx(total["response_s"]["p90"], abs=1)


def parse_time(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


async def test_csv_log_has_the_contract_header_and_intervals_of_its_own_times(
        api: Api, history: Made) -> None:
    response = await api.get("/api/v1/reports/response-times.csv", params=PERIOD,
                             role="health_office")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    header, body = rows[0], rows[1:]
    assert header[:len(CONTRACT_HEADER)] == CONTRACT_HEADER
    assert len(body) == 600
    assert CALLER not in response.text and "081299990000" not in response.text
    for values in body:
        row = dict(zip(header, values, strict=True))
        times = {name: parse_time(row[name]) for name in header if name.endswith("_at")}
        for name in INTERVALS:
            expected = interval(times, name)
            if expected is None:
                assert row[name] == ""
            else:
                assert float(row[name]) == pytest.approx(expected, abs=0.001)
                assert float(row[name]) >= 0
        assert row["within_target"] in ("", "True", "False")
    districts = {row[header.index("district")] for row in body}
    assert "'=Bacukiki" in districts and "=Bacukiki" not in districts  # no formula runs


async def test_dates_are_whole_local_days_and_bad_queries_are_refused(
        api: Api, history: Made) -> None:
    one_day = (await api.get("/api/v1/reports/response-times",
                             params={"from": "2026-06-01", "to": "2026-06-01"},
                             role="health_office")).json()
    expected = [r for r in in_period(history)
                if r["received_at"].astimezone(ZONE).date().isoformat() == "2026-06-01"]
    assert (one_day["total"] or {"count": 0})["count"] == len(expected)
    for params in ({"group_by": "colour"}, {"from": "yesterday"}, {"from": "2026-08-01",
                                                                   "to": "2026-07-01"},
                   {"from": "2026-06-01T10:00:00"}, {"from": "1990-01-01"}):
        bad = await api.get("/api/v1/reports/response-times", params=params,
                            role="health_office")
        assert bad.status_code == 422, params
        assert bad.headers["content-type"] == "application/problem+json"
