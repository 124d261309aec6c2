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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

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

from db.pool import connect
from dispatch.cities import load_pack
from dispatch.cities.loader import do_load_city
from tests.support import CITY, GATEWAY_PASSWORD, PASSWORDS, Api, create_gateway_user

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
# Examples per operation and generation mode: enough to reach every answer an operation
# has for a caller (401/403 come at once; 404, 409, 422 and 2xx need a few), few enough
# that the module stays around a minute and a half on a shared 2-core machine.
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}
# Drawings and downloads cost a chart or a workbook each (most of a report reader's
# run): half as many of them; their parameters are the same few as the JSON reports'.
HEAVY = (".svg", ".xlsx", ".csv")
PIN = "432100"
CALLERS = ("admin", "operator", "health_office", "responder", "gateway", "anonymous")
# Logging out spends the caller's token: that operation runs last.
LOGOUT = "POST /api/v1/auth/logout"


@dataclass
class World:
    """What a run finds in its database: Parepare's districts and gazetteer, team T1 on
    duty (its phone logged in), an incident T1 was sent to, an open call."""

    team: int
    incident: int
    call: int


async def make_world(api: Api, dsn: str) -> World:
    conn = await connect(dsn)
    try:
        async with conn.transaction():
            await do_load_city(conn, load_pack("parepare"))
    finally:
        await conn.close()
    team = await api.team("T1", *CITY, pin=PIN)
    incident = (await api.incident()).json()
    assert incident["status"] == "assigned", incident
    call = (await api.post("/api/v1/calls", {"caller_number": "081234567890"})).json()
    return World(team["id"], incident["id"], call["id"])


async def caller_token(api: Api, dsn: str, caller: str) -> str | None:
    """A live token of `caller` (None: nobody)."""
    if caller == "anonymous":
        return None
    if caller == "responder":
        return await api.device_token("T1", PIN)
    if caller == "gateway":
        conn = await asyncpg.connect(dsn)
        try:
            await create_gateway_user(conn)
        finally:
            await conn.close()
        response = await api.http.post("/api/v1/auth/token", json={
            "username": "gateway", "password": GATEWAY_PASSWORD})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]
    return api.tokens[caller]


def known_good(world: World) -> list[tuple[str, dict]]:
    """Requests valid through and through, aimed at what exists: generated data rarely
    passes every rule (a real phone number, a shift in the future), so without these the
    success answers of the writes would seldom be held to their schema. Sent first,
    before the generated cases change the world."""
    later = datetime.now(UTC) + timedelta(days=1)
    return [
        ("POST /api/v1/auth/token", {"body": {"username": "admin",
                                              "password": PASSWORDS["admin"]}}),
        ("POST /api/v1/auth/device", {"body": {"team_code": "T1", "pin": PIN}}),
        ("POST /api/v1/calls", {"body": {"caller_number": "081234567891"}}),
        ("POST /api/v1/incidents", {"body": {
            "caller_number": "081234567890", "location": {"lat": CITY[0], "lon": CITY[1]},
            "address": "Jl. Bau Massepe 1", "complaint": "sesak napas", "priority": 1}}),
        ("POST /api/v1/teams/{id}/shifts", {"path_parameters": {"id": world.team}, "body": {
            "starts_at": later.isoformat(),
            "ends_at": (later + timedelta(hours=8)).isoformat()}}),
        ("POST /api/v1/team/status", {"body": {
            "action": "acknowledge", "incident_id": world.incident, "client_id": "known-1"}}),
        ("POST /api/v1/calls/{id}/end", {"path_parameters": {"id": world.call},
                                         "body": {"disposition": "info"}}),
        ("GET /api/v1/incidents", {"query": {"active": "true"}}),
        ("GET /api/v1/incidents/{id}", {"path_parameters": {"id": world.incident}}),
        ("GET /api/v1/teams/{id}", {"path_parameters": {"id": world.team}}),
        ("GET /api/v1/places", {"query": {"q": "lompoe"}}),
        ("GET /api/v1/districts", {}),
        ("GET /api/v1/callbacks", {"query": {"done": "false", "limit": 10}}),
        ("GET /api/v1/reports/response-times", {"query": {"group_by": "priority"}}),
    ]


