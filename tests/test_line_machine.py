"""Hypothesis drives the 112 lines through the service with sequences nobody wrote by
hand: lines added (probed by SIP OPTIONS, heartbeats or nothing), probe results,
gateway heartbeats, calls on the lines, the administrator's override, and requests
that must be refused. After every step:

- each line is in a state of the vocabulary, with the state and runs of results a
  plain model (dispatch.lines.states.next_streaks) gives for the results it got;
- every change in the line history and in the `line.state` events is one of the
  transition table (dispatch.lines.states.TRANSITIONS);
- the active line is the override when set, else the `up` line of lowest priority,
  else the primary, with the critical alarm exactly when no line is up and one is
  down (docs/DESIGN "Line failover"); GET /api/v1/hotline names that line;
- a call open on a line when it goes down is dropped, its caller in the callback
  queue; any other call stays open (a call may still come in on a line marked down:
  probes can be wrong).

Probe results are applied where the probing instance applies them
(dispatch.lines.service.do_record_result, in a transaction of the service's own
kind); the service's own monitor is paced at an hour (`line_poll_s`), so it never
probes a line added after it started and the results are the test's alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.pool import create_pool
from dispatch.config import Settings
from dispatch.context import Context
from dispatch.lines.probes import get_probe
from dispatch.lines.service import do_record_result
from dispatch.lines.sip import ProbeResult
from dispatch.lines.states import TRANSITIONS, LineState, Streaks, next_streaks, pick_active
from dispatch.vocabulary import LINE_STATES
from tests.support import Api

MAX_LINES = 5
MISSING = 999_999  # no line has this id
ALLOWED = {(source, target) for (source, _), target in TRANSITIONS.items()}

Action = st.one_of(
    st.tuples(st.just("line"), st.integers(0, 3),
              st.sampled_from(["sip_options", "heartbeat", "none"]),
              st.integers(1, 3), st.integers(1, 3)),
    st.tuples(st.just("result"), st.integers(0, MAX_LINES), st.booleans()),
    st.tuples(st.just("result"), st.integers(0, MAX_LINES), st.booleans()),
    st.tuples(st.just("heartbeat"), st.integers(0, MAX_LINES)),
    st.tuples(st.just("call"), st.integers(0, MAX_LINES)),
    st.tuples(st.just("override"), st.one_of(st.none(), st.integers(0, MAX_LINES))),
)


class Model:
    """What the lines should be: each line's runs and state, and the override."""

    def __init__(self) -> None:
        self.lines: dict[int, Streaks] = {}
        self.priority: dict[int, int] = {}
        self.probes: dict[int, dict] = {}
        self.override: int | None = None
        self.created = 0
        self.calls: dict[int, int] = {}  # call id -> line id
        self.dropped: set[int] = set()

    def line_id(self, index: int) -> int:
        """The index-th line, or an id of no line when the index is past them."""
        ids = sorted(self.lines)
        return ids[index] if index < len(ids) else MISSING


@pytest.fixture
async def ctx(dsn: str) -> AsyncIterator[Context]:
    """A Context of the test's own on the service's database: the probing instance's
    way of applying results."""
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        yield Context.create(Settings(database_url=dsn, secret_key="test"), pool)
    finally:
        await pool.close()


async def _add_line(api: Api, model: Model, action: tuple) -> int:
    _, priority, kind, fail_after, recover_after = action
    probe = {"kind": kind}
    if kind == "sip_options":
        probe |= {"host": "127.0.0.1", "port": 9, "fail_after": fail_after,
                  "recover_after": recover_after}
    model.created += 1
    number = f"0421-{model.created:05d}"
    response = await api.post("/api/v1/lines", {"number": number, "label": f"Jalur {number}",
                                                "priority": priority, "probe": probe},
                              role="admin")
    assert response.status_code == 201, response.text
    line = response.json()
    model.lines[line["id"]] = Streaks("up", 1, 0) if kind == "none" else Streaks("unknown")
    model.priority[line["id"]], model.probes[line["id"]] = priority, probe
    return 201


async def _record_result(ctx: Context, model: Model, index: int, ok: bool) -> int:
    line_id = model.line_id(index)
    if line_id == MISSING:
        return 404
    probe = get_probe(model.probes[line_id], poll_s=1.0)
    if not probe.monitored:
        return 409  # nothing probes such a line
    async with ctx.transaction() as conn:
        await do_record_result(conn, ctx, line_id, probe,
                               ProbeResult(ok, "up" if ok else "no answer"), probed_by="uji")
    before = model.lines[line_id]
    model.lines[line_id] = after = next_streaks(before, ok, probe.fail_after,
                                                probe.recover_after)
    if after.state == "down" and before.state != "down":
        model.dropped |= {call for call, line in model.calls.items() if line == line_id}
    return 200


