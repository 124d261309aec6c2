"""Hypothesis drives the state machines with sequences nobody wrote by hand.

The line's machine (pure functions) against a plain model of it; the incident and
team machine through the real service and database: any sequence of operators' and
phones' actions, valid or not, leaves every row in a state of the vocabulary, every
step one the transition table allows, and no team on two incidents.
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.lines.states import LineState, Streaks, next_streaks, pick_active
from dispatch.states import TRANSITIONS
from dispatch.vocabulary import BUSY_TEAM_STATES, INCIDENT_STATES, RESPONDER_ACTIONS, TEAM_STATES
from tests.support import CITY, Api

# --- a line ------------------------------------------------------------------------------


@given(results=st.lists(st.booleans(), max_size=40), fail_after=st.integers(1, 5),
       recover_after=st.integers(1, 5))
def test_a_line_moves_only_after_its_streak(results: list[bool], fail_after: int,
                                            recover_after: int) -> None:
    line = Streaks("unknown")
    for index, ok in enumerate(results):
        line = next_streaks(line, ok, fail_after, recover_after)
        run = 0
        for earlier in reversed(results[:index + 1]):
            if earlier != ok:
                break
            run += 1
        assert (line.ok, line.fail) == ((run, 0) if ok else (0, run))
        if ok and run >= recover_after:
            assert line.state == "up"
        if not ok and run >= fail_after:
            assert line.state == "down"


@given(states=st.lists(st.sampled_from(["unknown", "up", "down"]), min_size=1, max_size=6),
       priorities=st.lists(st.integers(0, 3), min_size=6, max_size=6))
def test_the_active_line_is_the_first_up_else_the_primary(states: list[str],
                                                          priorities: list[int]) -> None:
    lines = [LineState(i + 1, priorities[i], state) for i, state in enumerate(states)]
    active = pick_active(lines, None)
    ordered = sorted(lines, key=lambda line: (line.priority, line.id))
    up = [line for line in ordered if line.state == "up"]
    assert active.line_id == (up[0] if up else ordered[0]).id
    assert active.critical == (not up and any(line.state == "down" for line in lines))


# --- incidents and teams through the service -----------------------------------------------

Action = st.one_of(
    st.tuples(st.just("incident"), st.integers(1, 3)),
    st.tuples(st.just("step"), st.integers(0, 2), st.sampled_from(RESPONDER_ACTIONS)),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("assign"), st.integers(0, 5), st.integers(0, 2)),
    st.tuples(st.just("service"), st.integers(0, 2),
              st.sampled_from(["available", "out_of_service"])),
)
CODES = ("HY0", "HY1", "HY2")


async def _incident_of(db: asyncpg.Connection, index: int) -> int | None:
    ids = [r["id"] for r in await db.fetch("SELECT id FROM incidents ORDER BY id")]
    return ids[index % len(ids)] if ids else None


async def _team_incident(db: asyncpg.Connection, code: str) -> int:
    found = await db.fetchval(
        """SELECT a.incident_id FROM assignments a JOIN teams t ON t.id = a.team_id
           WHERE t.code = $1 AND a.ended_at IS NULL""", code)
    return found or 1


async def _apply(api: Api, db: asyncpg.Connection, teams: dict[str, int],
                 action: tuple) -> int:
    kind = action[0]
    if kind == "incident":
        return (await api.incident(priority=action[1])).status_code
    if kind == "step":
        code = CODES[action[1]]
        return (await api.post("/api/v1/team/status", {
            "action": action[2], "incident_id": await _team_incident(db, code),
            "client_id": uuid.uuid4().hex}, role=f"team:{code}")).status_code
    if kind == "service":
        return (await api.post(f"/api/v1/teams/{teams[CODES[action[1]]]}/service",
                               {"status": action[2]})).status_code
    incident = await _incident_of(db, action[1])
    if incident is None:
        return 404
    if kind == "cancel":
        return (await api.post(f"/api/v1/incidents/{incident}/cancel",
                               {"reason": "hypothesis"})).status_code
    return (await api.post(f"/api/v1/incidents/{incident}/assign",
                           {"team_id": teams[CODES[action[2]]]})).status_code


async def _check_invariants(db: asyncpg.Connection) -> None:
    for team in await db.fetch(
            """SELECT t.id, t.status, count(a.id) AS active FROM teams t
               LEFT JOIN assignments a ON a.team_id = t.id AND a.ended_at IS NULL
               GROUP BY t.id"""):
        assert team["status"] in TEAM_STATES
        assert team["active"] <= 1, "a team on two incidents"
        assert (team["status"] in BUSY_TEAM_STATES) == (team["active"] == 1), dict(team)
    for incident in await db.fetch(
            """SELECT i.id, i.status, count(a.id) AS active FROM incidents i
               LEFT JOIN assignments a ON a.incident_id = i.id AND a.ended_at IS NULL
               GROUP BY i.id"""):
        assert incident["status"] in INCIDENT_STATES
        holds_team = incident["status"] not in ("queued", "closed", "cancelled")
        assert (incident["active"] == 1) == holds_team, dict(incident)
    allowed = {(source, step.target) for t in TRANSITIONS.values() if (step := t.incident)
               for source in step.sources}
    allowed |= {("queued", "assigned")}
    rows = await db.fetch(
        """SELECT incident_id, data->>'status' AS status FROM events
           WHERE name IN ('incident.created', 'incident.updated') ORDER BY seq""")
    last: dict[int, str] = {}
    for row in rows:
        before = last.get(row["incident_id"])
        if before is not None and before != row["status"]:
            assert (before, row["status"]) in allowed, (before, row["status"])
        last[row["incident_id"]] = row["status"]


@pytest.mark.settings(ack_timeout_s=3600)
async def test_any_sequence_of_actions_keeps_the_machine_whole(
        api: Api, db: asyncpg.Connection) -> None:
    teams = {}
    for n, code in enumerate(CODES):
        teams[code] = (await api.team(code, CITY[0] + n * 0.01, CITY[1]))["id"]
        await api.device_token(code)

    @settings(max_examples=12, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(actions=st.lists(Action, min_size=5, max_size=25))
    def run(actions: list[tuple]) -> None:
        sequences.append(actions)

    sequences: list[list[tuple]] = []
    run()
    for actions in sequences:
        for action in actions:
            status = await _apply(api, db, teams, action)
            assert status < 500, action
            await _check_invariants(db)
