"""Allocation: the nearest free on-duty team that fits goes; otherwise the incident queues."""

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg

from tests.support import Api, logged

SCENE = (-4.0, 119.64)


async def test_nearest_team_is_chosen(api: Api) -> None:
    await api.team("FAR", -4.03, 119.66)
    near = await api.team("NEAR", -4.004, 119.641)
    await api.team("MID", -4.01, 119.65)
    body = (await api.incident(*SCENE)).json()
    assert body["status"] == "assigned"
    assert body["assignment"]["team_id"] == near["id"]
    assert 0 < body["assignment"]["distance_m"] < 1000
    assert body["assignment"]["eta_s"] > 0


async def test_off_shift_busy_and_wrong_kind_teams_are_skipped(api: Api) -> None:
    await api.team("OFF", -4.0001, 119.6401, on_duty=False)
    busy = await api.team("BUSY", -4.0002, 119.6402)
    await api.team("BIKE", -4.0003, 119.6403, kind="motorbike")
    bls = await api.team("BLS", -4.0004, 119.6404, kind="bls")
    als = await api.team("ALS", -4.02, 119.65, kind="als")
    # Make BUSY busy with an incident right at its base.
    first = (await api.incident(-4.0002, 119.6402)).json()
    assert first["assignment"]["team_id"] == busy["id"]
    second = (await api.incident(*SCENE)).json()
    assert second["assignment"]["team_id"] == bls["id"]
    # An incident that needs advanced life support waits for the ALS team, farther away.
    third = (await api.incident(*SCENE, required_kind="als")).json()
    assert third["assignment"]["team_id"] == als["id"]


async def test_motorbike_only_where_the_incident_allows(api: Api) -> None:
    bike = await api.team("BIKE", -4.0001, 119.6401, kind="motorbike")
    amb = await api.team("AMB", -4.01, 119.65, kind="bls")
    allowed = (await api.incident(*SCENE, required_kind="motorbike")).json()
    assert allowed["assignment"]["team_id"] == bike["id"]
    normal = (await api.incident(*SCENE)).json()
    assert normal["assignment"]["team_id"] == amb["id"]


async def _fix(api: Api, code: str, lat: float, lon: float, age: timedelta) -> None:
    await api.device_token(code)
    at = (datetime.now(UTC) - age).isoformat()
    response = await api.post("/api/v1/team/location", {"lat": lat, "lon": lon, "at": at},
                              role=f"team:{code}")
    assert response.status_code == 204, response.text


async def test_fresh_gps_fix_beats_the_base(api: Api) -> None:
    await api.team("BASENEAR", -4.003, 119.641)
    mover = await api.team("MOVER", -4.05, 119.68)
    await _fix(api, "MOVER", -4.0005, 119.6401, timedelta(seconds=30))
    body = (await api.incident(*SCENE)).json()
    assert body["assignment"]["team_id"] == mover["id"]
    teams = {t["code"]: t for t in (await api.get("/api/v1/teams")).json()["items"]}
    assert teams["MOVER"]["position"]["source"] == "gps"


async def test_the_teams_announcement_shows_it_as_reserved(api: Api,
                                                          db: asyncpg.Connection) -> None:
    """The allocation's `team.updated` is the team as the reservation left it: sent,
    at its fresh fix, the same as the team list shows right after."""
    mover = await api.team("MOVER", -4.05, 119.68)
    await _fix(api, "MOVER", -4.0005, 119.6401, timedelta(seconds=30))
    before = await db.fetchval("SELECT coalesce(max(seq), 0) FROM events")
    body = (await api.incident(*SCENE)).json()
    assert body["assignment"]["team_id"] == mover["id"]
    announced = [row["data"] for row in await logged(db, before, team_id=mover["id"])
                 if row["name"] == "team.updated" and row["data"].get("incident_id")]
    listed = {t["code"]: t for t in (await api.get("/api/v1/teams")).json()["items"]}["MOVER"]
    assert announced[0]["status"] == listed["status"] == "dispatched"
    assert announced[0]["position"] == listed["position"]
    assert announced[0]["position"]["source"] == "gps"
    assert [a["incident_id"] for a in announced] == [body["id"]]
    assert {k: v for k, v in announced[0].items() if k in listed} == listed


async def test_stale_gps_fix_does_not(api: Api) -> None:
    base_near = await api.team("BASENEAR", -4.003, 119.641)
    await api.team("MOVER", -4.05, 119.68)
    await _fix(api, "MOVER", -4.0005, 119.6401, timedelta(minutes=30))
    body = (await api.incident(*SCENE)).json()
    assert body["assignment"]["team_id"] == base_near["id"]
    teams = {t["code"]: t for t in (await api.get("/api/v1/teams")).json()["items"]}
    assert teams["MOVER"]["position"]["source"] == "base"


async def test_no_free_team_queues(api: Api) -> None:
    await api.team("OFF", -4.0, 119.64, on_duty=False)
    body = (await api.incident(*SCENE)).json()
    assert body == {**body, "status": "queued", "assignment": None}


