"""Bad input is refused, never crashes the service and never writes anything.

Every case of the table below is sent to the running service and must come back
as the expected 4xx in application/problem+json with type, title, status and
detail (validation errors also name the offending field), while every table the
API writes to stays exactly as it was: same rows, same contents.

One service and one database serve the whole module (set up once, see the
fixtures): no case may change anything, so the cases cannot disturb each other,
and the argon2 hashing of users and PINs is paid once instead of per case.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
import pytest

from tests.support import CITY, Api, fingerprint_tables

LIMIT = 64 * 1024
MISSING = object()  # marks a field to leave out of a body
NOW = datetime.now(UTC)
# Every table a request may write to; the fingerprint compares count and contents.
TABLES = ("incidents", "calls", "teams", "shifts", "assignments", "events", "sms_messages",
          "sms_inbound", "blocklist", "aml_locations",
          "idempotency_keys", "status_requests", "tokens", "login_failures", "users")


# --- one service for the module ---------------------------------------------------------



@pytest.fixture(scope="module")
async def ids(api: Api) -> dict[str, int]:
    """The world the cases point at: T1 on duty and assigned, T2 off duty, an open and
    an ended call, a cancelled incident and an incident made with an Idempotency-Key."""
    t1 = await api.team("T1", *CITY)
    t2 = await api.team("T2", CITY[0] - 0.01, CITY[1] + 0.01, on_duty=False)
    await api.device_token("T1")
    assigned = (await api.incident()).json()
    assert assigned["status"] == "assigned", assigned
    cancelled = (await api.incident()).json()
    response = await api.post(f"/api/v1/incidents/{cancelled['id']}/cancel", {"reason": "test"})
    assert response.status_code == 200, response.text
    keyed = await api.incident(headers={"Idempotency-Key": "setup-key"})
    assert keyed.status_code == 201, keyed.text
    open_call = (await api.post("/api/v1/calls", {"caller_number": "081234567890"})).json()
    ended = (await api.post("/api/v1/calls", {"caller_number": "081234567891"})).json()
    response = await api.post(f"/api/v1/calls/{ended['id']}/end", {"disposition": "info"})
    assert response.status_code == 200, response.text
    return {"team": t1["id"], "t2": t2["id"], "incident": assigned["id"],
            "cancelled": cancelled["id"], "call": open_call["id"], "ended_call": ended["id"]}


# --- bodies -----------------------------------------------------------------------------

def _with(base: dict, changes: dict) -> dict:
    """`base` with `changes` (MISSING drops a field)."""
    body = {**base, **changes}
    return {key: value for key, value in body.items() if value is not MISSING}


def incident(**changes: object) -> dict:
    return _with({"caller_number": "081234567890",
                  "location": {"lat": CITY[0], "lon": CITY[1]},
                  "address": "Jl. Bau Massepe 1", "complaint": "sesak napas", "priority": 2},
                 changes)


def at(lat: object = CITY[0], lon: object = CITY[1]) -> dict:
    return incident(location={"lat": lat, "lon": lon})


def team(**changes: object) -> dict:
    return _with({"code": "NEW1", "name": "Tim Baru", "kind": "bls",
                  "base": {"lat": CITY[0], "lon": CITY[1]}, "pin": "432100"}, changes)


def shift(start: object, end: object) -> dict:
    return {"starts_at": start, "ends_at": end}


def status(**changes: object) -> Callable[[dict], dict]:
    """A responder step on the assigned incident (a function: the id is known late)."""
    return lambda ids: _with({"action": "acknowledge", "incident_id": ids["incident"],
                              "client_id": "c-1"}, changes)


def location(**changes: object) -> dict:
    return _with({"lat": CITY[0], "lon": CITY[1]}, changes)


def text(raw: str) -> bytes:
    """A JSON text as it is written (the only way to send NaN and friends)."""
    return raw.encode()


INCIDENT_TEXT = ('{"caller_number":"081234567890","address":"Jl. A","complaint":"b",'
                 '"priority":2,"location":{"lat":%s,"lon":119.64}}')
ISO = "%Y-%m-%dT%H:%M:%S"
LATER = (NOW + timedelta(hours=1)).isoformat()
EARLIER = (NOW - timedelta(hours=1)).isoformat()


# --- the table --------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One bad request and how it must be refused.

    `json` is serialised as application/json; `content` is sent as is (with the
    headers given); `send` picks the transport for bodies httpx will not produce.
    """

    name: str
    method: str
    path: str
    status: int | tuple[int, ...]
    json: object = MISSING
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    role: str | None = "operator"
    send: str = "http"  # "http", "chunked" (streamed, no length) or "lying-length"


INC, TEAMS, CALLS = "/api/v1/incidents", "/api/v1/teams", "/api/v1/calls"
SHIFTS, STATUS, LOC = "/api/v1/teams/{team}/shifts", "/api/v1/team/status", "/api/v1/team/location"
TOKEN, DEVICE = "/api/v1/auth/token", "/api/v1/auth/device"
RESPONDER = "team:T1"
SMS_NUMBERS = "/api/v1/teams/{team}/sms-numbers"
PLAN, OFFICE = "/api/v1/planner/runs", "health_office"
JSON_TYPE = {"Content-Type": "application/json"}

