"""Helpers of the call-log tests: a gateway user, opening and ending calls, and the
fingerprint of every table a refused request must leave as it was."""

from __future__ import annotations

import asyncpg

from tests.support import GATEWAY_PASSWORD, Api, create_gateway_user, fingerprint_tables

# Every table the call log, the block list and AML write to.
TABLES = ("calls", "incidents", "assignments", "blocklist", "aml_locations", "callbacks",
          "events")


async def login_gateway(api: Api, db: asyncpg.Connection) -> None:
    """A gateway user `gateway`; its token as api.tokens["gateway"]."""
    await create_gateway_user(db)
    response = await api.http.post("/api/v1/auth/token", json={
        "username": "gateway", "password": GATEWAY_PASSWORD})
    assert response.status_code == 200, response.text
    api.tokens["gateway"] = response.json()["access_token"]


async def open_call(api: Api, number: str | None, role: str = "gateway", **extra) -> dict:
    response = await api.post("/api/v1/calls", {"caller_number": number, **extra}, role=role)
    assert response.status_code == 201, response.text
    return response.json()


async def end_call(api: Api, call_id: int, disposition: str, incident_id: int | None = None,
                   role: str = "operator") -> dict:
    body = {"disposition": disposition}
    if incident_id is not None:
        body["incident_id"] = incident_id
    response = await api.post(f"/api/v1/calls/{call_id}/end", body, role=role)
    assert response.status_code == 200, response.text
    return response.json()


async def fingerprint(db: asyncpg.Connection) -> dict[str, tuple[int, str]]:
    """Count and digest of every row of TABLES."""
    return await fingerprint_tables(db, TABLES)


def check_problem(response, status: int, field: str | None = None) -> dict:
    """`response` is a problem+json of `status` (naming `field` when given)."""
    assert response.status_code == status, (response.status_code, response.text[:400])
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    if field is not None:
        assert field in [e["field"] for e in problem.get("errors", [])], problem
    return problem