@dataclass
class Run:
    """One caller's run: where, as whom, and what it found."""

    base_url: str
    headers: dict
    findings: dict[str, str] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)

    def send(self, case, mode: str) -> None:
        """Send `case` and hold its answer to the document; note each distinct failure
        (with the curl command that reproduces it) instead of stopping at the first."""
        response = case.call(base_url=self.base_url, headers=self.headers, timeout=30)
        self.counts[response.status_code] = self.counts.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS, headers=self.headers)
        except (Failure, FailureGroup) as exc:
            failures = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
            for failure in failures:
                key = f"{case.operation.label} -> {response.status_code}: {failure.title}"
                self.findings.setdefault(key, f"({mode}) {failure.message}\n"
                                         f"{case.as_curl_command(self.headers)}\n"
                                         f"{response.text[:300]}")

    def fuzz(self, operation, mode: GenerationMode) -> None:
        """`EXAMPLES[mode]` generated cases of `operation` (half for HEAVY ones), never
        shrunk."""

        examples = EXAMPLES[mode] // (2 if operation.path.endswith(HEAVY) else 1)

        @hypothesis.settings(max_examples=examples, derandomize=True, deadline=None,
                             database=None, phases=[Phase.explicit, Phase.generate],
                             suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case) -> None:
            self.send(case, mode.value)

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            # Nothing to make invalid: an operation without parameters or body.
            if mode is not GenerationMode.NEGATIVE:
                raise


def run_schemathesis(base_url: str, token: str | None, world: World) -> Run:
    """The known-good requests, then every operation of the service's document in both
    generation modes."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    run = Run(base_url, {"Authorization": f"Bearer {token}"} if token else {})
    for label, parts in known_good(world):
        operation = schema.find_operation_by_label(label)
        assert operation is not None, label
        run.send(operation.Case(media_type="application/json" if "body" in parts else None,
                                **parts), "known good")
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in sorted(operations, key=lambda op: op.label == LOGOUT):
        for mode in EXAMPLES:
            run.fuzz(operation, mode)
    return run


@pytest.mark.parametrize("caller", CALLERS)
async def test_every_answer_is_what_the_document_promises(api: Api, dsn: str,
                                                          caller: str) -> None:
    world = await make_world(api, dsn)
    token = await caller_token(api, dsn, caller)
    started = time.monotonic()
    # Schemathesis sends with a blocking client: from a thread, so that the service
    # (on this event loop) goes on answering.
    run = await asyncio.to_thread(run_schemathesis, api.base_url, token, world)
    took = time.monotonic() - started
    print(f"{caller}: {sum(run.counts.values())} requests in {took:.1f} s, "
          f"by status {dict(sorted(run.counts.items()))}")
    assert not run.findings, f"{len(run.findings)} finding(s) as {caller}:\n\n" + "\n\n".join(
        f"{key}\n{text}" for key, text in sorted(run.findings.items()))
    assert not any(status >= 500 for status in run.counts)


async def test_an_answer_the_document_does_not_promise_is_a_finding(api: Api) -> None:
    """The harness itself: with the 422 of GET /api/v1/incidents taken out of the
    document, a bad `active` is reported (and the answer counted), not let through."""
    document = (await api.get("/openapi.json", role=None)).json()
    del document["paths"]["/api/v1/incidents"]["get"]["responses"]["422"]
    schema = schemathesis.openapi.from_dict(document)
    operation = schema.find_operation_by_label("GET /api/v1/incidents")
    run = Run(api.base_url, api.auth("operator"))
    await asyncio.to_thread(run.send, operation.Case(query={"active": "maybe"}), "known bad")
    assert run.counts == {422: 1}
    assert list(run.findings) == ["GET /api/v1/incidents -> 422: Undocumented status code"]
