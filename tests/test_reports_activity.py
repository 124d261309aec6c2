"""GET /api/v1/reports/{workload,calls,lines}: each figure against a computation of
its own here (plain Python, numpy), over rows written with known times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import numpy
import pytest

from db import line_monitor as line_monitor_db
from tests.reports_support import (
    WITA,
    insert_assignment,
    insert_call,
    insert_incident,
    insert_shift,
    intersect,
    local,
    merge,
    seconds,
    subtract,
)
from tests.support import CITY, Api

# Caller numbers written into the data: none may come out of a report.
CALLERS = [f"+6287770001{i:03d}" for i in range(40)]
CALLER_DIGITS = [number[3:] for number in CALLERS]
DAY = "from=2025-03-03&to=2025-03-03"  # Monday 3 March 2025, the whole WITA day
DAY_START, DAY_END = local("2025-03-03 00:00"), local("2025-03-04 00:00")
SHIFTS = (("pagi", 7), ("sore", 15), ("malam", 23))
ENDPOINTS = ("/api/v1/reports/workload", "/api/v1/reports/calls", "/api/v1/reports/lines",
             "/api/v1/reports/response-times.xlsx")


def assert_no_caller(text: str) -> None:
    for digits in CALLER_DIGITS:
        assert digits not in text


async def report(api: Api, path: str, query: str, role: str = "health_office") -> dict:
    response = await api.get(f"{path}?{query}", role=role)
    assert response.status_code == 200, response.text
    assert_no_caller(response.text)
    return response.json()


# --- workload ---------------------------------------------------------------------------

# Team A: on shift 07-15, busy 08:00-09:30, 10:00-12:00, 14:30-16:00 (past its shift).
# Team B: on shift 11-23, busy 11:30-13:00 and from 22:00 on (still active).
# No team is free 00-07 (none on shift), 08:00-09:30, 10-11 (B not on shift yet),
# 11:30-12:00 (both busy) and 22-24.
DUTY = {"A": [("2025-03-03 07:00", "2025-03-03 15:00")],
        "B": [("2025-03-03 11:00", "2025-03-03 23:00")],
        "C": [("2025-03-02 07:00", "2025-03-02 15:00")]}  # the day before: not in the report
BUSY = {"A": [("2025-03-03 08:00", "2025-03-03 09:30"), ("2025-03-03 10:00", "2025-03-03 12:00"),
              ("2025-03-03 14:30", "2025-03-03 16:00")],
        "B": [("2025-03-03 11:30", "2025-03-03 13:00"), ("2025-03-03 22:00", None)],
        "C": [("2025-03-02 08:00", "2025-03-02 09:00")]}


def _intervals(pairs: list[tuple[str, str | None]]) -> list[tuple[datetime, datetime]]:
    """Local pairs as intervals; an open end (still busy) runs past the day."""
    return [(local(a), local(b) if b else DAY_END + timedelta(days=365)) for a, b in pairs]


async def _workload_data(api: Api, db: asyncpg.Connection) -> dict[str, int]:
    ids = {}
    callers = iter(CALLERS)
    for code, kind in (("A", "als"), ("B", "bls"), ("C", "bls")):
        ids[code] = (await api.team(code, *CITY, kind=kind, on_duty=False))["id"]
        for start, end in _intervals(DUTY[code]):
            await insert_shift(db, ids[code], start, end)
        for start, end in BUSY[code]:
            incident = await insert_incident(db, caller=next(callers), received_at=local(start),
                                             team_id=ids[code], assigned_at=local(start))
            await insert_assignment(db, team_id=ids[code], incident_id=incident,
                                    created_at=local(start), ended_at=end and local(end))
    return ids


def _shift_windows(name: str) -> list[tuple[datetime, datetime]]:
    """The local hours of shift `name` over the report's day and the night before."""
    hours = dict(SHIFTS)
    start = hours[name]
    ends = sorted(hours.values())
    end = next((h for h in ends if h > start), ends[0] + 24)
    windows = []
    for offset in (-1, 0):
        day = DAY_START + timedelta(days=offset)
        windows.append((day + timedelta(hours=start), day + timedelta(hours=end)))
    return intersect(windows, [(DAY_START, DAY_END)])