async def test_cleared_team_takes_most_urgent_then_oldest(api: Api) -> None:
    team = await api.team("ONLY", -4.0, 119.64)
    await api.device_token("ONLY")
    busy = (await api.incident(*SCENE, priority=3)).json()
    assert busy["assignment"]["team_id"] == team["id"]
    old_yellow = (await api.incident(*SCENE, priority=2)).json()
    old_red = (await api.incident(-4.03, 119.66, priority=1)).json()
    new_red = (await api.incident(*SCENE, priority=1)).json()
    assert {old_yellow["status"], old_red["status"], new_red["status"]} == {"queued"}
    for action in ("acknowledge", "en_route", "on_scene", "clear"):
        assert (await api.step("ONLY", action, busy["id"])).status_code == 200
    served = (await api.get(f"/api/v1/incidents/{old_red['id']}")).json()
    assert served["status"] == "assigned"
    assert served["assignment"]["team_id"] == team["id"]
    for waiting in (old_yellow, new_red):
        assert (await api.get(f"/api/v1/incidents/{waiting['id']}")).json()["status"] == "queued"


async def test_cancelling_frees_the_team_for_the_queue(api: Api) -> None:
    team = await api.team("ONLY", -4.0, 119.64)
    first = (await api.incident(*SCENE)).json()
    waiting = (await api.incident(*SCENE)).json()
    assert waiting["status"] == "queued"
    response = await api.post(f"/api/v1/incidents/{first['id']}/cancel", {"reason": "salah"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    served = (await api.get(f"/api/v1/incidents/{waiting['id']}")).json()
    assert served["assignment"]["team_id"] == team["id"]


async def test_manual_reassign_to_a_free_team(api: Api) -> None:
    near = await api.team("NEAR", -4.0, 119.64)
    other = await api.team("OTHER", -4.02, 119.65)
    incident = (await api.incident(*SCENE)).json()
    assert incident["assignment"]["team_id"] == near["id"]
    response = await api.post(f"/api/v1/incidents/{incident['id']}/assign",
                              {"team_id": other["id"]})
    assert response.status_code == 200, response.text
    assert response.json()["assignment"]["team_id"] == other["id"]
    teams = {t["code"]: t["status"] for t in (await api.get("/api/v1/teams")).json()["items"]}
    assert teams == {"NEAR": "available", "OTHER": "dispatched"}
    again = await api.post(f"/api/v1/incidents/{incident['id']}/assign",
                           {"team_id": other["id"]})
    assert again.status_code == 409


async def test_incident_gets_its_kecamatan(api: Api, db) -> None:
    from db.districts import upsert_district
    await upsert_district(db, "Soreang", -3.9881, 119.6438, None)
    await upsert_district(db, "Bacukiki", -4.0380, 119.6780, None)
    await api.team("T", -4.0, 119.64)
    body = (await api.incident(-3.99, 119.645)).json()
    assert body["district"] == "Soreang"


async def test_a_team_on_an_assignment_is_never_sent_twice_even_if_marked_free(api: Api,
                                                                               db) -> None:
    """The one-assignment index is the last word: a team whose status wrongly says
    available while it is on an assignment is skipped, and its status is not moved."""
    stuck = await api.team("STUCK", -4.0001, 119.6401)
    other = await api.team("OTHER", -4.01, 119.65)
    first = (await api.incident(-4.0001, 119.6401)).json()
    assert first["assignment"]["team_id"] == stuck["id"]
    await db.execute("UPDATE teams SET status = 'available' WHERE id = $1", stuck["id"])
    second = (await api.incident(*SCENE)).json()
    assert second["assignment"]["team_id"] == other["id"]
    assert await db.fetchval("SELECT status FROM teams WHERE id = $1", stuck["id"]) == "available"
    assert await db.fetchval("SELECT count(*) FROM assignments WHERE team_id = $1",
                             stuck["id"]) == 1


async def test_teams_freed_at_once_each_take_one_waiting_incident(api: Api) -> None:
    """Five teams clear together: the passes over the queue that their clears ask for
    are shared (dispatch/coalesce.py), and still every waiting incident has a team by
    the time the last clear is answered, each team sent once."""
    codes = [f"T{n}" for n in range(5)]
    by_id = {}
    for n, code in enumerate(codes):
        by_id[(await api.team(code, -4.0 + n * 0.001, 119.64))["id"]] = code
        await api.device_token(code)
    busy = [(await api.incident(*SCENE)).json() for _ in codes]
    waiting = [(await api.incident(*SCENE)).json() for _ in codes]
    assert [w["status"] for w in waiting] == ["queued"] * len(codes)
    team_of = {b["assignment"]["team_id"]: b["id"] for b in busy}
    for team_id, incident_id in team_of.items():
        for action in ("acknowledge", "en_route", "on_scene"):
            assert (await api.step(by_id[team_id], action, incident_id)).status_code == 200
    answers = await asyncio.gather(*(api.step(by_id[team_id], "clear", incident_id)
                                     for team_id, incident_id in team_of.items()))
    assert [a.status_code for a in answers] == [200] * len(codes)
    served = [(await api.get(f"/api/v1/incidents/{w['id']}")).json() for w in waiting]
    assert [s["status"] for s in served] == ["assigned"] * len(codes)
    assert sorted(s["assignment"]["team_id"] for s in served) == sorted(team_of)