CASES = [
    # The body as a whole.
    Case("malformed-json", "POST", INC, 400, content=b'{"caller_number": ', headers=JSON_TYPE),
    Case("trailing-garbage", "POST", INC, 400, content=json.dumps(incident()).encode() + b" x",
         headers=JSON_TYPE),
    Case("json-array", "POST", INC, 422, json=[incident()], fields=("body",)),
    Case("json-string", "POST", INC, 422, json="incident", fields=("body",)),
    Case("json-null", "POST", INC, 422, content=b"null", headers=JSON_TYPE, fields=("body",)),
    Case("empty-body", "POST", INC, 422, content=b"", headers=JSON_TYPE, fields=("body",)),
    Case("empty-object", "POST", INC, 422, json={},
         fields=("caller_number", "location", "address", "complaint", "priority")),
    Case("invalid-utf8", "POST", INC, 400, content=b'{"address": "\xff\xfe"}',
         headers=JSON_TYPE),
    Case("nested-too-deep", "POST", INC, 400, content=b"[" * 30_000 + b"]" * 30_000,
         headers=JSON_TYPE),
    Case("integer-of-5000-digits", "POST", INC, 400, content=text(INCIDENT_TEXT % ("1" * 5000)),
         headers=JSON_TYPE),
    Case("nan-literal", "POST", INC, 400, content=text(INCIDENT_TEXT % "NaN"), headers=JSON_TYPE),
    Case("infinity-literal", "POST", INC, 400, content=text(INCIDENT_TEXT % "Infinity"),
         headers=JSON_TYPE),
    Case("minus-infinity-literal", "POST", INC, 400, content=text(INCIDENT_TEXT % "-Infinity"),
         headers=JSON_TYPE),
    Case("number-overflowing-to-infinity", "POST", INC, 422, content=text(INCIDENT_TEXT % "1e400"),
         headers=JSON_TYPE, fields=("location.lat",)),
    # Content types.
    Case("text-plain", "POST", INC, 415, content=json.dumps(incident()).encode(),
         headers={"Content-Type": "text/plain"}),
    Case("form-encoded", "POST", INC, 415, content=b"caller_number=081234567890&priority=1",
         headers={"Content-Type": "application/x-www-form-urlencoded"}),
    Case("no-content-type", "POST", INC, 415, content=json.dumps(incident()).encode()),
    Case("multipart", "POST", TEAMS, 415, content=b"--x\r\n\r\n--x--\r\n",
         headers={"Content-Type": "multipart/form-data; boundary=x"}),
    # Size: 64 KiB at most, however the body comes.
    Case("body-over-64k", "POST", INC, 413, json=incident(notes="n" * (LIMIT + 10))),
    Case("chunked-body-over-64k", "POST", INC, 413, send="chunked"),
    Case("content-length-lies-large", "POST", INC, 413, send="lying-length",
         headers={"Content-Length": str(10 * LIMIT)}),
    Case("content-length-of-19-digits", "POST", INC, 413, send="lying-length",
         headers={"Content-Length": "9" * 19}),
    # Positions.
    Case("lat-91", "POST", INC, 422, json=at(lat=91), fields=("location.lat",)),
    Case("lat-minus-90.5", "POST", INC, 422, json=at(lat=-90.5), fields=("location.lat",)),
    Case("lon-minus-181", "POST", INC, 422, json=at(lon=-181), fields=("location.lon",)),
    Case("lon-180.5", "POST", INC, 422, json=at(lon=180.5), fields=("location.lon",)),
    Case("lat-string", "POST", INC, 422, json=at(lat="1"), fields=("location.lat",)),
    Case("lat-true", "POST", INC, 422, json=at(lat=True), fields=("location.lat",)),
    Case("lat-null", "POST", INC, 422, json=at(lat=None), fields=("location.lat",)),
    Case("lon-missing", "POST", INC, 422, json=incident(location={"lat": CITY[0]}),
         fields=("location.lon",)),
    Case("location-missing", "POST", INC, 422, json=incident(location=MISSING),
         fields=("location",)),
    Case("location-as-list", "POST", INC, 422, json=incident(location=list(CITY)),
         fields=("location",)),
    # Priority and kinds.
    Case("priority-0", "POST", INC, 422, json=incident(priority=0), fields=("priority",)),
    Case("priority-4", "POST", INC, 422, json=incident(priority=4), fields=("priority",)),
    Case("priority-string", "POST", INC, 422, json=incident(priority="1"), fields=("priority",)),
    Case("priority-true", "POST", INC, 422, json=incident(priority=True), fields=("priority",)),
    Case("priority-1.5", "POST", INC, 422, json=incident(priority=1.5), fields=("priority",)),
    Case("priority-null", "POST", INC, 422, json=incident(priority=None), fields=("priority",)),
    Case("required-kind-unknown", "POST", INC, 422, json=incident(required_kind="truck"),
         fields=("required_kind",)),
    Case("required-kind-wrong-case", "POST", INC, 422, json=incident(required_kind="ALS"),
         fields=("required_kind",)),
    # Texts.
    Case("address-too-long", "POST", INC, 422, json=incident(address="a" * 501),
         fields=("address",)),
    Case("complaint-too-long", "POST", INC, 422, json=incident(complaint="c" * 501),
         fields=("complaint",)),
    Case("notes-too-long", "POST", INC, 422, json=incident(notes="n" * 2001), fields=("notes",)),
    Case("address-empty", "POST", INC, 422, json=incident(address=""), fields=("address",)),
    Case("address-whitespace", "POST", INC, 422, json=incident(address="   "),
         fields=("address",)),
    Case("complaint-whitespace", "POST", INC, 422, json=incident(complaint="\t\n "),
         fields=("complaint",)),
    Case("address-nul-character", "POST", INC, 422, json=incident(address="Jl. A\u0000"),
         fields=("address",)),
    Case("complaint-lone-surrogate", "POST", INC, 422,
         content=text(json.dumps(incident(complaint="x")).replace('"x"', '"\\ud800"')),
         headers=JSON_TYPE, fields=("complaint",)),
    Case("address-number", "POST", INC, 422, json=incident(address=12), fields=("address",)),
    # Phone numbers.
    Case("phone-letters", "POST", INC, 422, json=incident(caller_number="call me"),
         fields=("caller_number",)),
    Case("phone-too-short", "POST", INC, 422, json=incident(caller_number="123"),
         fields=("caller_number",)),
    Case("phone-empty", "POST", INC, 422, json=incident(caller_number=""),
         fields=("caller_number",)),
    Case("phone-as-number", "POST", INC, 422, json=incident(caller_number=81234567890),
         fields=("caller_number",)),
    Case("phone-missing", "POST", INC, 422, json=incident(caller_number=MISSING),
         fields=("caller_number",)),
    # Patients.
    Case("patients-0", "POST", INC, 422, json=incident(patients=0), fields=("patients",)),
    Case("patients-minus-1", "POST", INC, 422, json=incident(patients=-1), fields=("patients",)),
    Case("patients-10000", "POST", INC, 422, json=incident(patients=10_000),
         fields=("patients",)),
    Case("patients-2.5", "POST", INC, 422, json=incident(patients=2.5), fields=("patients",)),
    # Ids in bodies.
    Case("call-id-unknown", "POST", INC, 422, json=incident(call_id=999_999),
         fields=("call_id",)),
    Case("call-id-unknown-with-idempotency-key", "POST", INC, 422,
         json=incident(call_id=999_999), headers={"Idempotency-Key": "k-unknown-call"},
         fields=("call_id",)),
    Case("call-id-0", "POST", INC, 422, json=incident(call_id=0), fields=("call_id",)),
    Case("call-id-string", "POST", INC, 422, json=incident(call_id="1"), fields=("call_id",)),
    Case("call-id-over-bigint", "POST", INC, 422, json=incident(call_id=2**63),
         fields=("call_id",)),
    # Idempotency-Key.
    Case("idempotency-key-too-long", "POST", INC, 422, json=incident(),
         headers={"Idempotency-Key": "k" * 201}, fields=("Idempotency-Key",)),
    Case("idempotency-key-empty", "POST", INC, 422, json=incident(),
         headers={"Idempotency-Key": ""}, fields=("Idempotency-Key",)),
    Case("idempotency-key-reused-for-other-body", "POST", INC, 409,
         json=incident(priority=1), headers={"Idempotency-Key": "setup-key"}),
    Case("idempotency-key-with-bad-body", "POST", INC, 422, json=incident(priority=9),
         headers={"Idempotency-Key": "k-bad-body"}, fields=("priority",)),
    # Calls.
    Case("call-phone-missing", "POST", CALLS, 422, json={}, fields=("caller_number",)),
    Case("call-phone-invalid", "POST", CALLS, 422, json={"caller_number": "not a number"},
         fields=("caller_number",)),
    Case("call-line-unknown", "POST", CALLS, 422,
         json={"caller_number": "081234567890", "line_id": 999_999}, fields=("line_id",)),
    Case("call-line-string", "POST", CALLS, 422,
         json={"caller_number": "081234567890", "line_id": "1"}, fields=("line_id",)),
    Case("call-line-negative", "POST", CALLS, 422,
         json={"caller_number": "081234567890", "line_id": -5}, fields=("line_id",)),
    Case("call-received-at-not-a-time", "POST", CALLS, 422,
         json={"caller_number": "081234567890", "received_at": "yesterday"},
         fields=("received_at",)),
    Case("call-received-at-naive", "POST", CALLS, 422,
         json={"caller_number": "081234567890", "received_at": NOW.strftime(ISO)},
         fields=("received_at",)),
    Case("call-received-at-overflows-in-utc", "POST", CALLS, 422,
         json={"caller_number": "081234567890", "received_at": "9999-12-31T23:59:59-23:00"},
         fields=("received_at",)),
    Case("call-received-at-underflows-in-utc", "POST", CALLS, 422,
         json={"caller_number": "081234567890", "received_at": "0001-01-01T00:00:00+01:00"},
         fields=("received_at",)),
    Case("call-received-in-year-3000", "POST", CALLS, 422,
         json={"caller_number": "081234567890", "received_at": "3000-01-01T00:00:00Z"},
         fields=("received_at",)),
    Case("call-received-in-year-1", "POST", CALLS, 422,
         json={"caller_number": "081234567890", "received_at": "0001-01-01T00:00:00Z"},
         fields=("received_at",)),
    Case("call-text-plain", "POST", CALLS, 415, content=b'{"caller_number": "081234567890"}',
         headers={"Content-Type": "text/plain"}),
    # Ending calls.
    Case("end-unknown-call", "POST", "/api/v1/calls/999999/end", 404,
         json={"disposition": "info"}),
    Case("end-call-id-not-numeric", "POST", "/api/v1/calls/abc/end", 404,
         json={"disposition": "info"}),
    Case("end-disposition-unknown", "POST", "/api/v1/calls/{call}/end", 422,
         json={"disposition": "hangup"}, fields=("disposition",)),
    Case("end-disposition-missing", "POST", "/api/v1/calls/{call}/end", 422, json={},
         fields=("disposition",)),
    Case("end-incident-unknown", "POST", "/api/v1/calls/{call}/end", 422,
         json={"disposition": "incident", "incident_id": 999_999}, fields=("incident_id",)),
    Case("end-call-already-ended", "POST", "/api/v1/calls/{ended_call}/end", 409,
         json={"disposition": "prank"}),
    Case("end-duplicate-without-incident", "POST", "/api/v1/calls/{call}/end", 422,
         json={"disposition": "duplicate"}, fields=("incident_id",)),
    # The call log, callers' history and possible duplicates.
    Case("history-number-invalid", "GET", "/api/v1/calls?number=call-me", 422,
         fields=("number",)),
    Case("log-status-unknown", "GET", "/api/v1/calls?status=closed", 422, fields=("status",)),
    Case("log-hours-negative", "GET", "/api/v1/calls?hours=-1", 422, fields=("hours",)),
    Case("call-unknown", "GET", "/api/v1/calls/999999", 404),
    Case("duplicates-nothing", "GET", "/api/v1/incidents/duplicates", 422, fields=("lat",)),
    Case("duplicates-lat-only", "GET", "/api/v1/incidents/duplicates?lat=-4", 422,
         fields=("lon",)),
    Case("duplicates-lon-nan", "GET", "/api/v1/incidents/duplicates?lat=-4&lon=nan", 422,
         fields=("lon",)),
    # The block list.
    Case("block-number-invalid", "POST", "/api/v1/blocklist", 422,
         json={"number": "call me", "reason": "iseng"}, fields=("number",), role="admin"),
    Case("block-reason-missing", "POST", "/api/v1/blocklist", 422,
         json={"number": "085299998888"}, fields=("reason",), role="admin"),
    Case("block-expiry-past", "POST", "/api/v1/blocklist", 422,
         json={"number": "085299998888", "reason": "iseng", "expires_at": EARLIER},
         fields=("expires_at",), role="admin"),
    Case("block-active-incident", "POST", "/api/v1/blocklist", 409,
         json={"number": "081234567890", "reason": "iseng"}, role="admin"),
    Case("block-lookup-not-a-number", "GET", "/api/v1/blocklist/abc", 404),
    Case("block-lift-not-blocked", "DELETE", "/api/v1/blocklist/085299998888", 404,
         role="admin"),
    # Teams.
    Case("team-code-duplicate", "POST", TEAMS, 409, json=team(code="T1")),
    Case("team-code-with-space", "POST", TEAMS, 422, json=team(code="T 1"), fields=("code",)),
    Case("team-code-empty", "POST", TEAMS, 422, json=team(code=""), fields=("code",)),
    Case("team-code-too-long", "POST", TEAMS, 422, json=team(code="C" * 33), fields=("code",)),
    Case("team-kind-unknown", "POST", TEAMS, 422, json=team(kind="truck"), fields=("kind",)),
    Case("team-pin-not-digits", "POST", TEAMS, 422, json=team(pin="12ab"), fields=("pin",)),
    Case("team-pin-too-short", "POST", TEAMS, 422, json=team(pin="12345"), fields=("pin",)),
    Case("team-pin-as-number", "POST", TEAMS, 422, json=team(pin=4321), fields=("pin",)),
    Case("pin-change-too-short", "POST", "/api/v1/teams/{team}/pin", 422, json={"pin": "4321"},
         fields=("pin",), role="admin"),
    Case("pin-change-not-digits", "POST", "/api/v1/teams/{team}/pin", 422,
         json={"pin": "12345a"}, fields=("pin",), role="admin"),
    Case("pin-change-missing", "POST", "/api/v1/teams/{team}/pin", 422, json={},
         fields=("pin",), role="admin"),
    Case("pin-change-unknown-team", "POST", "/api/v1/teams/999999/pin", 404,
         json={"pin": "135790"}, role="admin"),
    Case("revoke-unknown-team", "POST", "/api/v1/teams/999999/revoke", 404, role="admin"),
    Case("team-base-lat-91", "POST", TEAMS, 422, json=team(base={"lat": 91, "lon": 119.6}),
         fields=("base.lat",)),
    Case("team-base-missing", "POST", TEAMS, 422, json=team(base=MISSING), fields=("base",)),
    Case("team-name-empty", "POST", TEAMS, 422, json=team(name=""), fields=("name",)),
    Case("team-phone-invalid", "POST", TEAMS, 422, json=team(phone="call me"),
         fields=("phone",)),
    Case("team-malformed-json", "POST", TEAMS, 400, content=b"{code: T9}", headers=JSON_TYPE),
    # Shifts.
    Case("shift-ends-before-start", "POST", SHIFTS, 422, json=shift(LATER, EARLIER),
         fields=("ends_at",)),
    Case("shift-ends-at-start", "POST", SHIFTS, 422, json=shift(LATER, LATER),
         fields=("ends_at",)),
    Case("shift-naive-start", "POST", SHIFTS, 422, json=shift(NOW.strftime(ISO), LATER),
         fields=("starts_at",)),
    Case("shift-longer-than-48h", "POST", SHIFTS, 422,
         json=shift(EARLIER, (NOW + timedelta(hours=60)).isoformat()), fields=("ends_at",)),
    Case("shift-start-not-a-time", "POST", SHIFTS, 422, json=shift("tomorrow", LATER),
         fields=("starts_at",)),
    Case("shift-end-missing", "POST", SHIFTS, 422, json={"starts_at": EARLIER},
         fields=("ends_at",)),
    Case("shift-unknown-team", "POST", "/api/v1/teams/999999/shifts", 404,
         json=shift(EARLIER, LATER)),
    Case("shift-team-id-not-numeric", "POST", "/api/v1/teams/abc/shifts", 404,
         json=shift(EARLIER, LATER)),
    # Manual assignment.
    Case("assign-unknown-team", "POST", "/api/v1/incidents/{incident}/assign", (404, 409, 422),
         json={"team_id": 999_999}, fields=("team_id",)),
    Case("assign-team-off-duty", "POST", "/api/v1/incidents/{incident}/assign", 409,
         json=lambda ids: {"team_id": ids["t2"]}),
    Case("assign-same-team-again", "POST", "/api/v1/incidents/{incident}/assign", 409,
         json=lambda ids: {"team_id": ids["team"]}),
    Case("assign-cancelled-incident", "POST", "/api/v1/incidents/{cancelled}/assign", 409,
         json=lambda ids: {"team_id": ids["team"]}),
    Case("assign-team-id-string", "POST", "/api/v1/incidents/{incident}/assign", 422,
         json={"team_id": "T1"}, fields=("team_id",)),
    Case("assign-team-id-missing", "POST", "/api/v1/incidents/{incident}/assign", 422, json={},
         fields=("team_id",)),
    Case("assign-unknown-incident", "POST", "/api/v1/incidents/999999/assign", 404,
         json=lambda ids: {"team_id": ids["team"]}),
    # Cancelling.
    Case("cancel-reason-missing", "POST", "/api/v1/incidents/{incident}/cancel", 422, json={},
         fields=("reason",)),
    Case("cancel-reason-whitespace", "POST", "/api/v1/incidents/{incident}/cancel", 422,
         json={"reason": "  "}, fields=("reason",)),
    Case("cancel-reason-too-long", "POST", "/api/v1/incidents/{incident}/cancel", 422,
         json={"reason": "r" * 501}, fields=("reason",)),
    Case("cancel-unknown-incident", "POST", "/api/v1/incidents/999999/cancel", 404,
         json={"reason": "test"}),
    Case("cancel-already-cancelled", "POST", "/api/v1/incidents/{cancelled}/cancel", 409,
         json={"reason": "again"}),
    # A responder's steps.
    Case("status-action-unknown", "POST", STATUS, 422, json=status(action="teleport"),
         fields=("action",), role=RESPONDER),
    Case("status-action-missing", "POST", STATUS, 422, json=status(action=MISSING),
         fields=("action",), role=RESPONDER),
    Case("status-incident-missing", "POST", STATUS, 422, json=status(incident_id=MISSING),
         fields=("incident_id",), role=RESPONDER),
    Case("status-incident-string", "POST", STATUS, 422, json=status(incident_id="1"),
         fields=("incident_id",), role=RESPONDER),
    Case("status-client-id-with-space", "POST", STATUS, 422, json=status(client_id="a b"),
         fields=("client_id",), role=RESPONDER),
    Case("status-client-id-too-long", "POST", STATUS, 422, json=status(client_id="c" * 101),
         fields=("client_id",), role=RESPONDER),
    Case("status-at-naive", "POST", STATUS, 422, json=status(at=NOW.strftime(ISO)),
         fields=("at",), role=RESPONDER),
    Case("status-at-in-the-future", "POST", STATUS, 422, json=status(at=LATER), fields=("at",),
         role=RESPONDER),
    Case("status-at-days-ago", "POST", STATUS, 422,
         json=status(at=(NOW - timedelta(days=2)).isoformat()), fields=("at",), role=RESPONDER),
    Case("status-unknown-incident", "POST", STATUS, 404, json=status(incident_id=999_999),
         role=RESPONDER),
    Case("status-step-out-of-order", "POST", STATUS, 409, json=status(action="on_scene"),
         role=RESPONDER),
    Case("status-clear-before-arriving", "POST", STATUS, 409, json=status(action="clear"),
         role=RESPONDER),
    Case("status-incident-not-assigned-to-team", "POST", STATUS, 409,
         json=lambda ids: status()(ids) | {"incident_id": ids["cancelled"]}, role=RESPONDER),
    # A responder's position.
    Case("location-lat-91", "POST", LOC, 422, json=location(lat=91), fields=("lat",),
         role=RESPONDER),
    Case("location-lon-minus-181", "POST", LOC, 422, json=location(lon=-181), fields=("lon",),
         role=RESPONDER),
    Case("location-lat-string", "POST", LOC, 422, json=location(lat="1"), fields=("lat",),
         role=RESPONDER),
    Case("location-lat-true", "POST", LOC, 422, json=location(lat=True), fields=("lat",),
         role=RESPONDER),
    Case("location-lon-missing", "POST", LOC, 422, json=location(lon=MISSING), fields=("lon",),
         role=RESPONDER),
    Case("location-nan-literal", "POST", LOC, 400, content=b'{"lat": NaN, "lon": 119.64}',
         headers=JSON_TYPE, role=RESPONDER),
    Case("location-accuracy-negative", "POST", LOC, 422, json=location(accuracy_m=-1),
         fields=("accuracy_m",), role=RESPONDER),
    Case("location-at-naive", "POST", LOC, 422, json=location(at=NOW.strftime(ISO)),
         fields=("at",), role=RESPONDER),
    Case("location-at-in-the-future", "POST", LOC, 422, json=location(at=LATER),
         fields=("at",), role=RESPONDER),
    Case("location-form-encoded", "POST", LOC, 415, content=b"lat=1&lon=2",
         headers={"Content-Type": "application/x-www-form-urlencoded"}, role=RESPONDER),
    # Logging in.
    Case("token-password-missing", "POST", TOKEN, 422, json={"username": "admin"},
         fields=("password",), role=None),
    Case("token-username-empty", "POST", TOKEN, 422, json={"username": "", "password": "x"},
         fields=("username",), role=None),
    Case("token-username-too-long", "POST", TOKEN, 422,
         json={"username": "u" * 65, "password": "x"}, fields=("username",), role=None),
    Case("token-username-nul", "POST", TOKEN, 422,
         json={"username": "admin\u0000", "password": "x"}, fields=("username",), role=None),
    Case("token-password-number", "POST", TOKEN, 422,
         json={"username": "admin", "password": 1234}, fields=("password",), role=None),
    Case("token-json-array", "POST", TOKEN, 422, json=[{"username": "admin"}],
         fields=("body",), role=None),
    Case("token-malformed-json", "POST", TOKEN, 400, content=b"{'username': 'admin'}",
         headers=JSON_TYPE, role=None),
    Case("token-form-encoded", "POST", TOKEN, 415, content=b"username=admin&password=x",
         headers={"Content-Type": "application/x-www-form-urlencoded"}, role=None),
    Case("device-code-with-space", "POST", DEVICE, 422, json={"team_code": "T 1", "pin": "4321"},
         fields=("team_code",), role=None),
    Case("device-code-missing", "POST", DEVICE, 422, json={"pin": "4321"},
         fields=("team_code",), role=None),
    Case("device-pin-missing", "POST", DEVICE, 422, json={"team_code": "T1"}, fields=("pin",),
         role=None),
    Case("device-pin-empty", "POST", DEVICE, 422, json={"team_code": "T1", "pin": ""},
         fields=("pin",), role=None),
    Case("device-pin-as-number", "POST", DEVICE, 422, json={"team_code": "T1", "pin": 4321},
         fields=("pin",), role=None),
    # Reading with bad ids and queries.
    Case("get-incident-id-letters", "GET", "/api/v1/incidents/abc", 404),
    Case("get-incident-id-huge", "GET", "/api/v1/incidents/99999999999999999999999", 404),
    Case("get-incident-id-5000-digits", "GET", "/api/v1/incidents/" + "9" * 5000, 404),
    Case("get-incident-id-superscript-digit", "GET", "/api/v1/incidents/%C2%B2", 404),
    Case("get-incident-id-arabic-digit", "GET", "/api/v1/incidents/%D9%A1", 404),
    Case("get-incident-id-0", "GET", "/api/v1/incidents/0", 404),
    Case("get-incident-id-negative", "GET", "/api/v1/incidents/-1", 404),
    Case("get-incident-id-decimal", "GET", "/api/v1/incidents/1.5", 404),
    Case("get-incident-unknown", "GET", "/api/v1/incidents/999999", 404),
    Case("get-team-id-letters", "GET", "/api/v1/teams/abc", 404),
    Case("get-team-unknown", "GET", "/api/v1/teams/999999", 404),
    Case("list-active-maybe", "GET", "/api/v1/incidents?active=maybe", 422, fields=("active",)),
    Case("list-active-empty", "GET", "/api/v1/incidents?active=", 422, fields=("active",)),
    # The road map: its query is checked before the graph is looked for (this module's
    # service has none: a good query gets 404 no-road-graph).
    Case("roads-bbox-three", "GET", "/api/v1/roads?bbox=1,2,3", 422, fields=("bbox",)),
    Case("roads-bbox-nan", "GET", "/api/v1/roads?bbox=nan,1,2,3", 422, fields=("bbox",)),
    Case("roads-bbox-reversed", "GET", "/api/v1/roads?bbox=2,1,1,3", 422, fields=("bbox",)),
    Case("roads-detail-unknown", "GET", "/api/v1/roads?detail=x", 422, fields=("detail",)),
    Case("roads-all-unbounded", "GET", "/api/v1/roads?detail=all", 422, fields=("bbox",)),
    Case("roads-no-graph", "GET", "/api/v1/roads", 404),
    Case("route-no-graph", "GET", "/api/v1/team/route", 404, role=RESPONDER),
    Case("unknown-route", "GET", "/api/v1/nothing-here", 404),
    Case("unknown-sub-route", "GET", "/api/v1/incidents/{incident}/nothing", 404),
    Case("delete-incidents", "DELETE", INC, 405),
    Case("put-teams", "PUT", TEAMS, 405),
    Case("get-cancel", "GET", "/api/v1/incidents/{incident}/cancel", 405),
    Case("patch-team-status", "PATCH", STATUS, 405, role=RESPONDER),
    Case("get-auth-token", "GET", TOKEN, 405, role=None),
    # SMS to teams: numbers, the webhook without its key, the report's period.
    Case("sms-numbers-not-a-number", "POST", SMS_NUMBERS, 422, json={"numbers": ["abc"]},
         fields=("numbers.0",), role="admin"),
    Case("sms-numbers-too-many", "POST", SMS_NUMBERS, 422,
         json={"numbers": [f"+62812000000{n:02d}" for n in range(6)]}, fields=("numbers",),
         role="admin"),
    Case("sms-numbers-not-a-list", "POST", SMS_NUMBERS, 422, json={"numbers": "+6281200000"},
         fields=("numbers",), role="admin"),
    Case("sms-numbers-unknown-team", "POST", "/api/v1/teams/999999/sms-numbers", 404,
         json={"numbers": ["+6281200000001"]}, role="admin"),
    Case("team-sms-number-bad", "POST", TEAMS, 422, json=team(sms_numbers=["12"]),
         fields=("sms_numbers.0",)),
    Case("sms-inbound-key-not-set", "GET", "/api/v1/sms/inbound?from=1&text=1&key=x", 401,
         role=None),
    Case("sms-report-from-after-to", "GET", "/api/v1/reports/sms?from=2026-02-02&to=2026-02-01",
         422, fields=("from",), role="admin"),
    # The planner page: nothing is started by a bad run (runs live in memory, so the
    # role matrix and tests/test_planner_api.py check the list of runs stays empty).
    Case("planner-run-not-json", "POST", PLAN, 400, content=b"{scenario", headers=JSON_TYPE,
         role=OFFICE),
    Case("planner-run-nan", "POST", PLAN, 400, role=OFFICE, headers=JSON_TYPE,
         content=b'{"scenario": {"calls_per_hour": NaN, "teams": []}}'),
    Case("planner-run-as-list", "POST", PLAN, 422, json=[{"teams": []}], fields=("body",),
         role=OFFICE),
    Case("planner-run-bad-fields", "POST", PLAN, 422, role=OFFICE,
         json={"scenario": {"teams": [{"code": "", "base": {"lat": "x", "lon": 500}}],
                            "priorities": {"1": 2}}},
         fields=("scenario.teams[0].code", "scenario.teams[0].base.lat",
                 "scenario.teams[0].base.lon", "scenario.priorities.1")),
    Case("planner-run-demand-file", "POST", PLAN, 422, role=OFFICE,
         json={"scenario": {"demand": {"geojson": "/etc/passwd"},
                            "teams": [{"code": "A", "base": {"lat": CITY[0], "lon": CITY[1]}}]}},
         fields=("scenario.demand",)),
    Case("planner-run-too-many-scenarios", "POST", PLAN, 422, role=OFFICE,
         json={"scenarios": [{"teams": []}] * 9}, fields=("scenarios",)),
    Case("planner-run-over-64k", "POST", PLAN, 413, role=OFFICE,
         json={"scenario": {"name": "n" * (LIMIT + 10)}}),
    Case("planner-run-unknown", "GET", PLAN + "/0123456789abcdef", 404, role=OFFICE),
    Case("planner-run-id-traversal", "GET", PLAN + "/..%2F..%2Fetc", 404, role=OFFICE),
    Case("planner-curve-bad-lang", "GET", PLAN + "/0123456789abcdef/fractiles.svg?lang=fr",
         422, fields=("lang",), role=OFFICE),
    Case("put-planner-runs", "PUT", PLAN, 405, role=OFFICE),
]


