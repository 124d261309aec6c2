"""Taking a call: a call the gateway opened rings on every dashboard until one operator
takes it; exactly one of several operators trying at once does, the others are told
who did, and nobody but the taker (or the gateway, hanging up) may end it or make it an
incident. A call the operator opened by picking up is theirs from the start."""

from __future__ import annotations

import asyncio

import asyncpg

from db import users as users_db
from dispatch.auth.service import hash_secret
from tests.calls_support import check_problem, end_call, fingerprint, login_gateway, open_call
from tests.support import CITY, Api

NUMBER = "081234567890"
RACERS = 10
PASSWORD = "operator-secret-2"


async def operators(api: Api, db: asyncpg.Connection, count: int) -> list[str]:
    """`count` more operators, op1..opN, each logged in (api.tokens[name])."""
    names = [f"op{i}" for i in range(1, count + 1)]
    digest = await hash_secret(PASSWORD)
    for name in names:
        await users_db.upsert_user(db, name, digest, "operator")
        response = await api.http.post("/api/v1/auth/token",
                                        json={"username": name, "password": PASSWORD})
        assert response.status_code == 200, response.text
        api.tokens[name] = response.json()["access_token"]
    return names


async def test_ten_operators_race_for_one_call_and_exactly_one_wins(
        api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    names = await operators(api, db, RACERS)
    call = await open_call(api, NUMBER)
    assert call["taken_by"] is None and call["taken_at"] is None
    answers = await asyncio.gather(*(api.post(f"/api/v1/calls/{call['id']}/take", role=name)
                                     for name in names))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [409] * (RACERS - 1), statuses
    winner = next(answer.json() for answer in answers if answer.status_code == 200)
    assert winner["taken_by"] in names and winner["taken_at"] is not None
    for answer in answers:
        if answer.status_code == 409:
            problem = check_problem(answer, 409)
            assert problem["taken_by"] == winner["taken_by"]
            assert winner["taken_by"] in problem["detail"]
    row = await db.fetchrow("SELECT taken_by, status FROM calls WHERE id = $1", call["id"])
    assert tuple(row) == (winner["taken_by"], "open")
    taken = await db.fetch("SELECT data FROM events WHERE name = 'call.taken'")
    assert len(taken) == 1


async def test_only_the_taker_ends_the_call_or_makes_it_an_incident(
        api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    await api.team("T1", *CITY)
    first, second = await operators(api, db, 2)
    call = await open_call(api, NUMBER)
    taken = await api.post(f"/api/v1/calls/{call['id']}/take", role=first)
    assert taken.status_code == 200, taken.text
    before = await fingerprint(db)
    refused = [
        await api.post(f"/api/v1/calls/{call['id']}/take", role=second),
        await api.post(f"/api/v1/calls/{call['id']}/take", role=first),   # a second tab
        await api.post(f"/api/v1/calls/{call['id']}/end", {"disposition": "prank"},
                       role=second),
        await api.incident(call_id=call["id"], role=second),
    ]
    for answer in refused:
        assert check_problem(answer, 409)["taken_by"] == first
    assert await fingerprint(db) == before
    incident = await api.incident(call_id=call["id"], role=first)
    assert incident.status_code == 201, incident.text
    ended = await end_call(api, call["id"], "incident", incident.json()["id"], role=first)
    assert ended["taken_by"] == first and ended["status"] == "ended"
    # Ended: nobody can take it any more.
    late = await api.post(f"/api/v1/calls/{call['id']}/take", role=second)
    assert "taken_by" in check_problem(late, 409)


async def test_a_picked_up_call_is_the_operators_from_the_start(
        api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    (other,) = await operators(api, db, 1)
    mine = await open_call(api, NUMBER, role="operator")
    assert mine["taken_by"] == "operator" and mine["taken_at"] is not None
    created = await db.fetchval(
        "SELECT data->>'taken_by' FROM events WHERE name = 'call.created'")
    assert created == "operator"
    answer = await api.post(f"/api/v1/calls/{mine['id']}/take", role=other)
    assert check_problem(answer, 409)["taken_by"] == "operator"
    assert await db.fetchval("SELECT count(*) FROM events WHERE name = 'call.taken'") == 0


async def test_the_gateway_hangs_up_any_call_and_an_untaken_call_ends_as_taken(
        api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    (first,) = await operators(api, db, 1)
    taken = await open_call(api, NUMBER)
    assert (await api.post(f"/api/v1/calls/{taken['id']}/take", role=first)).status_code == 200
    hung_up = await end_call(api, taken["id"], "dropped", role="gateway")
    assert hung_up["taken_by"] == first
    # An operator closing a ringing call without taking it first has handled it.
    ringing = await open_call(api, "081355554444")
    closed = await end_call(api, ringing["id"], "wrong_number", role=first)
    assert closed["taken_by"] == first and closed["taken_at"] is not None
    # The gateway's own hang-up of a ringing call leaves it nobody's.
    unanswered = await open_call(api, "085299998888")
    dropped = await end_call(api, unanswered["id"], "dropped", role="gateway")
    assert dropped["taken_by"] is None


async def test_refused_takes(api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    call = await open_call(api, NUMBER)
    before = await fingerprint(db)
    check_problem(await api.post("/api/v1/calls/999999/take"), 404)
    check_problem(await api.post("/api/v1/calls/abc/take"), 404)
    check_problem(await api.post(f"/api/v1/calls/{call['id']}/take", role="gateway"), 403)
    check_problem(await api.post(f"/api/v1/calls/{call['id']}/take", role="health_office"), 403)
    check_problem(await api.post(f"/api/v1/calls/{call['id']}/take", role=None), 401)
    assert await fingerprint(db) == before
