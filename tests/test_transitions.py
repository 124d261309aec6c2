"""Every step of the transition table, from every state: the ones that follow
succeed, the others answer 409 and change nothing; replays have no second effect."""

import asyncio

import asyncpg
import pytest

from dispatch.states import RESPONDER_ACTIONS, TRANSITIONS
from tests.support import Api, logged, wait_until

PATH = ("acknowledge", "en_route", "on_scene", "transporting", "at_hospital", "clear")


async def _snapshot(db: asyncpg.Connection) -> tuple:
    incidents = await db.fetch("SELECT id, status FROM incidents ORDER BY id")
    teams = await db.fetch("SELECT id, status FROM teams ORDER BY id")
    events = await db.fetchval("SELECT count(*) FROM events")
    return [tuple(r) for r in incidents], [tuple(r) for r in teams], events


async def _assigned(api: Api, code: str = "T") -> int:
    await api.team(code, -4.0, 119.64)
    await api.device_token(code)
    incident = (await api.incident()).json()
    assert incident["status"] == "assigned"
    return incident["id"]


async def test_responder_path_and_every_wrong_step(api: Api, db: asyncpg.Connection) -> None:
    incident_id = await _assigned(api)
    for expected in PATH:
        for action in RESPONDER_ACTIONS:
            allowed = action == expected or (action == "clear" and expected == "transporting")
            if allowed:
                continue
            before = await _snapshot(db)
            response = await api.step("T", action, incident_id)
            assert response.status_code == 409, (expected, action, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert await _snapshot(db) == before
        response = await api.step("T", expected, incident_id)
        assert response.status_code == 200, (expected, response.text)
    detail = (await api.get(f"/api/v1/incidents/{incident_id}")).json()
    assert detail["status"] == "closed"
    assert detail["assignment"] is None
    for stamp in ("assigned_at", "acknowledged_at", "en_route_at", "on_scene_at",
                  "transporting_at", "at_hospital_at", "closed_at"):
        assert detail[stamp] is not None, stamp
    teams = (await api.get("/api/v1/teams")).json()["items"]
    assert teams[0]["status"] == "available"


async def test_each_steps_announcement_is_the_incident_as_read_after_it(
        api: Api, db: asyncpg.Connection) -> None:
    """A step announces the incident as its own update returned it: the same as the
    incident read right after, its team gone once cleared."""
    incident_id = await _assigned(api)
    for action in PATH:
        before = await db.fetchval("SELECT max(seq) FROM events")
        assert (await api.step("T", action, incident_id)).status_code == 200, action
        announced = [row["data"] for row in await logged(db, before)
                     if row["name"] == "incident.updated"]
        assert len(announced) == 1, action
        read = (await api.get(f"/api/v1/incidents/{incident_id}")).json()
        assert {k: v for k, v in announced[0].items() if k in read} == {
            k: v for k, v in read.items() if k in announced[0]}, action
        assert announced[0]["action"] == action
        assert announced[0]["status"] == read["status"]
        if action == "acknowledge":  # the team was reached by the app, as the board shows
            team = [row["data"] for row in await logged(db, before)
                    if row["name"] == "team.updated"][0]
            listed = (await api.get("/api/v1/teams")).json()["items"][0]
            assert team["reached_via"] == listed["reached_via"] == "app"
            assert team["reached_at"] == listed["reached_at"] is not None
    assert announced[0]["team_id"] is None


async def test_treated_on_scene_clears_without_transport(api: Api) -> None:
    incident_id = await _assigned(api)
    for action in ("acknowledge", "en_route", "on_scene", "clear"):
        assert (await api.step("T", action, incident_id)).status_code == 200
    assert (await api.get(f"/api/v1/incidents/{incident_id}")).json()["status"] == "closed"


@pytest.mark.parametrize("steps_before", [0, 1, 2, 3, 4, 5])
async def test_cancel_from_every_active_state(api: Api, steps_before: int) -> None:
    incident_id = await _assigned(api)
    for action in PATH[:steps_before]:
        assert (await api.step("T", action, incident_id)).status_code == 200
    response = await api.post(f"/api/v1/incidents/{incident_id}/cancel", {"reason": "batal"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    again = await api.post(f"/api/v1/incidents/{incident_id}/cancel", {"reason": "batal"})
    assert again.status_code == 409
    assert (await api.step("T", PATH[steps_before], incident_id)).status_code == 409
    teams = (await api.get("/api/v1/teams")).json()["items"]
    assert teams[0]["status"] == "available"


async def test_queued_incident_cancel_and_closed_incident_cannot_be_cancelled(api: Api) -> None:
    queued = (await api.incident()).json()
    assert queued["status"] == "queued"
    response = await api.post(f"/api/v1/incidents/{queued['id']}/cancel", {"reason": "x"})
    assert response.status_code == 200
    incident_id = await _assigned(api)
    for action in ("acknowledge", "en_route", "on_scene", "clear"):
        await api.step("T", action, incident_id)
    closed = await api.post(f"/api/v1/incidents/{incident_id}/cancel", {"reason": "x"})
    assert closed.status_code == 409


async def test_reassign_refused_once_on_scene(api: Api) -> None:
    incident_id = await _assigned(api)
    other = await api.team("OTHER", -4.02, 119.65)
    for action in ("acknowledge", "en_route", "on_scene"):
        await api.step("T", action, incident_id)
    response = await api.post(f"/api/v1/incidents/{incident_id}/assign",
                              {"team_id": other["id"]})
    assert response.status_code == 409


async def test_team_service_transitions(api: Api) -> None:
    team = await api.team("S", -4.0, 119.64)
    path = f"/api/v1/teams/{team['id']}/service"
    assert (await api.post(path, {"status": "available"})).status_code == 409
    assert (await api.post(path, {"status": "out_of_service"})).status_code == 200
    assert (await api.incident()).json()["status"] == "queued"
    assert (await api.post(path, {"status": "out_of_service"})).status_code == 409
    assert (await api.post(path, {"status": "available"})).status_code == 200
    # Back in service: the sweeper hands it the queued incident.
    async def dispatched() -> bool:
        return (await api.get(f"/api/v1/teams/{team['id']}")).json()["status"] == "dispatched"
    await wait_until(dispatched, what="the queued incident served", poll_s=0.1)
    assert (await api.post(path, {"status": "out_of_service"})).status_code == 409


async def test_repeated_client_id_has_no_second_effect(api: Api, db: asyncpg.Connection) -> None:
    incident_id = await _assigned(api)
    first = await api.step("T", "acknowledge", incident_id, client_id="phone-1")
    assert first.status_code == 200
    before = await _snapshot(db)
    for _ in range(3):
        again = await api.step("T", "acknowledge", incident_id, client_id="phone-1")
        assert again.status_code == 200
        assert again.json()["incident_status"] == "acknowledged"
    assert await _snapshot(db) == before
    reused = await api.step("T", "en_route", incident_id, client_id="phone-1")
    assert reused.status_code == 409


async def test_concurrent_replays_of_one_step_apply_once(api: Api, db: asyncpg.Connection) -> None:
    incident_id = await _assigned(api)
    responses = await asyncio.gather(*(
        api.step("T", "acknowledge", incident_id, client_id="same") for _ in range(10)))
    assert {r.status_code for r in responses} == {200}
    count = await db.fetchval(
        "SELECT count(*) FROM events WHERE name = 'incident.updated' AND data->>'action' = $1",
        "acknowledge")
    assert count == 1


async def test_idempotency_key_never_makes_a_second_incident(api: Api,
                                                             db: asyncpg.Connection) -> None:
    await api.team("T", -4.0, 119.64)
    key = {"Idempotency-Key": "call-7-form-1"}
    responses = await asyncio.gather(*(api.incident(headers=key) for _ in range(5)))
    assert {r.json()["id"] for r in responses} == {responses[0].json()["id"]}
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    # The first answer, made from what its transaction wrote, is what a replay reads.
    assert all(r.json() == responses[0].json() for r in responses)
    assert responses[0].json()["assignment"]["team_id"] is not None
    assert await db.fetchval("SELECT count(*) FROM incidents") == 1
    assert await db.fetchval("SELECT count(*) FROM assignments") == 1
    different = await api.incident(headers=key, priority=1)
    assert different.status_code == 409
    assert await db.fetchval("SELECT count(*) FROM incidents") == 1
    queued_key = {"Idempotency-Key": "call-8-form-1"}  # no team left: queued
    queued = await api.incident(headers=queued_key)
    assert (queued.status_code, queued.json()["status"]) == (201, "queued")
    assert (await api.incident(headers=queued_key)).json() == queued.json()


def test_transition_table_covers_every_action() -> None:
    assert set(RESPONDER_ACTIONS) <= set(TRANSITIONS)
    for name, transition in TRANSITIONS.items():
        assert transition.incident or transition.team, name
