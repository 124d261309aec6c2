"""The database away: PostgreSQL stopped under a stream of requests, a starved pool, a
background loop hit by an unexpected exception. Clients get 503 with Retry-After
(never 500), the service serves again soon after PostgreSQL is back, nothing is
stored twice, and the loops carry on."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest

from db import assignments as assignments_db
from db import lines as lines_db
from db import webhooks as webhooks_db
from db.pool import connect
from dispatch import events
from dispatch.config import Settings
from dispatch.incidents import queue
from dispatch.teams import presence
from realtime.client import EventClient
from tests.support import CITY, Api, own_postgres, running_service, wait_until, ws_url

RECOVERY_S = 10.0  # how long the service may take to serve again after PostgreSQL is back
RETRY_S = 0.2  # a client's pause before sending again after a 503
PACE_S = 0.25  # each client's pace: 5 operators + 3 phones over ~10 s, ~300 requests
STEPS = ("acknowledge", "en_route", "on_scene", "transporting", "at_hospital", "clear")
TEAMS = ("T1", "T2", "T3")
OPERATORS = 5


@dataclass
class Traffic:
    """Every answer the clients got: (sent, answered, status, Retry-After, media type)."""

    answers: list[tuple[float, float, int, str | None, str]] = field(default_factory=list)
    accepted: dict[str, int] = field(default_factory=dict)  # Idempotency-Key: incident id
    steps: list[tuple[int, str, str]] = field(default_factory=list)  # incident, action, id
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, api: Api, method: str, path: str, role: str,
                   **kwargs) -> httpx.Response:
        sent = time.monotonic()
        response = await api.call(method, path, role, **kwargs)
        self.answers.append((sent, time.monotonic(), response.status_code,
                             response.headers.get("retry-after"),
                             response.headers.get("content-type", "")))
        assert response.status_code in (200, 201, 204, 503), response.text
        return response

    async def until_accepted(self, api: Api, method: str, path: str, role: str,
                             **kwargs) -> httpx.Response:
        """Send until not 503 (the same request: it is idempotent), within a ceiling."""
        deadline = time.monotonic() + 60
        while (response := await self.send(api, method, path, role, **kwargs)).status_code == 503:
            assert time.monotonic() < deadline, f"{path} still 503 after 60 s"
            await asyncio.sleep(RETRY_S)
        return response

    def unavailable(self) -> int:
        return sum(1 for answer in self.answers if answer[2] == 503)


async def operator(api: Api, traffic: Traffic) -> None:
    """Log incidents, each with its own Idempotency-Key, until told to stop."""
    while not traffic.stop.is_set():
        key = uuid.uuid4().hex
        body = {"caller_number": "081234567890", "location": {"lat": CITY[0], "lon": CITY[1]},
                "address": "Jl. Bau Massepe 1", "complaint": "sesak napas", "priority": 2}
        response = await traffic.until_accepted(api, "POST", "/api/v1/incidents", "operator",
                                                json=body, headers={"Idempotency-Key": key})
        assert response.status_code in (200, 201), response.text
        traffic.accepted[key] = response.json()["id"]
        await asyncio.sleep(PACE_S)


async def phone(api: Api, traffic: Traffic, code: str) -> None:
    """A team's phone: a GPS fix, then the next step of its assignment (each step with
    its own client_id, sent again unchanged after a 503), until told to stop."""
    role, done = f"team:{code}", {}
    while not traffic.stop.is_set():
        fix = {"lat": CITY[0] + 0.001, "lon": CITY[1], "accuracy_m": 10}
        await traffic.send(api, "POST", "/api/v1/team/location", role, json=fix)
        response = await traffic.send(api, "GET", "/api/v1/team/assignment", role)
        assignment = response.json()["assignment"] if response.status_code == 200 else None
        if assignment is not None:
            incident_id = assignment["incident"]["id"]
            action = STEPS[done.get(incident_id, 0)]
            client_id = uuid.uuid4().hex
            step = {"action": action, "incident_id": incident_id, "client_id": client_id}
            answer = await traffic.until_accepted(api, "POST", "/api/v1/team/status", role,
                                                  json=step)
            assert answer.status_code == 200 and answer.json()["ok"], answer.text
            done[incident_id] = done.get(incident_id, 0) + 1
            traffic.steps.append((incident_id, action, client_id))
        await asyncio.sleep(PACE_S)


async def check_stored_once(dsn: str, traffic: Traffic) -> None:
    """Every accepted incident stored once, under its key; no team on two active
    assignments; every step stored once."""
    conn = await connect(dsn)
    try:
        keys = await conn.fetch("SELECT key, incident_id FROM idempotency_keys")
        assert {row["key"]: row["incident_id"] for row in keys} == traffic.accepted
        assert await conn.fetchval("SELECT count(*) FROM incidents") == len(traffic.accepted)
        assert await conn.fetchval(
            """SELECT count(*) FROM (SELECT team_id FROM assignments WHERE ended_at IS NULL
               GROUP BY team_id HAVING count(*) > 1) AS doubled""") == 0
        rows = await conn.fetch("SELECT incident_id, action, client_id FROM status_requests")
        stored = sorted((r["incident_id"], r["action"], r["client_id"]) for r in rows)
        assert stored == sorted(traffic.steps)
        assert len({(incident, action) for incident, action, _ in stored}) == len(stored)
    finally:
        await conn.close()


async def health(api: Api) -> httpx.Response:
    return await api.http.get("/api/v1/health")


async def test_requests_during_a_postgres_outage_get_503_and_nothing_twice(
        tmp_path: Path) -> None:
    async with own_postgres(tmp_path / "pg") as (server, dsn):
        settings = Settings(database_url=dsn, secret_key="test", sweep_interval_s=0.2,
                            pool_max=10)
        async with running_service(settings) as base, Api(base, dsn) as api:
            await api.login_all()
            for code in TEAMS:
                await api.team(code, *CITY)
                await api.device_token(code)
            traffic = Traffic()
            clients = [asyncio.create_task(operator(api, traffic)) for _ in range(OPERATORS)]
            clients += [asyncio.create_task(phone(api, traffic, code)) for code in TEAMS]
            try:
                await wait_until(lambda: len(traffic.accepted) >= 10 and traffic.steps,
                                 what="traffic flowing before the outage")
                await asyncio.to_thread(server.stop)
                down_at = time.monotonic()
                down = await health(api)
                assert down.status_code == 503 and down.headers["retry-after"], down.text
                assert down.headers["content-type"] == "application/problem+json"
                await asyncio.sleep(3)  # the outage, under the clients' steady stream
                await wait_until(lambda: traffic.unavailable() >= 20, what="503s while down")
                up_at = time.monotonic()
                assert await asyncio.to_thread(server.start) == dsn
                started = time.monotonic()
                await wait_until(lambda: _is_ok(api), RECOVERY_S,
                                 what="health 200 after PostgreSQL came back", poll_s=0.1)
                recovered_s = time.monotonic() - started
                served = len(traffic.accepted)
                await wait_until(lambda: len(traffic.accepted) >= served + 10, RECOVERY_S,
                                 what="incidents accepted again")
            finally:
                traffic.stop.set()
                await asyncio.gather(*clients)
            assert recovered_s < RECOVERY_S
            during = [a for a in traffic.answers if a[0] >= down_at and a[1] <= up_at]
            assert during and all(a[2] == 503 for a in during), during
            unavailable = [a for a in traffic.answers if a[2] == 503]
            assert all(a[3] and int(a[3]) > 0 for a in unavailable)
            assert all(a[4] == "application/problem+json" for a in unavailable)
            assert len(traffic.answers) >= 100
            await check_stored_once(dsn, traffic)


async def _is_ok(api: Api) -> bool:
    return (await health(api)).status_code == 200


@pytest.mark.settings(ack_timeout_s=1)
async def test_sweeper_survives_an_unexpected_exception(
        api: Api, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    original, calls = assignments_db.get_overdue_assignments, []

    async def fails_once(*args, **kwargs):
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("a bad row")
        return await original(*args, **kwargs)

    monkeypatch.setattr(assignments_db, "get_overdue_assignments", fails_once)
    await wait_until(lambda: calls, what="the sweeper failing once")
    await api.team("NEAR", *CITY)
    incident = (await api.incident()).json()
    assert incident["assignment"] is not None
    ended = await wait_until(lambda: db.fetchval(
        "SELECT end_reason FROM assignments WHERE incident_id = $1 AND ended_at IS NOT NULL",
        incident["id"]), what="the overdue assignment withdrawn")
    assert ended == "ack_timeout"
    assert len(calls) >= 2


@pytest.mark.settings(ack_timeout_s=1)
async def test_one_bad_overdue_assignment_does_not_hold_up_the_others(
        api: Api, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    await api.team("A", *CITY)
    await api.team("B", CITY[0] + 0.01, CITY[1])
    bad, good = [(await api.incident()).json() for _ in range(2)]
    assert bad["assignment"] and good["assignment"]
    original = queue._withdraw_one

    async def fails_for_bad(conn, ctx, assignment_id, incident_id):
        if incident_id == bad["id"]:
            raise RuntimeError("a bad row")
        return await original(conn, ctx, assignment_id, incident_id)

    monkeypatch.setattr(queue, "_withdraw_one", fails_for_bad)
    ended = "SELECT end_reason FROM assignments WHERE incident_id = $1 AND ended_at IS NOT NULL"
    assert await wait_until(lambda: db.fetchval(ended, good["id"]),
                            what="the good overdue assignment withdrawn") == "ack_timeout"
    assert await db.fetchval(ended, bad["id"]) is None


def fails_once(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[float]:
    """Make `owner.name` raise RuntimeError on its first call, then work; the times
    it was called."""
    original, calls = getattr(owner, name), []

    async def patched(*args, **kwargs):
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError(f"{name} failed once")
        return await original(*args, **kwargs)

    monkeypatch.setattr(owner, name, patched)
    return calls


@pytest.mark.settings(presence_touch_s=0.1, line_poll_s=0.1)
async def test_presence_monitor_and_deliverer_survive_an_unexpected_exception(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"presence": fails_once(monkeypatch, presence, "do_touch_devices"),
             "line monitor": fails_once(monkeypatch, lines_db, "get_lines"),
             "webhook deliverer": fails_once(monkeypatch, webhooks_db, "claim_due")}
    for loop, called in calls.items():
        await wait_until(lambda called=called: len(called) >= 3,
                         what=f"the {loop} going on after an exception")


@pytest.mark.settings(pool_max=2, db_acquire_timeout_s=1.0, sweep_interval_s=3600)
async def test_starved_pool_answers_503_quickly(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    held, release = [], asyncio.Event()

    async def slow_ping(conn: asyncpg.Connection) -> None:
        held.append(conn)
        await release.wait()

    monkeypatch.setattr("dispatch.api.ping", slow_ping)
    holders = [asyncio.create_task(health(api)) for _ in range(2)]
    try:
        await wait_until(lambda: len(held) == 2, what="both pooled connections held")
        started = time.monotonic()
        response = await api.get("/api/v1/incidents")
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"]
        assert time.monotonic() - started < 5
    finally:
        release.set()
        answers = await asyncio.gather(*holders)
    assert [answer.status_code for answer in answers] == [200, 200]
    assert (await api.get("/api/v1/incidents")).status_code == 200


class CommitTrap:
    """Holds the first transaction about to commit an event named `name`, its events
    written, just before COMMIT, until `release` is set: the test ends its connection
    there, as a database that goes away at that moment does."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.name, self.pid, self.release = name, None, asyncio.Event()
        self.original = events.flush
        monkeypatch.setattr(events, "flush", self.flush)

    async def flush(self, conn: asyncpg.Connection) -> int | None:
        names = [pending.name for pending in events._buffer.get() or []]
        latest = await self.original(conn)
        if self.pid is None and self.name in names:
            self.pid = conn.get_server_pid()
            await self.release.wait()
        return latest

    async def kill(self, db: asyncpg.Connection) -> None:
        """Wait for the trapped transaction, end its backend, then let it COMMIT."""
        pid = await wait_until(lambda: self.pid, what=f"a commit of {self.name}")
        assert await db.fetchval("SELECT pg_terminate_backend($1)", pid)
        await wait_until(lambda: _gone(db, pid), what="the backend ended")
        self.release.set()


