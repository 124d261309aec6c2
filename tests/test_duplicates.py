"""Possible duplicates (issue 12): while an operator types, active incidents near the
position (300 m) and recent (30 min), or from the same number, are offered; never a
closed or cancelled one."""

from __future__ import annotations

import math

import asyncpg
import pytest

from tests.calls_support import check_problem, fingerprint
from tests.support import CITY, Api

NUMBER = "081234567890"
# Metres per degree of latitude on the sphere the query measures on.
M_PER_DEG = 2 * math.pi * 6371008.8 / 360


def north(metres: float) -> tuple[float, float]:
    return CITY[0] + metres / M_PER_DEG, CITY[1]


async def offered(api: Api, query: str) -> list[tuple[int, list[str]]]:
    response = await api.get(f"/api/v1/incidents/duplicates?{query}")
    assert response.status_code == 200, response.text
    return [(item["id"], item["match"]) for item in response.json()["items"]]


async def test_distance_boundary(api: Api) -> None:
    await api.team("T1", *CITY)
    incident = (await api.incident(*CITY, caller_number="085200001111")).json()["id"]
    near, far = north(299), north(301)
    assert await offered(api, f"lat={near[0]}&lon={near[1]}") == [(incident, ["distance"])]
    assert await offered(api, f"lat={far[0]}&lon={far[1]}") == []
    item = (await api.get(f"/api/v1/incidents/duplicates?lat={near[0]}&lon={near[1]}")).json()
    assert item["items"][0]["distance_m"] == 299
    assert item["items"][0]["caller_number"] == "+6285200001111"


@pytest.mark.settings(duplicate_radius_m=100.0, duplicate_window_s=600)
async def test_distance_and_window_are_settings(api: Api, db: asyncpg.Connection) -> None:
    incident = (await api.incident(*CITY)).json()["id"]
    for metres, expected in ((99, [(incident, ["distance"])]), (101, [])):
        lat, lon = north(metres)
        assert await offered(api, f"lat={lat}&lon={lon}") == expected
    await db.execute("UPDATE incidents SET received_at = now() - interval '11 minutes'")
    assert await offered(api, f"lat={CITY[0]}&lon={CITY[1]}") == []


async def test_time_boundary(api: Api, db: asyncpg.Connection) -> None:
    recent = (await api.incident(*CITY, caller_number="085200001111")).json()["id"]
    older = (await api.incident(*CITY, caller_number="085200002222")).json()["id"]
    await db.execute("UPDATE incidents SET received_at = now() - interval '29 minutes'"
                     " WHERE id = $1", recent)
    await db.execute("UPDATE incidents SET received_at = now() - interval '31 minutes'"
                     " WHERE id = $1", older)
    assert await offered(api, f"lat={CITY[0]}&lon={CITY[1]}") == [(recent, ["distance"])]
    # The same number finds it however old, and however far.
    lat, lon = north(5000)
    assert await offered(api, f"lat={lat}&lon={lon}&number=085200002222") == \
        [(older, ["number"])]
    assert await offered(api, "number=%2B6285200002222") == [(older, ["number"])]


async def test_same_number_first_then_nearest(api: Api) -> None:
    near = (await api.incident(*north(50), caller_number="085200001111")).json()["id"]
    nearer = (await api.incident(*north(10), caller_number="085200002222")).json()["id"]
    same = (await api.incident(*north(200), caller_number=NUMBER)).json()["id"]
    assert await offered(api, f"lat={CITY[0]}&lon={CITY[1]}&number={NUMBER}") == [
        (same, ["distance", "number"]), (nearer, ["distance"]), (near, ["distance"])]


async def test_never_a_closed_or_cancelled_incident(api: Api) -> None:
    await api.team("T1", *CITY)
    await api.device_token("T1")
    closed = (await api.incident(*CITY, caller_number=NUMBER)).json()
    assert closed["assignment"]["team_id"]
    for action in ("acknowledge", "en_route", "on_scene", "clear"):
        assert (await api.step("T1", action, closed["id"])).status_code == 200
    cancelled = (await api.incident(*CITY, caller_number=NUMBER)).json()["id"]
    assert (await api.post(f"/api/v1/incidents/{cancelled}/cancel",
                           {"reason": "test"})).status_code == 200
    assert await offered(api, f"lat={CITY[0]}&lon={CITY[1]}&number={NUMBER}") == []
    queued = (await api.incident(*CITY, caller_number=NUMBER)).json()["id"]
    assert await offered(api, f"lat={CITY[0]}&lon={CITY[1]}&number={NUMBER}") == [
        (queued, ["distance", "number"])]


async def test_bad_queries_are_refused(api: Api, db: asyncpg.Connection) -> None:
    await api.incident(*CITY)
    before = await fingerprint(db)
    base = "/api/v1/incidents/duplicates"
    for query, field in (("", "lat"), ("lat=-4.0", "lon"), ("lon=119.6", "lat"),
                         ("lat=abc&lon=119.6", "lat"), ("lat=91&lon=119.6", "lat"),
                         ("lat=-4&lon=nan", "lon"), ("lat=-4&lon=inf", "lon"),
                         ("number=call-me", "number"), ("number=12", "number")):
        check_problem(await api.get(f"{base}?{query}"), 422, field)
    check_problem(await api.get(f"{base}?number={NUMBER}", role="health_office"), 403)
    assert await fingerprint(db) == before
