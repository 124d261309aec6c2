"""Schemathesis against GET /openapi.json, as every kind of caller.

For each role (admin, operator, the health office, a team's phone, the telephony
gateway) and for nobody (no token), Schemathesis generates requests for every
operation the document describes, valid ones and invalid ones, and sends them to the
running service over a real socket (real PostgreSQL behind it). Every answer must be
what the document promises: never a 5xx (not even 503: the database is up), a status
code the operation declares, a declared content type, a body that matches its schema
(problem+json for errors) and the declared headers.

Each caller gets a database of its own (the per-test fixtures), so what one caller's
generated writes leave behind cannot change another caller's answers. Generation is
bounded (a few examples per operation and mode), derandomized (the same cases every
run) and never shrinks: a finding is recorded with its reproducing curl command and
the run goes on, so one run lists every finding.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from db import users as users_db
from dispatch.auth.service import hash_secret
from tests.support import CITY, Api

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
# Examples per operation and generation mode: enough to reach every answer an operation
# has for a caller (401/403 come at once; 404, 409, 422 and 2xx need a few), few enough
# that the module stays well under two minutes on a shared 2-core machine.
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}
GATEWAY_PASSWORD = "gateway-secret-1"
CALLERS = ("admin", "operator", "health_office", "responder", "gateway", "anonymous")
# Logging out spends the caller's token: that operation runs last.
LOGOUT = "POST /api/v1/auth/logout"


async def caller_token(api: Api, dsn: str, caller: str) -> str | None:
    """A live token of `caller`, after setting up a little world for the run to find:
    an on-duty team with its phone logged in, an incident it was sent to, a call."""
    team = await api.team("T1", *CITY)
    await api.incident()
    await api.post("/api/v1/calls", {"caller_number": "081234567890"})
    if caller == "anonymous":
        return None
    if caller == "responder":
        return await api.device_token(team["code"])
    if caller == "gateway":
        conn = await asyncpg.connect(dsn)
        try:
            await users_db.upsert_user(conn, "gateway", await hash_secret(GATEWAY_PASSWORD),
                                       "gateway")
        finally:
            await conn.close()
        response = await api.http.post("/api/v1/auth/token", json={
            "username": "gateway", "password": GATEWAY_PASSWORD})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]
    return api.tokens[caller]


def _operations(schema: schemathesis.BaseSchema) -> list:
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda op: op.label == LOGOUT)


def _fuzz(operation, mode: GenerationMode, base_url: str, headers: dict,
          findings: dict[str, str], counts: dict[int, int]) -> None:
    """Send `EXAMPLES[mode]` generated cases of `operation`; note each distinct failure."""

    @hypothesis.settings(max_examples=EXAMPLES[mode], derandomize=True, deadline=None,
                         database=None, phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Failure, FailureGroup) as exc:
            failures = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
            for failure in failures:
                key = f"{operation.label} -> {response.status_code}: {failure.title}"
                findings.setdefault(key, f"{failure.message}\n{case.as_curl_command(headers)}"
                                    f"\n{response.text[:300]}")

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        # Nothing to make invalid: an operation without parameters or body.
        if mode is not GenerationMode.NEGATIVE:
            raise


def run_schemathesis(base_url: str, token: str | None) -> tuple[dict[str, str], dict]:
    """Every operation of the service's document, in both generation modes."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    findings: dict[str, str] = {}
    counts: dict[int, int] = {}
    for operation in _operations(schema):
        for mode in EXAMPLES:
            _fuzz(operation, mode, base_url, headers, findings, counts)
    return findings, counts


@pytest.mark.parametrize("caller", CALLERS)
async def test_every_answer_is_what_the_document_promises(api: Api, dsn: str,
                                                          caller: str) -> None:
    token = await caller_token(api, dsn, caller)
    started = time.monotonic()
    # Schemathesis sends with a blocking client: from a thread, so that the service
    # (on this event loop) goes on answering.
    findings, counts = await asyncio.to_thread(run_schemathesis, api.base_url, token)
    took = time.monotonic() - started
    print(f"{caller}: {sum(counts.values())} requests in {took:.1f} s, "
          f"by status {dict(sorted(counts.items()))}")
    assert not findings, f"{len(findings)} finding(s) as {caller}:\n\n" + "\n\n".join(
        f"{key}\n{text}" for key, text in sorted(findings.items()))
    assert not any(status >= 500 for status in counts)