async def _gone(db: asyncpg.Connection, pid: int) -> bool:
    return not await db.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)


async def _pool_serves(api: Api) -> None:
    """More requests than the pool has connections all succeed: no broken one is
    handed out again."""
    for _ in range(5):
        assert (await health(api)).status_code == 200


@pytest.mark.settings(pool_max=2, sweep_interval_s=3600)
async def test_commit_on_a_dead_connection_is_503_and_the_retry_stores_once(
        api: Api, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    await api.team("NEAR", *CITY)
    trap, key = CommitTrap(monkeypatch, "incident.created"), uuid.uuid4().hex
    first = asyncio.create_task(api.incident(headers={"Idempotency-Key": key}))
    await trap.kill(db)
    response = await first
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert response.headers["content-type"] == "application/problem+json"
    await _pool_serves(api)
    again = await api.incident(headers={"Idempotency-Key": key})
    assert again.status_code == 201, again.text  # the first never committed
    assert await db.fetchval("SELECT count(*) FROM incidents") == 1
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = $1", key) == 1
    assert (await api.incident(headers={"Idempotency-Key": key})).status_code == 200


@pytest.mark.settings(pool_max=2, sweep_interval_s=3600)
async def test_status_frame_on_a_dead_connection_answers_503(
        api: Api, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    await api.team("NEAR", *CITY)
    token = await api.device_token("NEAR")
    incident = (await api.incident()).json()
    step = {"type": "status", "action": "acknowledge", "incident_id": incident["id"],
            "client_id": "ack-1"}
    async with EventClient(ws_url(api.base_url), token) as phone:
        trap = CommitTrap(monkeypatch, "incident.updated")
        await phone.send(step)
        await trap.kill(db)
        refused = await phone.next_reply(timeout=30)
        assert refused["ok"] is False and refused["status"] == 503, refused
        await phone.send(step)  # the phone sends the same step again
        accepted = await phone.next_reply(timeout=30)
        assert accepted["ok"] is True and "replayed" not in accepted, accepted
    await _pool_serves(api)
    assert await db.fetchval(
        "SELECT count(*) FROM status_requests WHERE client_id = 'ack-1'") == 1
    detail = (await api.get(f"/api/v1/incidents/{incident['id']}")).json()
    assert detail["status"] == "acknowledged"