async def test_workload_utilisation_and_no_team_free(api: Api, db: asyncpg.Connection) -> None:
    await _workload_data(api, db)
    body = await report(api, "/api/v1/reports/workload", DAY)
    day = [(DAY_START, DAY_END)]
    duty = {code: intersect(_intervals(DUTY[code]), day) for code in ("A", "B")}
    busy = {code: intersect(_intervals(BUSY[code]), duty[code]) for code in ("A", "B")}
    teams = {team["team_code"]: team for team in body["teams"]}
    assert set(teams) == {"A", "B"}  # C was on shift and busy only the day before
    for code, kind in (("A", "als"), ("B", "bls")):
        team = teams[code]
        assert team["kind"] == kind and team["incidents"] == len(BUSY[code])
        assert team["on_shift_s"] == pytest.approx(seconds(duty[code]))
        assert team["busy_s"] == pytest.approx(seconds(busy[code]))
        assert team["utilisation"] == pytest.approx(
            seconds(busy[code]) / seconds(duty[code]), abs=1e-4)
    assert teams["A"]["utilisation"] == pytest.approx(0.5)  # 4 h of 8, 14:30-15:00 counted
    assert "busy seconds / on-shift seconds" in body["definition"]
    assert "not responses per unit-hour" in body["definition"]

    # By shift: seconds inside each shift's local hours; incidents by the hour sent.
    shifts = {row["shift"]: row for row in body["by_shift"]}
    assert list(shifts) == ["pagi", "sore", "malam"]
    for name, _ in SHIFTS:
        windows = _shift_windows(name)
        assert shifts[name]["on_shift_s"] == pytest.approx(
            sum(seconds(intersect(duty[c], windows)) for c in duty))
        assert shifts[name]["busy_s"] == pytest.approx(
            sum(seconds(intersect(busy[c], windows)) for c in busy))
        sent = [local(start) for c in ("A", "B") for start, _ in BUSY[c]]
        assert shifts[name]["incidents"] == sum(
            1 for moment in sent if any(s <= moment < e for s, e in windows))
    assert (shifts["pagi"]["incidents"], shifts["sore"]["incidents"]) == (4, 1)

    # No team free: the day minus the union of each team's free time.
    free = merge([i for c in duty for i in subtract(duty[c], _intervals(BUSY[c]))])
    none_free = subtract(day, free)
    gaps = body["no_team_free"]
    assert gaps["seconds"] == pytest.approx(seconds(none_free))
    assert gaps["share"] == pytest.approx(seconds(none_free) / 86400, abs=1e-4)
    listed = [(datetime.fromisoformat(i["start"]), datetime.fromisoformat(i["end"]),
               i["duration_s"]) for i in gaps["intervals"]]
    expected = sorted(((s, e, (e - s).total_seconds()) for s, e in none_free),
                      key=lambda i: (-i[2], i[0]))
    assert listed == expected
    assert (local("2025-03-03 10:00"), local("2025-03-03 11:00"), 3600.0) in listed

    # The same time by local weekday and hour (Monday = 1), all 168 cells.
    cells = {(c["weekday"], c["hour"]): c["seconds"] for c in body["hours_without_free_team"]}
    assert len(cells) == 168
    for hour in range(24):
        window = [(DAY_START + timedelta(hours=hour), DAY_START + timedelta(hours=hour + 1))]
        assert cells[(1, hour)] == pytest.approx(seconds(intersect(none_free, window)))
    assert sum(cells.values()) == pytest.approx(seconds(none_free))


async def test_workload_of_a_period_without_shifts(api: Api) -> None:
    """Nobody on shift: no team is free the whole time; utilisation is unknown."""
    body = await report(api, "/api/v1/reports/workload", "from=2024-01-01&to=2024-01-01")
    assert body["teams"] == [] and body["no_team_free"]["seconds"] == 86400
    assert body["no_team_free"]["share"] == 1
    assert all(row["utilisation"] is None for row in body["by_shift"])


# --- calls ------------------------------------------------------------------------------

# (received_at in UTC, disposition). Times near midnight UTC: 16:00Z is midnight WITA.
CALLS = [("2025-03-02T16:30:00", "incident"),   # Mon 00:30 local (Sunday in UTC)
         ("2025-03-02T15:30:00", "info"),       # Sun 23:30 local: before the week
         ("2025-03-03T15:59:59", "prank"),      # Mon 23:59:59
         ("2025-03-03T16:00:00", "dropped"),    # Tue 00:00
         ("2025-03-03T23:30:00", "dropped"),    # Tue 07:30
         ("2025-03-04T02:00:00", "dropped"),    # Tue 10:00
         ("2025-03-05T05:00:00", "dropped"),    # Wed 13:00, never called back
         ("2025-03-08T01:00:00", "dropped"),    # Sat 09:00
         ("2025-03-06T10:00:00", "duplicate"),  # Thu 18:00
         ("2025-03-07T00:00:00", "info"),       # Fri 08:00
         ("2025-03-07T00:10:00", "info"),       # Fri 08:10
         ("2025-03-09T15:59:00", None),         # Sun 23:59, still open
         ("2025-03-09T16:00:00", "incident")]   # Mon 10 March local: after the week
