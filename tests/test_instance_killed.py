"""Two instances of the service on one database, and one of them SIGKILLed in the middle
of a stream of incidents while phones and a dashboard are connected to it.

Both instances run as their own `dispatch112 serve` process (as in
tests/test_lines_cluster.py), so that A can really die: its sockets and database
sessions end with it, whatever it was doing. Four teams' phones and one dashboard
follow the live feed of A; two operators' clients post 40 incidents with an
Idempotency-Key each, alternating A and B and retrying a key on the other instance when
one gives no answer or 503. Each phone acknowledges and clears every assignment it
receives (HTTP steps with a client_id, retried on the instance that is alive), so the
queue keeps moving. After the kill the feed clients reconnect to B with their last seq.

What must hold afterwards:
1. every key is stored exactly once, and every answer named that incident (a POST that
   got no answer from A is either stored once, the retry on B returning it, or created
   once by that retry); each key sent to B once more returns its incident, 200;
2. no team is ever on two active assignments;
3. after dedup by seq, each phone got every `assignment.created` of its team once, in
   seq order, and the dashboard every `incident.created` (as in the events table);
4. no half-made assignment at any moment: an active assignment has its incident in an
   assigned..at_hospital state and its team busy, and the other way round.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from dispatch.vocabulary import BUSY_TEAM_STATES
from realtime.client import EventClient
from tests.support import CITY, Api, wait_until, ws_url

ROOT = Path(__file__).resolve().parents[1]
TEAMS = 4
CLIENTS, PER_CLIENT = 2, 20
INCIDENTS = CLIENTS * PER_CLIENT
# A is killed once this many incidents were answered (in the middle of the stream),
# while the next incident sent to it is in flight.
KILL_AFTER = 16
STEPS = ("acknowledge", "en_route", "on_scene", "clear")
ASSIGNED_STATES = ("assigned", "acknowledged", "en_route", "on_scene", "transporting",
                   "at_hospital")
# How long one request may take, and how long a write is retried on the other instance.
REQUEST_S, RETRY_S = 10.0, 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(dsn: str, log_path: Path) -> tuple[str, subprocess.Popen]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": dsn, "DISPATCH112_SECRET_KEY": "test",
           # Long enough that no assignment is withdrawn for want of an acknowledgement.
           "DISPATCH112_ACK_TIMEOUT_S": "3600", "DISPATCH112_LOG_LEVEL": "warning"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dispatch.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port)],
            env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)
    return f"http://127.0.0.1:{port}", process


@pytest.fixture
def instances(dsn: str, tmp_path: Path) -> Iterator[list[tuple[str, subprocess.Popen]]]:
    """Instances A and B, each its own process; killed (by pid) afterwards."""
    started = [_spawn(dsn, tmp_path / f"instance_{name}.log") for name in "ab"]
    try:
        yield started
    finally:
        for _, process in started:
            if process.poll() is None:
                process.kill()
                process.wait(10)


async def _healthy(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=1) as http:
            return (await http.get(f"{url}/api/v1/health")).status_code == 200
    except httpx.TransportError:
        return False


class Recorder(EventClient):
    """An EventClient that also keeps every event frame as it came, before dedup."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.raw: list[dict] = []

    def _on_frame(self, frame: dict) -> None:
        if frame.get("type") == "event":
            self.raw.append(frame)
        super()._on_frame(frame)


def deduped(frames: list[dict], name: str) -> list[int]:
    """The seqs of the `name` frames, each first arrival of a seq only, as they came."""
    seen: set[int] = set()
    seqs = []
    for frame in frames:
        if frame["seq"] in seen:
            continue
        seen.add(frame["seq"])
        if frame["name"] == name:
            seqs.append(frame["seq"])
    return seqs


