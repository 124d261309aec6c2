"""Helpers for tests and benchmarks: run the service on a socket, talk to it."""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pydantic
import uvicorn

from db import users as users_db
from dispatch.app import create_app
from dispatch.auth.service import hash_secret, issue_token
from dispatch.config import Settings
from dispatch.events.catalogue import check_event
from realtime.client import EventClient

GATEWAY_PASSWORD = "gateway-secret-1"
PASSWORDS = {"admin": "admin-secret-1", "operator": "operator-secret-1",
             "health_office": "office-secret-1"}
# A place in Soreang, Parepare, and bases around it.
CITY = (-4.0, 119.64)
# How long a test waits for something that should happen: generous, since the
# machines running the tests are shared and noisy. Waiting ends as soon as it happened.
WAIT_S = 30.0


async def wait_until(check: Callable[[], object], timeout_s: float = WAIT_S,
                     what: str = "condition", poll_s: float = 0.05) -> object:
    """Poll `check` (a function, or a coroutine function) until it returns something
    truthy; that value. TimeoutError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout_s} s (last: {value!r})")
        await asyncio.sleep(poll_s)


async def create_gateway_user(conn: asyncpg.Connection) -> None:
    """The call gateway's user `gateway` (password GATEWAY_PASSWORD)."""
    await users_db.upsert_user(conn, "gateway", await hash_secret(GATEWAY_PASSWORD), "gateway")


async def create_users(conn: asyncpg.Connection) -> None:
    """One user per staff role, named after the role (password in PASSWORDS)."""
    for role, password in PASSWORDS.items():
        await users_db.upsert_user(conn, role, await hash_secret(password), role)


async def issue_staff_tokens(conn: asyncpg.Connection) -> dict[str, str]:
    """A bearer token for each user of `create_users`, issued as logging in issues one:
    what `Api.login_all` gets, without an argon2 check per role per test. Logging in
    has tests of its own."""
    tokens = {}
    for username in PASSWORDS:
        user = await users_db.get_user_by_username(conn, username)
        issued = await issue_token(conn, user["role"], Settings.token_ttl_s,
                                   user_id=user["id"])
        tokens[username] = issued.token
    return tokens