def test_cases_are_distinct_and_name_fields() -> None:
    names = [case.name for case in CASES]
    assert len(set(names)) == len(names) >= 30
    for case in CASES:
        statuses = case.status if isinstance(case.status, tuple) else (case.status,)
        assert all(400 <= s < 500 for s in statuses), case.name
        assert case.fields or 422 not in statuses, f"{case.name}: name the field of the 422"


# --- sending ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


async def _read_reply(reader: asyncio.StreamReader) -> Reply:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in filter(None, lines):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Reply(int(status_line.split()[1]), headers, body)


async def send_raw(base_url: str, head: bytes, chunks: list[bytes]) -> Reply:
    """Write a request by hand, chunk by chunk, stopping as soon as the answer comes:
    for bodies httpx will not send (no length and never finished, a lying length)."""
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(head)
        reply = asyncio.create_task(_read_reply(reader))
        for chunk in chunks:
            if reply.done():
                break
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0)
        return await asyncio.wait_for(reply, timeout=10)
    finally:
        writer.close()


def _head(case: Case, path: str, token: str, extra: dict[str, str]) -> bytes:
    headers = {"Host": "127.0.0.1", "Authorization": f"Bearer {token}",
               "Content-Type": "application/json", "Connection": "close", **extra}
    lines = [f"{case.method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def send(api: Api, case: Case, ids: dict[str, int]) -> Reply:
    path = case.path.format(**ids)
    if case.send == "chunked":
        # 1 KiB chunks, one past the limit, and never the closing zero-length chunk: the
        # service must answer without waiting for a body end that does not come.
        chunk = b"400\r\n" + b" " * 1024 + b"\r\n"
        head = _head(case, path, api.tokens[case.role], {"Transfer-Encoding": "chunked"})
        return await send_raw(api.base_url, head, [chunk] * (LIMIT // 1024 + 1))
    if case.send == "lying-length":
        head = _head(case, path, api.tokens[case.role], case.headers)
        return await send_raw(api.base_url, head, [b"{}"])
    headers = dict(case.headers)
    content = case.content
    if case.json is not MISSING:
        body = case.json(ids) if callable(case.json) else case.json
        content = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    response = await api.call(case.method, path, case.role, content=content, headers=headers)
    return Reply(response.status_code, dict(response.headers), response.content)


# --- checking ---------------------------------------------------------------------------

async def fingerprint(db: asyncpg.Connection) -> dict[str, tuple[int, str]]:
    """Row count and a digest of the contents of every table the API writes to."""
    return await fingerprint_tables(db, TABLES)


def check_problem(case: Case, reply: Reply) -> None:
    """`reply` is the expected 4xx problem+json, naming the fields of a 422."""
    expected = case.status if isinstance(case.status, tuple) else (case.status,)
    assert reply.status in expected, (reply.status, reply.body[:500])
    media = reply.headers.get("content-type", "").split(";")[0].strip()
    assert media == "application/problem+json", (media, reply.body[:500])
    problem = json.loads(reply.body)
    assert {"type", "title", "status", "detail"} <= problem.keys(), problem
    assert problem["status"] == reply.status, problem
    assert all(isinstance(problem[key], str) and problem[key]
               for key in ("type", "title", "detail")), problem
    if reply.status == 422:
        named = {error["field"] for error in problem.get("errors", [])}
        assert set(case.fields) <= named, problem
        assert all(error["message"] for error in problem["errors"]), problem
    if reply.status == 405:
        allowed = {m.strip() for m in reply.headers.get("allow", "").split(",") if m.strip()}
        assert allowed and case.method not in allowed, reply.headers


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_bad_input_is_refused_and_writes_nothing(api: Api, ids: dict[str, int],
                                                       db: asyncpg.Connection,
                                                       case: Case) -> None:
    before = await fingerprint(db)
    reply = await send(api, case, ids)
    check_problem(case, reply)
    after = await fingerprint(db)
    changed = sorted(table for table in TABLES if before[table] != after[table])
    assert not changed, f"{case.name} changed {changed}: {before} -> {after}"


async def test_service_still_answers_after_bad_input(api: Api, ids: dict[str, int]) -> None:
    """None of the cases above broke the service: a good request still works."""
    response = await api.get(f"/api/v1/incidents/{ids['incident']}")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "assigned"


async def test_405_allow_header_lists_every_method_of_the_path(api: Api) -> None:
    response = await api.call("DELETE", INC)
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers.get("allow", "").split(",")}
    assert {"GET", "POST"} <= allowed, response.headers