# Seconds from the drop to the call-back done, per dropped call (None: not done).
CALLBACK_DELAYS = [120.0, 600.0, 45.0, None, 3000.0]
WEEK = "from=2025-03-03&to=2025-03-09"


async def _calls_data(db: asyncpg.Connection) -> None:
    delays = iter(CALLBACK_DELAYS)
    for i, (at, disposition) in enumerate(CALLS):
        received = datetime.fromisoformat(at).replace(tzinfo=UTC)
        call = await insert_call(db, caller=CALLERS[i], received_at=received,
                                 disposition=disposition)
        if disposition == "dropped":
            delay = next(delays)
            await db.execute(
                """INSERT INTO callbacks (call_id, caller_number, dropped_at, done_at)
                   VALUES ($1, $2, $3::timestamptz, $3 + make_interval(secs => $4::float8))""",
                call, CALLERS[i], received + timedelta(minutes=1), delay)


async def test_calls_by_local_hour_weekday_dispositions_callbacks(
        api: Api, db: asyncpg.Connection) -> None:
    await _calls_data(db)
    body = await report(api, "/api/v1/reports/calls", WEEK)
    week = [(d, disposition) for at, disposition in CALLS
            if DAY_START <= (d := datetime.fromisoformat(at).replace(tzinfo=UTC).astimezone(WITA))
            < DAY_START + timedelta(days=7)]
    assert body["total"] == len(week) == 11
    expected = {(d.isoweekday(), d.hour): 0 for d in (
        DAY_START + timedelta(days=day, hours=hour) for day in range(7) for hour in range(24))}
    for moment, _ in week:
        expected[(moment.isoweekday(), moment.hour)] += 1
    grid = {(c["weekday"], c["hour"]): c["count"] for c in body["by_hour_weekday"]}
    assert len(body["by_hour_weekday"]) == 168 and grid == expected
    assert grid[(1, 0)] == 1 and grid[(7, 0)] == 0  # 16:30Z on Sunday is Monday 00:30 WITA
    assert grid[(1, 23)] == 1 and grid[(2, 0)] == 1
    assert body["by_hour"] == [{"hour": h, "count": sum(v for (_, hh), v in expected.items()
                                                        if hh == h)} for h in range(24)]
    assert body["by_weekday"] == [{"weekday": w, "count": sum(v for (ww, _), v in
                                                              expected.items() if ww == w)}
                                  for w in range(1, 8)]

    shares = {row["disposition"]: row for row in body["dispositions"]}
    for disposition in ("incident", "info", "prank", "dropped", "duplicate", None):
        count = sum(1 for _, d in week if d == disposition)
        assert shares[disposition]["count"] == count
        assert shares[disposition]["share"] == pytest.approx(count / len(week), abs=1e-4)
    assert shares[None]["count"] == 1 and shares["dropped"]["count"] == 5

    delays = [d for d in CALLBACK_DELAYS if d is not None]
    dropped = body["dropped"]
    assert dropped["count"] == 5 and dropped["called_back"] == 4
    delay = dropped["callback_delay_s"]
    assert delay["n"] == 4
    assert delay["p50"] == pytest.approx(numpy.percentile(delays, 50), abs=0.05)
    assert delay["p90"] == pytest.approx(numpy.percentile(delays, 90), abs=0.05)
    assert delay["max"] == max(delays)


# --- lines ------------------------------------------------------------------------------

# (UTC time, line, its state after, the active line after, critical after).
LINE_EVENTS = [("2025-03-01T00:00:00", 1, "up", 1, False),
               ("2025-03-01T00:00:00", 2, "up", 1, False),
               ("2025-03-03T00:00:00", 1, "down", 2, False),   # failover 1 -> 2
               ("2025-03-03T01:00:00", 2, "down", 1, True),    # none up: the primary again
               ("2025-03-03T01:30:00", 3, "up", 3, False),     # failover 1 -> 3
               ("2025-03-03T02:00:00", 1, "up", 1, False),     # back after 30 min
               ("2025-03-03T02:30:00", 2, "up", 1, False),
               ("2025-03-03T10:00:00", 1, "down", 2, False),   # failover 1 -> 2 ...
               ("2025-03-04T00:00:00", 1, "up", 1, False),     # ... back after the day
               ("2025-03-05T00:00:00", 1, "down", 2, False)]   # not back yet
LINES = [("112", "EKSIS 112", 0), ("0421-21112", "cadangan", 1), ("0421-22112", "kedua", 2)]


