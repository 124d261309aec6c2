"""Who may call what: every endpoint of the API against every kind of caller.

The table ENDPOINTS lists each endpoint once, with the roles the contract lets
call it. Each endpoint is called by an admin, an operator, the health office, a
responder's phone, the telephony gateway, nobody (no token), a garbage token, a token revoked by
logging out and a token past its expiry: no, garbage, revoked and expired
tokens get 401, a role not listed gets 403, a listed role gets anything but
401/403 (2xx, 404, 409, 422... never 5xx). Public endpoints ignore the token.

Endpoints of the contract that the service does not serve yet would stay out of the
matrix (none today); a check makes sure every served route is in the table.

One service and one database serve the module (see the fixtures): the tokens of
every kind are made once, not per case.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import product
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from starlette.routing import Match

from db import users as users_db
from dispatch.api import OPERATIONS
from dispatch.app import create_app
from dispatch.auth.service import digest, hash_secret
from dispatch.config import Settings
from tests.support import CITY, GATEWAY_PASSWORD, PASSWORDS, Api, create_gateway_user

TOKEN, DEVICE, LOGOUT = "/api/v1/auth/token", "/api/v1/auth/device", "/api/v1/auth/logout"
PIN = "432100"
CALLER = "081234567890"
ROLES = ("admin", "operator", "health_office", "responder", "gateway")
CALLERS = (*ROLES, "no-token", "garbage-token", "revoked-token", "expired-token")
PUBLIC = frozenset()  # no token needed
STAFF = frozenset({"admin", "operator"})
TELEPHONY = STAFF | {"gateway"}  # opens and ends calls, sends line heartbeats
ADMIN = frozenset({"admin"})
GATEWAY_ONLY = frozenset({"gateway"})
GATEWAY = frozenset({"gateway"})
RESPONDER = frozenset({"responder"})
REPORTS = frozenset({"admin", "health_office"})
ANY_ROLE = frozenset(ROLES)
GARBAGE = "garbage-" + "x" * 40


# --- the table --------------------------------------------------------------------------

Body = dict | Callable[[dict], dict] | None


@dataclass(frozen=True)
class Endpoint:
    """An endpoint, who may call it (PUBLIC: anyone, token or not) and a body good
    enough to pass the role check. `spends_token`: the call revokes its own token."""

    method: str
    path: str
    roles: frozenset[str]
    body: Body = None
    spends_token: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _later(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


INCIDENT = {"caller_number": CALLER, "location": {"lat": CITY[0], "lon": CITY[1]},
            "address": "Jl. Bau Massepe 1", "complaint": "sesak napas", "priority": 2}

ENDPOINTS = [
    Endpoint("GET", "/api/v1/health", PUBLIC),
    Endpoint("GET", "/openapi.json", PUBLIC),
    Endpoint("POST", TOKEN, PUBLIC,
             {"username": "health_office", "password": PASSWORDS["health_office"]}),
    Endpoint("POST", DEVICE, PUBLIC, {"team_code": "T1", "pin": PIN}),
    Endpoint("POST", LOGOUT, ANY_ROLE, spends_token=True),
    # Teams and shifts.
    Endpoint("GET", "/api/v1/teams", STAFF),
    Endpoint("POST", "/api/v1/teams", STAFF,
             lambda ids: {"code": f"R{uuid.uuid4().hex[:6]}", "name": "Tim R", "kind": "bls",
                          "base": {"lat": CITY[0], "lon": CITY[1]}, "pin": PIN}),
    Endpoint("GET", "/api/v1/teams/{team}", STAFF),
    Endpoint("POST", "/api/v1/teams/{team}/shifts", STAFF,
             lambda ids: {"starts_at": _later(24), "ends_at": _later(30)}),
    Endpoint("POST", "/api/v1/teams/{team}/service", STAFF, {"status": "available"}),
    # Admin only; aimed at a team of its own, so the other calls keep T1's phone tokens.
    Endpoint("POST", "/api/v1/teams/{pinned}/pin", ADMIN, {"pin": "135790"}),
    Endpoint("POST", "/api/v1/teams/{pinned}/revoke", ADMIN),
    # Calls and incidents.
    Endpoint("POST", "/api/v1/calls", TELEPHONY, {"caller_number": CALLER}),
    Endpoint("POST", "/api/v1/calls/{call}/end", TELEPHONY, {"disposition": "info"}),
    Endpoint("POST", "/api/v1/calls/{call}/take", STAFF),
    # The call log and a caller's history carry numbers: admins and operators only.
    Endpoint("GET", "/api/v1/calls", STAFF),
    Endpoint("GET", f"/api/v1/calls?number={CALLER}", STAFF),
    Endpoint("GET", "/api/v1/calls/{call}", STAFF),
    Endpoint("GET", f"/api/v1/incidents/duplicates?lat={CITY[0]}&lon={CITY[1]}", STAFF),
    # The block list: admins manage it, the gateway (and the staff) look numbers up.
    Endpoint("POST", "/api/v1/blocklist", ADMIN, {"number": "085299998888", "reason": "iseng"}),
    Endpoint("GET", "/api/v1/blocklist", ADMIN),
    Endpoint("GET", "/api/v1/blocklist/085299998888", TELEPHONY),
    Endpoint("DELETE", "/api/v1/blocklist/085299998888", ADMIN),
    # AML from the SMS gateway and the HTTPS receiver (switched off here: 404).
    Endpoint("POST", "/api/v1/aml/sms", GATEWAY, {"from": CALLER, "text": 'A"ML=1;ml=9'}),
    Endpoint("POST", "/api/v1/aml/els", GATEWAY),
    Endpoint("POST", "/api/v1/incidents", STAFF, INCIDENT),
    Endpoint("GET", "/api/v1/incidents", STAFF),
    Endpoint("GET", "/api/v1/incidents?active=true", STAFF),
    Endpoint("GET", "/api/v1/incidents/{incident}", STAFF),
    Endpoint("POST", "/api/v1/incidents/{incident}/assign", STAFF,
             lambda ids: {"team_id": ids["team"]}),
    Endpoint("POST", "/api/v1/incidents/{incident}/cancel", STAFF, {"reason": "test"}),
    Endpoint("GET", "/api/v1/incidents/{incident}/candidates", STAFF),
    # The dashboard's map and gazetteer.
    Endpoint("GET", "/api/v1/districts", STAFF | {"health_office"}),
    Endpoint("GET", "/api/v1/places?q=lompoe", STAFF),
    Endpoint("GET", "/api/v1/roads", STAFF | RESPONDER),
    # A responder's phone.
    Endpoint("GET", "/api/v1/team/assignment", RESPONDER),
    Endpoint("GET", "/api/v1/team/route", RESPONDER),
    Endpoint("POST", "/api/v1/team/status", RESPONDER,
             lambda ids: {"action": "acknowledge", "incident_id": ids["incident"],
                          "client_id": uuid.uuid4().hex}),
    Endpoint("POST", "/api/v1/team/location", RESPONDER, {"lat": CITY[0], "lon": CITY[1]}),
    # Lines and failover. The contract names no role for reading lines and callbacks:
    # they carry caller numbers and serve the dashboard, so admins and operators.
    Endpoint("GET", "/api/v1/hotline", PUBLIC),
    Endpoint("POST", "/api/v1/lines", ADMIN,
             {"number": "112", "label": "112 utama", "priority": 0, "probe": {"kind": "none"}}),
    Endpoint("GET", "/api/v1/lines", STAFF),
    Endpoint("GET", "/api/v1/lines/events", STAFF),
    Endpoint("GET", "/api/v1/lines/monitor", STAFF),
    Endpoint("POST", "/api/v1/lines/override", ADMIN, {"line_id": None, "reason": "test"}),
    Endpoint("POST", "/api/v1/lines/{line}/heartbeat", TELEPHONY),
    Endpoint("GET", "/api/v1/callbacks", STAFF),
    Endpoint("POST", "/api/v1/callbacks/{callback}/done", STAFF),
    # Reports.
    Endpoint("GET", "/api/v1/reports/response-times?group_by=priority", REPORTS),
    Endpoint("GET", "/api/v1/reports/response-times.csv", REPORTS),
    Endpoint("GET", "/api/v1/reports/response-times/fractiles", REPORTS),
    Endpoint("GET", "/api/v1/reports/response-times.xlsx", REPORTS),
    Endpoint("GET", "/api/v1/reports/workload", REPORTS),
    Endpoint("GET", "/api/v1/reports/calls", REPORTS),
    Endpoint("GET", "/api/v1/reports/lines", REPORTS),
    # The reports page: its charts and the map's points.
    *(Endpoint("GET", f"/api/v1/reports/charts/{name}.svg", REPORTS) for name in (
        "response-histogram", "response-fractiles", "trend-weekly", "trend-monthly",
        "p90-by-district", "p90-by-team", "calls-by-hour-weekday",
        "incidents-by-hour-weekday")),
    Endpoint("GET", "/api/v1/reports/incidents", REPORTS),
    # SMS to teams: the gateway's webhooks (or its key, tests/test_sms_replies.py).
    Endpoint("GET", "/api/v1/sms/inbound?from=%2B6285200000000&text=1", GATEWAY_ONLY),
    Endpoint("POST", "/api/v1/sms/inbound?from=%2B6285200000000&text=1", GATEWAY_ONLY),
    Endpoint("GET", "/api/v1/sms/status?id=x&status=DELIVRD", GATEWAY_ONLY),
    Endpoint("POST", "/api/v1/sms/status?id=x&status=DELIVRD", GATEWAY_ONLY),
    Endpoint("GET", "/api/v1/sms/messages", STAFF),
    Endpoint("GET", "/api/v1/sms/replies", STAFF),
    Endpoint("POST", "/api/v1/teams/{team}/sms-numbers", ADMIN,
             {"numbers": ["+6281234500009"]}),
    Endpoint("GET", "/api/v1/reports/sms", REPORTS),
    # The planner page: an empty scenario (422) starts nothing; no run has this id (404).
    Endpoint("GET", "/api/v1/planner/defaults", REPORTS),
    Endpoint("POST", "/api/v1/planner/runs", REPORTS, {"scenario": {}}),
    Endpoint("GET", "/api/v1/planner/runs", REPORTS),
    Endpoint("GET", "/api/v1/planner/runs/0123456789abcdef", REPORTS),
    Endpoint("GET", "/api/v1/planner/runs/0123456789abcdef/fractiles.svg", REPORTS),
]

_APP = create_app(Settings(database_url="postgresql://unused/none"))


def _is_served(method: str, path: str) -> bool:
    """Whether some route of the service answers `method` at `path` ({...} read as 1)."""
    concrete = urlsplit(path.format_map(_Ones())).path
    scope = {"type": "http", "method": method, "path": concrete}
    return any(route.matches(scope)[0] is Match.FULL for route in _APP.routes)


class _Ones(dict):
    def __missing__(self, key: str) -> str:
        return "1"


NOT_BUILT: set[str] = set()


def _matrix() -> list:
    served = [e for e in ENDPOINTS if _is_served(e.method, e.path)]
    return [pytest.param(endpoint, caller, id=f"{endpoint}-{caller}")
            for endpoint, caller in product(served, CALLERS)]


def test_only_the_unbuilt_endpoints_are_left_out() -> None:
    """The contract's endpoints not in the matrix are exactly the ones not built yet:
    once one is served, it joins the matrix (and this list must shrink)."""
    left_out = {urlsplit(e.path).path for e in ENDPOINTS if not _is_served(e.method, e.path)}
    assert left_out == NOT_BUILT


def test_table_lists_every_served_route() -> None:
    """A new API route cannot escape the matrix: each one the app serves is in ENDPOINTS.
    (Pages answer with redirects to their login, tested in tests/test_web.py.)"""
    listed = [(e.method, urlsplit(e.path.format_map(_Ones())).path) for e in ENDPOINTS]
    for route in _APP.routes:
        if not getattr(route, "path", "").startswith(("/api/", "/openapi.json")):
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            if method == "HEAD":
                continue
            assert any(m == method and route.matches({"type": "http", "method": m, "path": p})[0]
                       is Match.FULL for m, p in listed), f"{method} {route.path} not in ENDPOINTS"


def test_operations_table_grants_the_contracts_roles() -> None:
    """The one table the guard and /openapi.json read (dispatch/api.py) gives each
    endpoint exactly the roles of the contract; the calls below prove the guard obeys."""
    for endpoint in ENDPOINTS:
        concrete = urlsplit(endpoint.path.format_map(_Ones())).path
        scope = {"type": "http", "method": endpoint.method, "path": concrete}
        matching = [op for op in OPERATIONS if op.route().matches(scope)[0] is Match.FULL]
        if not _is_served(endpoint.method, endpoint.path):
            assert not matching
            continue
        # The first match serves it (routes are tried in the table's order): a fixed
        # path such as /incidents/duplicates comes before /incidents/{id}.
        assert matching, endpoint
        assert frozenset(matching[0].roles) == endpoint.roles, endpoint


# --- one service for the module ---------------------------------------------------------



async def fresh_token(api: Api, role: str) -> str:
    """A new token of `role` (the responder's is team T1's phone, the gateway's its
    user's login)."""
    if role == "responder":
        response = await api.http.post(DEVICE, json={"team_code": "T1", "pin": PIN})
    else:
        password = GATEWAY_PASSWORD if role == "gateway" else PASSWORDS[role]
        response = await api.http.post(TOKEN, json={"username": role, "password": password})
    assert response.status_code == 200, response.text
    assert response.json()["role"] == role
    return response.json()["access_token"]


@dataclass(frozen=True)
class World:
    ids: dict[str, int]
    tokens: dict[str, str]  # a live token per role
    revoked: dict[str, str]  # per role, a token logged out
    expired: dict[str, str]  # per role, a token past its expiry


@pytest.fixture(scope="module")
async def world(api: Api, dsn: str) -> World:
    conn = await asyncpg.connect(dsn)
    try:
        await create_gateway_user(conn)
    finally:
        await conn.close()
    t1 = await api.team("T1", *CITY, pin=PIN)
    pinned = await api.team("PINNED", *CITY, on_duty=False, pin=PIN)
    incident = (await api.post("/api/v1/incidents", INCIDENT)).json()
    call = (await api.post("/api/v1/calls", {"caller_number": CALLER})).json()
    fresh = await asyncio.gather(*(fresh_token(api, role) for role in ROLES * 3))
    n = len(ROLES)
    live, revoked, expired = (dict(zip(ROLES, fresh[i * n:(i + 1) * n], strict=True))
                              for i in range(3))
    for token in revoked.values():
        response = await api.http.post(LOGOUT, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 204, response.text
    line = (await api.post("/api/v1/lines", {
        "number": "0421112", "label": "cadangan", "priority": 1,
        "probe": {"kind": "heartbeat", "timeout_s": 3600.0}}, role="admin")).json()
    dropped = (await api.post("/api/v1/calls", {"caller_number": CALLER})).json()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("UPDATE tokens SET expires_at = now() - interval '1 second'"
                           " WHERE token_hash = ANY($1::bytea[])",
                           [digest(token) for token in expired.values()])
        callback = await conn.fetchval(
            "INSERT INTO callbacks (call_id, caller_number, line_id) VALUES ($1, $2, $3)"
            " RETURNING id", dropped["id"], dropped["caller_number"], line["id"])
    finally:
        await conn.close()
    return World({"team": t1["id"], "pinned": pinned["id"], "incident": incident["id"],
                  "call": call["id"], "line": line["id"], "callback": callback},
                 live, revoked, expired)


# --- checks -----------------------------------------------------------------------------

def check_refused(response: httpx.Response, status: int) -> None:
    """`response` is a `status` (401/403/429) in problem+json."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].split(";")[0] == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys(), problem
    assert problem["status"] == status
    if status == 401:
        assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


def expected(endpoint: Endpoint, caller: str) -> int | None:
    """401, 403, or None for allowed."""
    if endpoint.roles == PUBLIC:
        return None
    if caller not in ROLES:
        return 401
    return None if caller in endpoint.roles else 403


async def token_of(api: Api, world: World, endpoint: Endpoint, caller: str) -> str | None:
    # Revoked and expired tokens are of a role the endpoint allows: only the token is wrong.
    usable = sorted(endpoint.roles or {"operator"})[0]
    if caller in ROLES:
        if endpoint.spends_token and caller in endpoint.roles:
            return await fresh_token(api, caller)
        return world.tokens[caller]
    return {"no-token": None, "garbage-token": GARBAGE, "revoked-token": world.revoked[usable],
            "expired-token": world.expired[usable]}[caller]


@pytest.mark.parametrize(("endpoint", "caller"), _matrix())
async def test_role_matrix(api: Api, world: World, endpoint: Endpoint, caller: str) -> None:
    token = await token_of(api, world, endpoint, caller)
    body = endpoint.body(world.ids) if callable(endpoint.body) else endpoint.body
    response = await api.http.request(
        endpoint.method, endpoint.path.format_map({**_Ones(), **world.ids}),
        headers={"Authorization": f"Bearer {token}"} if token else {},
        json=body if endpoint.method == "POST" else None)
    status = expected(endpoint, caller)
    if status is None:
        assert response.status_code not in (401, 403), response.text[:300]
        assert response.status_code < 500, response.text[:300]
    else:
        check_refused(response, status)


# --- the rest of the contract on who may do what ----------------------------------------

async def test_health_office_never_reads_caller_numbers(api: Api, world: World) -> None:
    for path in ("/api/v1/incidents", "/api/v1/incidents?active=true",
                 f"/api/v1/incidents/{world.ids['incident']}", "/api/v1/team/assignment"):
        response = await api.get(path, role=None, headers={
            "Authorization": f"Bearer {world.tokens['health_office']}"})
        check_refused(response, 403)
        assert "81234567890" not in response.text


async def test_expired_token_is_refused(api: Api, world: World,
                                        db: asyncpg.Connection) -> None:
    token = await fresh_token(api, "operator")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.http.get("/api/v1/teams", headers=headers)).status_code == 200
    changed = await db.execute("UPDATE tokens SET expires_at = now() - interval '1 second'"
                               " WHERE token_hash = $1", digest(token))
    assert changed == "UPDATE 1"
    check_refused(await api.http.get("/api/v1/teams", headers=headers), 401)


async def test_logged_out_token_is_refused(api: Api, world: World) -> None:
    token = await fresh_token(api, "responder")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.http.get("/api/v1/team/assignment", headers=headers)).status_code == 200
    assert (await api.http.post(LOGOUT, headers=headers)).status_code == 204
    check_refused(await api.http.get("/api/v1/team/assignment", headers=headers), 401)
    check_refused(await api.http.post(LOGOUT, headers=headers), 401)
    # Only that token: the team's other phone stays logged in.
    other = {"Authorization": f"Bearer {world.tokens['responder']}"}
    assert (await api.http.get("/api/v1/team/assignment", headers=other)).status_code == 200


@pytest.mark.parametrize("header", [
    "Basic b3BlcmF0b3I6b3BlcmF0b3Itc2VjcmV0LTE=", "Bearer", "Bearer " + "x" * 300,
    "{token}", "Token {token}", "Bearer {token}x", "Bearer x{token}"],
    ids=["basic", "bearer-alone", "bearer-300-chars", "token-without-scheme",
         "token-scheme", "token-with-extra-char", "token-with-prefix"])
async def test_malformed_authorization_is_401(api: Api, world: World, header: str) -> None:
    value = header.format(token=world.tokens["operator"])
    check_refused(await api.http.get("/api/v1/teams", headers={"Authorization": value}), 401)


async def test_bearer_scheme_is_case_insensitive(api: Api, world: World) -> None:
    response = await api.http.get("/api/v1/teams", headers={
        "Authorization": f"bearer {world.tokens['operator']}"})
    assert response.status_code == 200, response.text


async def _fail_five_times(api: Api, path: str, body: dict) -> None:
    for attempt in range(5):
        response = await api.http.post(path, json=body)
        assert response.status_code == 401, (attempt, response.text)


def check_locked(response: httpx.Response) -> None:
    check_refused(response, 429)
    assert int(response.headers["retry-after"]) > 0


async def test_five_failed_logins_lock_the_account(api: Api, world: World,
                                                   db: asyncpg.Connection) -> None:
    await users_db.upsert_user(db, "locked", await hash_secret("right-password-1"), "operator")
    await _fail_five_times(api, TOKEN, {"username": "locked", "password": "wrong"})
    check_locked(await api.http.post(TOKEN, json={"username": "locked",
                                                  "password": "right-password-1"}))
    # The lock is the account's, not everyone's.
    assert (await api.http.post(TOKEN, json={
        "username": "admin", "password": PASSWORDS["admin"]})).status_code == 200


async def test_five_wrong_pins_lock_the_team(api: Api, world: World) -> None:
    await api.team("LOCK", *CITY, on_duty=False, pin="246800")
    await _fail_five_times(api, DEVICE, {"team_code": "LOCK", "pin": "000000"})
    check_locked(await api.http.post(DEVICE, json={"team_code": "LOCK", "pin": "246800"}))
    assert (await api.http.post(DEVICE, json={"team_code": "T1", "pin": PIN})).status_code == 200