async def _apply(api: Api, ctx: Context, model: Model, action: tuple) -> int:
    kind = action[0]
    if kind == "line":
        return 404 if len(model.lines) >= MAX_LINES else await _add_line(api, model, action)
    if kind == "result":
        return await _record_result(ctx, model, action[1], action[2])
    if kind == "heartbeat":
        line_id = model.line_id(action[1])
        status = (await api.post(f"/api/v1/lines/{line_id}/heartbeat")).status_code
        expected = 404 if line_id == MISSING else (
            204 if model.probes[line_id]["kind"] == "heartbeat" else 409)
        assert status == expected, (action, status)
        return status
    if kind == "call":
        line_id = model.line_id(action[1])
        response = await api.post("/api/v1/calls", {"caller_number": "081234567890",
                                                    "line_id": line_id})
        assert response.status_code == (422 if line_id == MISSING else 201), response.text
        if response.status_code == 201:
            model.calls[response.json()["id"]] = line_id
        return response.status_code
    line_id = None if action[1] is None else model.line_id(action[1])
    response = await api.post("/api/v1/lines/override", {"line_id": line_id,
                                                         "reason": "uji"}, role="admin")
    assert response.status_code == (422 if line_id == MISSING else 200), response.text
    if response.status_code == 200:
        model.override = line_id
    return response.status_code


async def _check_lines(api: Api, db: asyncpg.Connection, model: Model) -> None:
    rows = await db.fetch("SELECT id, number, state, ok_streak, fail_streak FROM lines")
    for row in rows:
        assert row["state"] in LINE_STATES
        assert Streaks(row["state"], row["ok_streak"], row["fail_streak"]) == \
            model.lines[row["id"]], dict(row)
    lines = (await api.get("/api/v1/lines")).json()
    expected = pick_active([LineState(key, model.priority[key], line.state)
                            for key, line in model.lines.items()], model.override)
    override = lines["override"] and lines["override"]["line_id"]
    assert (lines["active_line_id"], lines["critical"], override) == \
        (expected.line_id, expected.critical, model.override), lines
    assert [item["id"] for item in lines["items"] if item["active"]] == [expected.line_id]
    assert [item["id"] for item in lines["items"] if item["override"]] == \
        ([model.override] if model.override else [])
    hotline = (await api.get("/api/v1/hotline", role=None)).json()
    numbers = {row["id"]: row["number"] for row in rows}
    assert (hotline["line_id"], hotline["number"], hotline["critical"], hotline["override"]) \
        == (expected.line_id, numbers[expected.line_id], expected.critical, expected.override)


async def _check_history(db: asyncpg.Connection) -> None:
    last: dict[int, str] = {}
    for row in await db.fetch("SELECT line_id, state FROM line_events ORDER BY id"):
        before = last.get(row["line_id"], "unknown")
        assert before == row["state"] or (before, row["state"]) in ALLOWED, dict(row)
        last[row["line_id"]] = row["state"]
    for row in await db.fetch(
            """SELECT data->>'previous_state' AS before, data->>'state' AS after FROM events
               WHERE name = 'line.state' AND data->>'previous_state' IS NOT NULL"""):
        assert (row["before"], row["after"]) in ALLOWED, dict(row)


async def _check_calls(db: asyncpg.Connection, model: Model) -> None:
    rows = await db.fetch(
        """SELECT c.id, c.status, c.disposition, b.id AS callback FROM calls c
           LEFT JOIN callbacks b ON b.call_id = c.id""")
    assert {row["id"] for row in rows} == set(model.calls)
    for row in rows:
        dropped = row["id"] in model.dropped
        assert (row["status"], row["disposition"], row["callback"] is not None) == \
            (("ended", "dropped", True) if dropped else ("open", None, False)), dict(row)


@pytest.mark.settings(line_poll_s=3600)
async def test_any_sequence_keeps_the_lines_and_the_active_line_whole(
        api: Api, db: asyncpg.Connection, ctx: Context) -> None:
    @settings(max_examples=30, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(actions=st.lists(Action, min_size=3, max_size=20))
    def run(actions: list[tuple]) -> None:
        sequences.append(actions)

    sequences: list[list[tuple]] = []
    run()
    model = Model()
    # One line first, so that every sequence has a line to work on.
    await _add_line(api, model, ("line", 0, "sip_options", 2, 2))
    for actions in sequences:
        for action in actions:
            status = await _apply(api, ctx, model, action)
            assert status < 500, action
            await _check_lines(api, db, model)
        await _check_history(db)
        await _check_calls(db, model)
    # The sequences went where it matters: failovers and failbacks, the critical
    # alarm, the override, dropped calls.
    seen = await db.fetchrow(
        """SELECT count(*) FILTER (WHERE state = 'down') AS down,
                  count(*) FILTER (WHERE state = 'up') AS up,
                  count(*) FILTER (WHERE critical) AS critical,
                  count(*) FILTER (WHERE override) AS override FROM line_events""")
    assert all(seen.values()) and model.dropped, (dict(seen), model.dropped)