async def _lines_data(db: asyncpg.Connection) -> list[int]:
    ids = [await db.fetchval("INSERT INTO lines (number, label, priority) VALUES ($1, $2, $3)"
                             " RETURNING id", *line) for line in LINES]
    for at, line, state, active, critical in LINE_EVENTS:
        await db.execute(
            """INSERT INTO line_events (line_id, state, active_line_id, critical, override,
                   reason, actor, at) VALUES ($1, $2, $3, $4, false, 'test', 'test', $5)""",
            ids[line - 1], state, ids[active - 1], critical,
            datetime.fromisoformat(at).replace(tzinfo=UTC))
    return ids


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _state_seconds(line: int, start: datetime, end: datetime) -> dict[str, float]:
    """Walk the line's history: each state holds until its next row."""
    state, at, totals = "unknown", start, {"up": 0.0, "down": 0.0, "unknown": 0.0}
    for when, subject, after, *_ in LINE_EVENTS:
        moment = _utc(when)
        if subject != line or moment >= end:
            continue
        if moment > at:
            totals[state] += (moment - at).total_seconds()
            at = moment
        state = after
    totals[state] += (end - at).total_seconds()
    return totals


@pytest.fixture
async def monitor_held(db: asyncpg.Connection) -> None:
    """The test's connection takes the line monitor's lead before the service starts
    (a fixture named before `api`): the service's monitor stands by, so the lines'
    history stays the test's own (a leading monitor takes lines written in SQL to be
    up at its next poll, ending their open failover now)."""
    assert await line_monitor_db.try_lock(db)


async def test_line_availability_failovers_and_critical_time(
        monitor_held: None, api: Api, db: asyncpg.Connection) -> None:
    ids = await _lines_data(db)
    body = await report(api, "/api/v1/reports/lines", DAY)
    start, end = DAY_START.astimezone(UTC), DAY_END.astimezone(UTC)
    assert [line["line_id"] for line in body["lines"]] == ids
    for n, line in enumerate(body["lines"], start=1):
        expected = _state_seconds(n, start, end)
        assert line["seconds"] == pytest.approx(expected)
        assert line["availability"] == pytest.approx(expected["up"] / 86400, abs=1e-4)
        assert line["number"] == LINES[n - 1][0]
    assert body["lines"][0]["seconds"] == {"up": 16 * 3600, "down": 8 * 3600, "unknown": 0}
    assert body["lines"][2]["seconds"]["unknown"] == 9.5 * 3600  # no row before 01:30Z
    assert body["lines"][0]["failovers_away"] == 3
    assert [(f["from_line_id"], f["to_line_id"], f["duration_s"]) for f in body["failovers"]] \
        == [(ids[0], ids[1], 3600.0), (ids[0], ids[2], 1800.0), (ids[0], ids[1], 14 * 3600.0)]
    assert body["critical_s"] == 1800

    later = await report(api, "/api/v1/reports/lines", "from=2025-03-05&to=2025-03-05")
    assert [(f["at"], f["duration_s"]) for f in later["failovers"]] == [
        ("2025-03-05T00:00:00Z", None)]


# --- who may read them, bad input, no caller data ---------------------------------------

@pytest.mark.parametrize("path", ENDPOINTS)
async def test_roles(api: Api, path: str) -> None:
    await api.team("T1", *CITY)
    token = await api.device_token("T1")
    for role, status in (("health_office", 200), ("admin", 200), ("operator", 403),
                         (token, 403), (None, 401)):
        response = await api.get(f"{path}?{DAY}", role=role)
        assert response.status_code == status, (role, response.text[:200])


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("query", ["from=yesterday", "from=2025-03-05&to=2025-03-01",
                                   "from=2025-03-01T00:00:00", "to=0001-01-01T00:00:00Z",
                                   "from=0001-01-01&to=0001-01-02", "to=9999-12-31",
                                   "from=2000-01-01&to=2025-01-01"])
async def test_bad_period_is_422(api: Api, path: str, query: str) -> None:
    response = await api.get(f"{path}?{query}", role="health_office")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_no_caller_number_in_any_report(api: Api, db: asyncpg.Connection) -> None:
    await _workload_data(api, db)
    await _calls_data(db)
    await _lines_data(db)
    for path in ENDPOINTS[:3]:
        for query in (DAY, WEEK):
            await report(api, path, query, role="admin")


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("query", ["from=0001-01-03&to=0001-01-04",
                                   "from=9999-12-01&to=9999-12-30",
                                   "from=9999-12-30T00:00:00Z&to=9999-12-31T23:59:59Z"])
async def test_extreme_but_valid_periods_answer(api: Api, path: str, query: str) -> None:
    """Years 1 and 9999 are dates like others: an answer, not a fault."""
    response = await api.get(f"{path}?{query}", role="health_office")
    assert response.status_code == 200, response.text[:300]