class Cluster:
    """Where to send a write: A while it lives (and B), else B only."""

    def __init__(self, url_a: str, url_b: str) -> None:
        self.url_a, self.url_b = url_a, url_b
        self.a_killed = False
        # Called once, a moment after the next incident is sent to A (then in flight).
        self.kill_a: Callable[[], None] | None = None
        self.http = httpx.AsyncClient(timeout=REQUEST_S)

    def order(self, first: str) -> list[str]:
        urls = [first, self.url_b if first == self.url_a else self.url_a]
        return [url for url in urls if not (self.a_killed and url == self.url_a)]

    async def post(self, first: str, path: str, body: dict,
                   headers: dict) -> tuple[httpx.Response, list[str]]:
        """POST to `first`, then on to the other instance while the answer is no answer
        or 503 (after a 429, as a phone does, again after Retry-After); the answer, and
        the URLs that gave no answer."""
        unanswered: list[str] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RETRY_S
        attempt = 0
        while True:
            urls = self.order(first)
            url = urls[attempt % len(urls)]
            attempt += 1
            try:
                sending = asyncio.ensure_future(
                    self.http.post(f"{url}{path}", json=body, headers=headers))
                if url == self.url_a and path == "/api/v1/incidents" and self.kill_a:
                    kill, self.kill_a = self.kill_a, None
                    await asyncio.sleep(0.002)
                    kill()
                response = await sending
            except httpx.TransportError:
                unanswered.append(url)
            else:
                if response.status_code == 429:  # a phone's steps are rate-limited: wait
                    attempt -= 1  # and send it to the same instance again
                    wait_s = min(float(response.headers.get("Retry-After") or 0.5), 2.0)
                    await asyncio.sleep(max(wait_s, 0.1))
                    continue
                if response.status_code != 503:
                    return response, unanswered
            assert loop.time() < deadline, f"no answer to POST {path} within {RETRY_S} s"
            await asyncio.sleep(0.05)


async def check_invariants(db: asyncpg.Connection) -> None:
    """No team on two active assignments and no half-made assignment, in one snapshot."""
    broken = await db.fetch(
        """WITH active AS (SELECT * FROM assignments WHERE ended_at IS NULL)
           SELECT 'two active assignments' AS what, team_id AS id FROM active
             GROUP BY team_id HAVING count(*) > 1
           UNION ALL
           SELECT 'two teams on one incident', incident_id FROM active
             GROUP BY incident_id HAVING count(*) > 1
           UNION ALL
           SELECT 'assignment with incident ' || i.status || ', team ' || t.status, a.id
             FROM active a JOIN incidents i ON i.id = a.incident_id
                           JOIN teams t ON t.id = a.team_id
            WHERE NOT (i.status = ANY($1::text[]) AND t.status = ANY($2::text[]))
           UNION ALL
           SELECT 'incident ' || i.status || ' without a team', i.id FROM incidents i
            WHERE i.status = ANY($1::text[])
              AND NOT EXISTS (SELECT 1 FROM active a WHERE a.incident_id = i.id)
           UNION ALL
           SELECT 'team ' || t.status || ' without an assignment', t.id FROM teams t
            WHERE t.status = ANY($2::text[])
              AND NOT EXISTS (SELECT 1 FROM active a WHERE a.team_id = t.id)""",
        list(ASSIGNED_STATES), list(BUSY_TEAM_STATES))
    assert not broken, [dict(row) for row in broken]


async def watch(dsn: str, stop: asyncio.Event) -> int:
    """check_invariants, on a connection of its own, until `stop`; how many snapshots
    were checked."""
    checks = 0
    conn = await asyncpg.connect(dsn)
    try:
        while not stop.is_set():
            await check_invariants(conn)
            checks += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.02)
    finally:
        await conn.close()
    return checks


