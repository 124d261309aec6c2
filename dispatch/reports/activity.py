"""Activity reports: the teams' workload and the hours no team was free, the calls by
local hour and weekday with their dispositions and call-backs, the 112 lines'
availability and failovers. No caller number or name is read. Definitions:
docs/reports.md; SQL: db/activity.py.

Time-weighted figures (workload, lines) cover the period up to now at most: time not
lived yet is neither busy nor free, up nor down (`observed_s`)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from db import activity as activity_db
from dispatch.config import Settings
from dispatch.reports.schemas import Period
from dispatch.reports.service import period_view
from dispatch.vocabulary import CALL_DISPOSITIONS

UTILISATION = ("utilisation = busy seconds / on-shift seconds: the share of its "
               "on-shift time a team was committed to an assignment (from the "
               "assignment's creation to its end, counted only inside the team's shifts). "
               "This is the time-based unit-hour utilisation, not responses per "
               "unit-hour (that one is incidents / (on_shift_s / 3600)).")
# The longest no-team-free intervals listed, and the failovers listed.
MAX_INTERVALS = 100
MAX_FAILOVERS = 1000
WEEKDAYS, HOURS = range(1, 8), range(24)


def observed(period: Period, now: datetime | None = None) -> Period:
    """The period cut at now (never before its start)."""
    now = now or datetime.now(UTC)
    return Period(period.start, max(period.start, min(period.end, now)))


def _seconds(value: float | None) -> float:
    return round(float(value or 0.0), 3)


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def _length_s(period: Period) -> float:
    return (period.end - period.start).total_seconds()


def _shift_args(settings: Settings) -> dict:
    return {"timezone": settings.timezone, "shifts": [name for name, _ in settings.shifts],
            "shift_starts": [start for _, start in settings.shifts]}


def _load_view(row: asyncpg.Record) -> dict:
    busy, on_shift = _seconds(row["busy_s"]), _seconds(row["on_shift_s"])
    return {"incidents": row["incidents"], "busy_s": busy, "on_shift_s": on_shift,
            "utilisation": _share(busy, on_shift)}


def cells(rows: list[asyncpg.Record], value: str) -> list[dict]:
    """All 168 local (weekday 1-7, ISO: Monday = 1; hour 0-23) cells, zeros included,
    from rows holding some of them."""
    found = {(row["weekday"], row["hour"]): row[value] for row in rows}
    return [{"weekday": day, "hour": hour, value: found.get((day, hour), 0)}
            for day in WEEKDAYS for hour in HOURS]


async def get_workload(conn: asyncpg.Connection, settings: Settings, period: Period,
                       now: datetime | None = None) -> dict:
    """Per team and per shift: incidents, busy and on-shift seconds, utilisation; the
    time no team was free (its longest intervals, and by local weekday and hour)."""
    seen = observed(period, now)
    start, end = seen.start, seen.end
    teams = await activity_db.get_team_workload(conn, start, end)
    shifts = await activity_db.get_shift_workload(conn, start, end, **_shift_args(settings))
    gaps = await activity_db.get_no_team_free(conn, start, end, MAX_INTERVALS)
    hours = await activity_db.get_no_team_free_hours(conn, start, end, settings.timezone)
    total = _seconds(gaps[0]["total_s"]) if gaps else 0.0
    return {
        "period": period_view(period, settings), "observed_s": _length_s(seen),
        "definition": UTILISATION,
        "teams": [{"team_code": row["code"], "kind": row["kind"], **_load_view(row)}
                  for row in teams],
        "by_shift": [{"shift": row["shift"], **_load_view(row)} for row in shifts],
        "no_team_free": {
            "seconds": total, "share": _share(total, _length_s(seen)),
            "count": gaps[0]["n"] if gaps else 0,
            "intervals": [{"start": row["start"], "end": row["end"],
                           "duration_s": _seconds(row["duration_s"])} for row in gaps]},
        "hours_without_free_team": [
            {**cell, "seconds": _seconds(cell["seconds"])} for cell in cells(hours, "seconds")],
    }


def _percentiles(row: asyncpg.Record) -> dict:
    p50, p90 = row["p"] or (None, None)
    rounded = {name: None if value is None else round(value, 1)
               for name, value in (("p50", p50), ("p90", p90), ("max", row["max"]))}
    return {"n": row["n"], **rounded}


async def get_calls(conn: asyncpg.Connection, settings: Settings, period: Period) -> dict:
    """Calls received in the period: by local weekday x hour (all 168 cells), by hour,
    by weekday, by disposition (None: still open) and the dropped ones' call-backs."""
    counts = await activity_db.get_call_counts(conn, period.start, period.end,
                                               settings.timezone)
    grid = cells(counts, "count")
    total = sum(cell["count"] for cell in grid)
    found = {row["disposition"]: row["count"]
             for row in await activity_db.get_call_dispositions(conn, period.start,
                                                                period.end)}
    dropped = await activity_db.get_dropped_calls(conn, period.start, period.end)
    return {
        "period": period_view(period, settings), "total": total,
        "by_hour_weekday": grid,
        "by_hour": [{"hour": hour, "count": sum(c["count"] for c in grid if c["hour"] == hour)}
                    for hour in HOURS],
        "by_weekday": [{"weekday": day,
                        "count": sum(c["count"] for c in grid if c["weekday"] == day)}
                       for day in WEEKDAYS],
        "dispositions": [{"disposition": name, "count": found.get(name, 0),
                          "share": _share(found.get(name, 0), total)}
                         for name in (*CALL_DISPOSITIONS, None)],
        "dropped": {"count": dropped["dropped"], "called_back": dropped["called_back"],
                    "callback_delay_s": _percentiles(dropped)},
    }


async def get_lines(conn: asyncpg.Connection, settings: Settings, period: Period,
                    now: datetime | None = None) -> dict:
    """Each line's seconds up, down and unknown and its availability (up / the period
    up to now), the failovers away from the primary with the time until it was active
    again, and the seconds of the critical alarm."""
    seen = observed(period, now)
    length = _length_s(seen)
    failovers = await activity_db.get_failovers(conn, seen.start, seen.end)
    lines = []
    for row in await activity_db.get_line_seconds(conn, seen.start, seen.end):
        up = _seconds(row["up_s"])
        lines.append({
            "line_id": row["line_id"], "number": row["number"], "label": row["label"],
            "priority": row["priority"],
            "seconds": {"up": up, "down": _seconds(row["down_s"]),
                        "unknown": _seconds(row["unknown_s"])},
            "availability": _share(up, length),
            "failovers_away": sum(1 for f in failovers if f["from_line_id"] == row["line_id"])})
    return {
        "period": period_view(period, settings), "observed_s": length, "lines": lines,
        "failover_count": len(failovers),
        "failovers": [{"at": row["at"], "from_line_id": row["from_line_id"],
                       "to_line_id": row["to_line_id"], "reason": row["reason"],
                       "duration_s": None if row["duration_s"] is None
                       else _seconds(row["duration_s"])}
                      for row in failovers[:MAX_FAILOVERS]],
        "critical_s": _seconds(await activity_db.get_critical_seconds(conn, seen.start,
                                                                      seen.end)),
    }
