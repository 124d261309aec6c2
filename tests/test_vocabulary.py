"""One declaration per vocabulary (dispatch/vocabulary.py): what repeats it elsewhere
(the database's CHECK lists, SQL literals, lock keys, request schemas, the OpenAPI
roles, the socket viewer, the command line, the team view's steps) agrees with it."""

import json
import re
import typing
from pathlib import Path

import asyncpg
import pytest

from db import locks
from dispatch import vocabulary as v
from dispatch.api import OPERATIONS
from dispatch.calls.schemas import CallEndIn
from dispatch.cli import build_parser
from dispatch.openapi import get_document
from dispatch.responders.schemas import StatusIn
from dispatch.schemas import Kind
from dispatch.states import TRANSITIONS, get_team_steps
from tests.support import Api

ROOT = Path(__file__).resolve().parents[1]
# (table, column): the vocabulary its CHECK must list, in any order.
CHECKED = {
    ("users", "role"): v.USER_ROLES,
    ("tokens", "role"): v.ROLES,
    ("teams", "kind"): v.TEAM_KINDS,
    ("teams", "status"): v.TEAM_STATES,
    ("incidents", "status"): v.INCIDENT_STATES,
    ("incidents", "required_kind"): v.TEAM_KINDS,
    ("incidents", "priority"): v.PRIORITIES,
    ("assignments", "end_reason"): v.ASSIGNMENT_END_REASONS,
    ("assignments", "eta_source"): v.ETA_SOURCES,
    ("calls", "status"): v.CALL_STATES,
    ("calls", "disposition"): v.CALL_DISPOSITIONS,
    ("lines", "state"): v.LINE_STATES,
    ("lines", "probe"): v.PROBE_KINDS,
    ("teams", "reached_via"): v.CHANNELS,
    ("assignments", "acknowledged_via"): v.CHANNELS,
    ("sms_messages", "kind"): v.SMS_KINDS,
    ("sms_inbound", "outcome"): v.SMS_OUTCOMES,
    ("aml_locations", "method"): v.AML_METHODS,
    ("aml_locations", "transport"): v.AML_TRANSPORTS,
}


async def _check_lists(db: asyncpg.Connection) -> dict[tuple[str, str], set]:
    rows = await db.fetch(
        """SELECT c.conrelid::regclass::text AS tab, a.attname AS col,
                  pg_get_constraintdef(c.oid) AS def
           FROM pg_constraint c JOIN pg_attribute a
             ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
           WHERE c.contype = 'c' AND cardinality(c.conkey) = 1""")
    found = {}
    for row in rows:
        words = re.findall(r"'([^']*)'::text", row["def"])
        numbers = re.findall(r"ARRAY\[([0-9, ]+)\]", row["def"])
        if words:
            found[(row["tab"], row["col"])] = set(words) - {"kind"}
        elif numbers:
            found[(row["tab"], row["col"])] = {int(n) for n in numbers[0].split(",")}
    return found


async def test_database_checks_list_the_vocabularies(db: asyncpg.Connection) -> None:
    found = await _check_lists(db)
    for key, words in CHECKED.items():
        assert found.get(key) == set(words), f"{key}: CHECK {found.get(key)} != {words}"


def _sql_state_literals() -> set[str]:
    """Quoted words compared with a status column anywhere in db/*.py (a call's
    status is set together with its disposition)."""
    literals = set()
    for path in (ROOT / "db").glob("*.py"):
        for match in re.finditer(r"status\s*(?:=|<>|IN|NOT IN)\s*\(?([^)\n]*)", path.read_text()):
            literals |= set(re.findall(r"'(\w+)'", match.group(1)))
    return literals


def test_sql_status_literals_are_states() -> None:
    literals = _sql_state_literals()
    assert {"queued", "available", "closed"} <= literals  # the scan finds them
    assert literals <= {*v.INCIDENT_STATES, *v.TEAM_STATES, *v.CALL_STATES,
                        *v.CALL_DISPOSITIONS}


def test_lock_keys_are_distinct_and_the_migration_takes_the_event_log_key() -> None:
    assert len(set(locks.KEYS.values())) == len(locks.KEYS)
    migration = (ROOT / "db" / "migrations" / "0002_event_order.sql").read_text()
    assert f"pg_advisory_xact_lock({locks.EVENT_LOG})" in migration
    taken = set()
    for path in (ROOT / "db" / "migrations").glob("*.sql"):
        taken |= {int(k) for k in re.findall(r"advisory\w*\((\d+)\)", path.read_text())}
    assert taken <= set(locks.KEYS.values())


def test_request_schemas_and_cli_use_the_vocabularies() -> None:
    assert typing.get_args(Kind) == v.TEAM_KINDS
    assert typing.get_args(StatusIn.model_fields["action"].annotation) == v.RESPONDER_ACTIONS
    assert typing.get_args(CallEndIn.model_fields["disposition"].annotation) == \
        v.CALL_DISPOSITIONS
    for role in v.ROLES:
        argv = ["user", "create", "someone", "--role", role, "--password", "x" * 8]
        if role in v.USER_ROLES:
            assert build_parser().parse_args(argv).role == role
        else:  # a team's phone logs in with its PIN, not as a user
            with pytest.raises(SystemExit):
                build_parser().parse_args(argv)


def test_transition_table_speaks_the_vocabularies() -> None:
    for action, transition in TRANSITIONS.items():
        if transition.incident is not None:
            assert set(transition.incident.sources) | {transition.incident.target} <= set(
                v.INCIDENT_STATES), action
        if transition.team is not None:
            assert set(transition.team.sources) | {transition.team.target} <= set(
                v.TEAM_STATES), action
    assert set(v.RESPONDER_ACTIONS) <= set(TRANSITIONS)


def test_openapi_roles_are_the_guards_roles() -> None:
    """x-roles in /openapi.json are read from the same table the guard reads."""
    document = get_document(OPERATIONS)
    for op in OPERATIONS:
        described = document["paths"][op.path][op.method].get("x-roles", [])
        assert tuple(described) == op.roles, f"{op.method} {op.path}"
        assert set(op.roles) <= set(v.ROLES)


async def test_team_view_offers_the_steps_of_the_transition_table(api: Api) -> None:
    """The phone's step list is the table's: the page embeds it for team.js to read."""
    await api.team("STEP", -4.0, 119.64)
    login = await api.http.get("/team/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    await api.http.post("/team/login", data={"team_code": "STEP", "pin": "432100",
                                             "csrf_token": csrf})
    page = await api.http.get("/team")
    assert page.status_code == 200
    embedded = re.search(r'<script type="application/json" id="team-steps">(.*?)</script>',
                         page.text, re.S).group(1)
    steps = get_team_steps()
    assert steps["next"]["assigned"] == "acknowledge" and steps["after"]["clear"] == "closed"
    assert json.loads(embedded) == steps


def test_eta_sources_are_the_routers() -> None:
    from routing import ROUTER_NAMES
    assert set(v.ETA_SOURCES) == set(ROUTER_NAMES)