async def phone_worker(cluster: Cluster, phone: Recorder, token: str,
                       handled: list[int]) -> None:
    """Acknowledge, drive and clear each assignment as it arrives."""
    headers = {"Authorization": f"Bearer {token}"}
    while True:
        frame = await phone.events.get()
        if frame["name"] != "assignment.created":
            continue
        incident_id = frame["data"]["incident_id"]
        for action in STEPS:
            body = {"action": action, "incident_id": incident_id,
                    "client_id": f"{incident_id}-{action}-{uuid.uuid4().hex[:6]}"}
            response, _ = await cluster.post(cluster.url_a, "/api/v1/team/status", body,
                                             headers)
            assert response.status_code == 200, (action, response.text)
        handled.append(incident_id)


@pytest.fixture
async def cluster(instances: list[tuple[str, subprocess.Popen]]) -> AsyncIterator[Cluster]:
    (url_a, _), (url_b, _) = instances
    for url in (url_a, url_b):
        await wait_until(lambda url=url: _healthy(url), what=f"{url} up", poll_s=0.1)
    together = Cluster(url_a, url_b)
    yield together
    await together.http.aclose()


async def test_killing_an_instance_mid_stream_loses_and_doubles_nothing(
        cluster: Cluster, instances: list[tuple[str, subprocess.Popen]], dsn: str,
        db: asyncpg.Connection) -> None:
    process_a = instances[0][1]
    url_a, url_b = cluster.url_a, cluster.url_b
    async with Api(url_a, dsn) as api:
        await api.login_all()
        teams = [await api.team(f"K{n}", CITY[0] + 0.01 * n, CITY[1]) for n in range(TEAMS)]
        tokens = {team["id"]: await api.device_token(team["code"]) for team in teams}
    operator = api.tokens["operator"]
    start = await db.fetchval("SELECT coalesce(max(seq), 0) FROM events")

    phones = {team_id: Recorder(ws_url(url_a), token, last_seq=start)
              for team_id, token in tokens.items()}
    dashboard = Recorder(ws_url(url_a), operator, last_seq=start)
    feeds = [*phones.values(), dashboard]
    stop_watching = asyncio.Event()
    watcher = asyncio.create_task(watch(dsn, stop_watching))
    handled: dict[int, list[int]] = {team_id: [] for team_id in phones}
    workers: list[asyncio.Task] = []
    answers: dict[str, tuple[int, int]] = {}  # key: (status, incident id) of its answer
    bodies: dict[str, dict] = {}
    unanswered_by_a: set[str] = set()
    answered = 0

    def kill_a() -> None:
        # The feeds reconnect to B; they look at their URL only when reconnecting.
        for feed in feeds:
            feed.url = ws_url(url_b)
        cluster.a_killed = True
        os.kill(process_a.pid, signal.SIGKILL)

    async def operator_client(n: int) -> None:
        nonlocal answered
        headers = {"Authorization": f"Bearer {operator}"}
        for i in range(PER_CLIENT):
            key = f"desk{n}-call{i}"
            body = {"caller_number": "081234567890",
                    "location": {"lat": CITY[0] + 0.001 * i, "lon": CITY[1]},
                    "address": f"Jl. Bau Massepe {i}", "complaint": "sesak napas",
                    "priority": 1 + (i % 3)}
            first = (url_a, url_b)[(i + n) % 2]
            response, missed = await cluster.post(
                first, "/api/v1/incidents", body, {**headers, "Idempotency-Key": key})
            assert response.status_code in (200, 201), (key, response.text)
            answers[key] = response.status_code, response.json()["id"]
            bodies[key] = body
            if url_a in missed:
                unanswered_by_a.add(key)
            answered += 1
            if answered == KILL_AFTER:
                cluster.kill_a = kill_a

    try:
        for feed in feeds:
            await feed.__aenter__()
        workers = [asyncio.create_task(phone_worker(cluster, phones[team_id], tokens[team_id],
                                                    handled[team_id]))
                   for team_id in phones]
        await asyncio.gather(*(operator_client(n) for n in range(CLIENTS)))
        assert cluster.a_killed and process_a.wait(10) == -signal.SIGKILL

        # The queue drains: every incident closed by its team.
        async def all_closed() -> bool:
            for task in (*workers, watcher):
                if task.done():
                    task.result()  # a failing phone or a broken invariant fails it now
            return await db.fetchval(
                "SELECT count(*) FROM incidents WHERE status = 'closed'") == INCIDENTS
        await wait_until(all_closed, what=f"{INCIDENTS} incidents closed")
        stop_watching.set()
        checks = await watcher
        latest = await db.fetchval("SELECT max(seq) FROM events")
        await wait_until(lambda: dashboard.last_seq >= latest, what="the dashboard caught up")
        # Every key sent once more, to B: the incident it made before, nothing new.
        for key, (_, incident_id) in answers.items():
            again, _ = await cluster.post(url_b, "/api/v1/incidents", bodies[key],
                                          {"Authorization": f"Bearer {operator}",
                                           "Idempotency-Key": key})
            assert (again.status_code, again.json()["id"]) == (200, incident_id), again.text
    finally:
        stop_watching.set()
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, watcher, return_exceptions=True)
        for feed in feeds:
            await feed.close()

    # 1. Each key stored once, each answer naming that one incident.
    stored = await db.fetch("SELECT actor, key, incident_id FROM idempotency_keys")
    assert len({row["actor"] for row in stored}) == 1  # the operator's
    by_key = {row["key"]: row["incident_id"] for row in stored}
    assert len(by_key) == len(stored)
    assert sorted(by_key) == sorted(answers) and len(answers) == INCIDENTS
    for key, (_, incident_id) in answers.items():
        assert incident_id == by_key[key], key
    assert len(set(by_key.values())) == INCIDENTS
    assert await db.fetchval("SELECT count(*) FROM incidents") == INCIDENTS
    assert unanswered_by_a, "the incident in flight when A was killed got an answer from A"
    # 2. No team ever on two assignments: besides every snapshot the watcher took, in
    # each team's log an assignment is ended (cleared) before the next one is made. (A
    # team is sent again only once the clear committed, so the next seq is above it.)
    assert await db.fetchval("SELECT count(*) FROM assignments") == INCIDENTS
    assert await db.fetchval("SELECT count(*) FROM assignments WHERE ended_at IS NULL") == 0
    for team_id in phones:
        history = await db.fetch(
            """SELECT CASE WHEN name = 'assignment.created' THEN 'made' ELSE 'ended' END
                 AS what FROM events
               WHERE team_id = $1 AND seq > $2
                 AND (name IN ('assignment.created', 'assignment.withdrawn')
                      OR (name = 'incident.updated' AND data->>'action' = 'clear'))
               ORDER BY seq""", team_id, start)
        what = [row["what"] for row in history]
        assert what == ["made", "ended"] * (len(what) // 2), (team_id, what)
    # 3. What the phones and the dashboard got, against the log.
    for team_id, phone in phones.items():
        logged = await db.fetch(
            """SELECT seq FROM events WHERE name = 'assignment.created' AND team_id = $1
                 AND seq > $2 ORDER BY seq""", team_id, start)
        assert deduped(phone.raw, "assignment.created") == [row["seq"] for row in logged]
        assert len(handled[team_id]) == len(logged)
    created = await db.fetch("SELECT seq, incident_id FROM events WHERE name = 'incident.created'"
                             " AND seq > $1 ORDER BY seq", start)
    assert deduped(dashboard.raw, "incident.created") == [row["seq"] for row in created]
    assert sorted(row["incident_id"] for row in created) == sorted(by_key.values())
    for feed in feeds:  # each was cut off from A and came back, to B
        assert len(feed.welcomes) >= 2 and feed.close_codes
    # 4. No half-made assignment, now as at every snapshot while it ran.
    await check_invariants(db)
    assert checks > 0
    print(f"\nkeys unanswered by A and retried on B: {sorted(unanswered_by_a)}; "
          f"answers 200 (replayed): {sum(status == 200 for status, _ in answers.values())};"
          f" invariant snapshots: {checks}; stale frames: {[f.stale for f in feeds]}")