@asynccontextmanager
async def running_service(settings: Settings) -> AsyncIterator[str]:
    """Serve `settings` with uvicorn on 127.0.0.1:<free port>; yield the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # leave signals to the test runner
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class Api:
    """An httpx client with tokens for each role and shortcuts for common set-ups."""

    def __init__(self, base_url: str, dsn: str) -> None:
        self.base_url, self.dsn = base_url, dsn
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.tokens: dict[str, str] = {}

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def login_all(self) -> None:
        """Tokens for the users of `create_users`, through the login endpoint."""
        for role, password in PASSWORDS.items():
            response = await self.http.post("/api/v1/auth/token",
                                            json={"username": role, "password": password})
            response.raise_for_status()
            self.tokens[role] = response.json()["access_token"]

    def auth(self, role: str | None) -> dict[str, str]:
        if role is None:
            return {}
        token = self.tokens.get(role, role)
        return {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, role: str | None = "operator",
                   **kwargs) -> httpx.Response:
        headers = {**self.auth(role), **kwargs.pop("headers", {})}
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def post(self, path: str, body: dict | None = None, role: str | None = "operator",
                   **kwargs) -> httpx.Response:
        return await self.call("POST", path, role, json=body, **kwargs)

    async def get(self, path: str, role: str | None = "operator", **kwargs) -> httpx.Response:
        return await self.call("GET", path, role, **kwargs)

    async def team(self, code: str, lat: float, lon: float, *, kind: str = "bls",
                   on_duty: bool = True, pin: str = "432100") -> dict:
        """Create a team (on a shift covering now unless `on_duty` is False)."""
        response = await self.post("/api/v1/teams", {
            "code": code, "name": f"Tim {code}", "kind": kind,
            "base": {"lat": lat, "lon": lon}, "base_name": f"Base {code}", "pin": pin})
        assert response.status_code == 201, response.text
        team = response.json()
        now = datetime.now(UTC)
        start = now - timedelta(hours=1) if on_duty else now + timedelta(hours=2)
        shift = await self.post(f"/api/v1/teams/{team['id']}/shifts", {
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=8)).isoformat()})
        assert shift.status_code == 201, shift.text
        return team

    async def device_token(self, code: str, pin: str = "432100") -> str:
        response = await self.http.post("/api/v1/auth/device",
                                        json={"team_code": code, "pin": pin})
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        self.tokens[f"team:{code}"] = token
        return token

    async def incident(self, lat: float = CITY[0], lon: float = CITY[1], *, priority: int = 2,
                       role: str = "operator", headers: dict | None = None,
                       **extra) -> httpx.Response:
        body = {"caller_number": "081234567890", "location": {"lat": lat, "lon": lon},
                "address": "Jl. Bau Massepe 1", "complaint": "sesak napas",
                "priority": priority, **extra}
        return await self.post("/api/v1/incidents", body, role, headers=headers or {})

    async def step(self, code: str, action: str, incident_id: int,
                   client_id: str | None = None) -> httpx.Response:
        return await self.post("/api/v1/team/status", {
            "action": action, "incident_id": incident_id,
            "client_id": client_id or uuid.uuid4().hex}, role=f"team:{code}")


def ws_url(base_url: str) -> str:
    """The /ws address of a service at `base_url`."""
    return base_url.replace("http", "ws", 1) + "/ws"


async def logged(db: asyncpg.Connection, after: int, *,
                 team_id: int | None = None) -> list[asyncpg.Record]:
    """The log above `after` (only `team_id`'s rows when given), in seq order."""
    return await db.fetch(
        """SELECT seq, name, data FROM events
           WHERE seq > $1 AND ($2::bigint IS NULL OR team_id = $2) ORDER BY seq""",
        after, team_id)


# Events a test writes into the log by hand, to exercise the log itself.
HAND_WRITTEN = "test."


async def check_logged_events(dsn: str) -> int:
    """Every event the service wrote to the log at `dsn` matches its declaration in
    the catalogue (Zulip's event_schema check, over every test's database). Returns
    how many were checked."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads,
                                  schema="pg_catalog")
        rows = await conn.fetch("SELECT seq, name, data FROM events ORDER BY seq")
    finally:
        await conn.close()
    failures = []
    for row in rows:
        if row["name"].startswith(HAND_WRITTEN):
            continue
        try:
            check_event(row["name"], row["data"])
        except (KeyError, pydantic.ValidationError) as exc:
            failures.append(f"seq {row['seq']} {row['name']}: {exc}")
    assert not failures, "events that do not match the catalogue:\n" + "\n".join(failures)
    return len(rows)
class FeedClient(EventClient):
    """An EventClient that also notes the seq of the last heartbeat it received.

    A heartbeat carries the latest seq the service's hub has pushed, and is queued
    behind every event pushed to the socket before it: once a heartbeat at or past seq
    n arrived, so did every event up to n that the socket may see. That is the evidence
    that nothing more is coming, rather than a quiet spell of a guessed length (serve
    with a short `ws_heartbeat_s`)."""

    heartbeat_seq: int | None = None

    def _on_frame(self, frame: dict) -> None:
        if frame.get("type") == "heartbeat":
            self.heartbeat_seq = frame["seq"]
        super()._on_frame(frame)


async def assert_quiet(client: FeedClient, upto: int) -> None:
    """`client` has no event left unread up to seq `upto`: wait for a heartbeat at or
    past `upto`, then nothing may be queued."""
    await wait_until(lambda: client.heartbeat_seq is not None and client.heartbeat_seq >= upto,
                     what=f"heartbeat at seq {upto} or later")
    assert client.events.empty(), f"unexpected event {client.events.get_nowait()}"


@asynccontextmanager
async def own_postgres(folder: Path) -> AsyncIterator[tuple[object, str]]:
    """A PostgreSQL of the test's own (so that stopping it disturbs no other test),
    migrated, with the users of create_users: (the embedded server, its DSN)."""
    from db.embedded import EmbeddedPostgres
    from db.migrate import migrate
    from db.pool import connect
    server = EmbeddedPostgres(folder, fast=True)
    dsn = await asyncio.to_thread(server.start)
    try:
        conn = await connect(dsn)
        try:
            await migrate(conn)
            await create_users(conn)
        finally:
            await conn.close()
        yield server, dsn
    finally:
        await asyncio.to_thread(server.stop)


async def fingerprint_tables(db: asyncpg.Connection,
                             tables: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    """Row count and a digest of the contents of each of `tables`: equal before and
    after a refused request when it changed nothing."""
    found = {}
    for table in tables:
        row = await db.fetchrow(
            f"SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text),"
            f" '')) AS digest FROM {table} t")
        found[table] = (row["n"], row["digest"])
    return found
