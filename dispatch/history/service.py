"""Loading a generated past into the database, after the demo (its teams, lines and
city pack must be there)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from db import districts as districts_db
from db import history as history_db
from db import lines as lines_db
from db import teams as teams_db
from dispatch.cities import DEFAULT_PACK, load_pack
from dispatch.demo import SHIFT_HOURS, SHIFT_STARTS, TEAMS
from dispatch.history import model
from dispatch.history.city import HistoryError, get_areas
from dispatch.history.generate import History, Setting, TeamSpec, generate
from dispatch.history.simulate import Incident

CALLBACK_DONE_BY = "user:operator"


@dataclass(frozen=True)
class Loaded:
    """What a history run wrote; `existing` when one was there already and nothing was."""

    incidents: int
    calls: int
    assignments: int
    callbacks: int
    failovers: int
    shifts: int
    first: datetime | None
    last: datetime | None
    existing: bool = False

    def describe(self) -> str:
        span = (f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}" if self.first and self.last
                else "no period")
        if self.existing:
            return (f"history already loaded ({self.incidents} incidents, {span}); "
                    "not generated again (a new one needs a fresh database: make clean)")
        return (f"history loaded: {self.incidents} incidents, {self.calls} calls, "
                f"{self.assignments} assignments, {self.failovers} line failovers with "
                f"{self.callbacks} callbacks, {span}")


def _ts(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


async def _team_specs(conn: asyncpg.Connection) -> list[TeamSpec]:
    """The demo's teams as stored (ids, bases), with the demo's shift pattern."""
    demo = {team.code: team for team in TEAMS}
    specs = [TeamSpec(row["id"], row["code"], row["kind"], row["base_lat"], row["base_lon"],
                      SHIFT_STARTS[:1] if demo[row["code"]].day_only else SHIFT_STARTS,
                      SHIFT_HOURS)
             for row in await teams_db.get_teams(conn, 0) if row["code"] in demo]
    if not specs:
        raise HistoryError("the demo's teams are not loaded (run `dispatch112 demo`)")
    return specs


async def read_setting(conn: asyncpg.Connection, *, start: datetime, end: datetime,
                       timezone: str, ack_timeout_s: float,
                       daily_rate: float = model.DAILY_RATE) -> Setting:
    """The teams, kelurahan, hospital and lines a history over [start, end) works with."""
    pack = load_pack(DEFAULT_PACK)
    ids = {(row["level"], row["name"]): row["id"]
           for row in await districts_db.get_districts(conn)}
    hospital = next((f for f in pack.facilities if f.name == model.HOSPITAL), None)
    lines = await lines_db.get_lines(conn)
    if hospital is None or not lines:
        raise HistoryError("the demo's hospital or lines are missing (run `dispatch112 demo`)")
    return Setting(start=start.timestamp(), end=end.timestamp(), zone=ZoneInfo(timezone),
                   teams=await _team_specs(conn), areas=get_areas(pack, ids),
                   hospital=(hospital.lat, hospital.lon), primary_line=lines[0]["id"],
                   backup_line=lines[1]["id"] if len(lines) > 1 else None,
                   ack_timeout_s=ack_timeout_s, daily_rate=daily_rate)


def _incident_record(incident: Incident, incident_id: int, call_id: int | None) -> tuple:
    times = [_ts(getattr(incident, name)) for name in (
        "received", "created", "assigned", "acknowledged", "en_route", "on_scene",
        "transporting", "at_hospital", "closed", "cancelled")]
    return (incident_id, call_id, incident.caller, incident.lat, incident.lon,
            incident.area.kecamatan_id, incident.area.kelurahan_id, incident.address,
            incident.complaint, incident.priority, incident.required_kind, incident.patients,
            incident.status, *times, incident.cancel_reason, history_db.HISTORY_ACTOR,
            incident.last_team_id, _ts(incident.last_assigned), len(incident.assignments))


async def write_history(conn: asyncpg.Connection, history: History,
                        first_shifts: dict[int, datetime]) -> tuple[int, int]:
    """Write every row of `history` (COPY); (assignments, shifts) written. Shifts are
    those ending before the team's first stored shift (the demo's come after)."""
    incident_ids = await history_db.reserve_ids(conn, "incidents", len(history.incidents))
    call_ids = await history_db.reserve_ids(conn, "calls", len(history.calls))
    await history_db.insert_calls(conn, [
        (call_ids[n], c.caller, c.line_id, "ended", c.disposition, _ts(c.received),
         _ts(c.ended), history_db.HISTORY_ACTOR) for n, c in enumerate(history.calls)])
    # An incident is logged from the call that came in at its received time (a
    # duplicate came in later).
    logged_from = {c.incident: call_ids[n] for n, c in enumerate(history.calls)
                   if c.incident is not None and c.received == history.incidents[
                       c.incident].received}
    await history_db.insert_incidents(conn, [
        _incident_record(incident, incident_ids[n], logged_from.get(n))
        for n, incident in enumerate(history.incidents)])
    linked = [(call_ids[n], incident_ids[c.incident]) for n, c in enumerate(history.calls)
              if c.incident is not None]
    await history_db.link_calls(conn, [pair[0] for pair in linked], [pair[1] for pair in linked])
    assignments = [
        (incident_ids[n], a.team_id, a.eta_s, a.distance_m, "base", _ts(a.created),
         _ts(a.acknowledged), _ts(a.ended), a.end_reason)
        for n, incident in enumerate(history.incidents) for a in incident.assignments]
    await history_db.insert_assignments(conn, assignments)
    await history_db.insert_callbacks(conn, [
        (call_ids[b.call], b.caller, b.line_id, _ts(b.dropped_at), _ts(b.done_at),
         CALLBACK_DONE_BY) for b in history.callbacks])
    await history_db.insert_line_events(conn, [
        (c.line_id, c.state, c.active_line_id, False, False, c.reason,
         history_db.HISTORY_ACTOR, _ts(c.at)) for c in history.line_changes])
    shifts = [(team_id, _ts(start), _ts(end)) for team_id, windows in history.shifts.items()
              for start, end in windows
              if team_id in first_shifts and _ts(end) <= first_shifts[team_id]]
    await history_db.insert_shifts(conn, shifts)
    return len(assignments), len(shifts)


async def do_load_history(conn: asyncpg.Connection, *, days: int, seed: int, timezone: str,
                          ack_timeout_s: float, now: datetime | None = None,
                          daily_rate: float = model.DAILY_RATE) -> Loaded:
    """Generate and store the last `days` days before `now` (default: now), in the
    caller's transaction, unless a history run was stored before (then nothing is
    written). The period ends before the first live incident or call, if any."""
    span = await history_db.get_history_span(conn)
    if span["incidents"]:
        return Loaded(span["incidents"], 0, 0, 0, 0, 0, span["first"], span["last"],
                      existing=True)
    end = now or datetime.now(UTC)
    first_live = await history_db.get_first_live_time(conn)
    if first_live is not None and first_live < end:
        end = first_live
    setting = await read_setting(conn, start=end - timedelta(days=days), end=end,
                                 timezone=timezone, ack_timeout_s=ack_timeout_s,
                                 daily_rate=daily_rate)
    history = generate(seed, setting)
    assignments, shifts = await write_history(
        conn, history, await history_db.get_first_shift_starts(conn))
    await history_db.analyze_history_tables(conn)
    incidents = history.incidents
    return Loaded(len(incidents), len(history.calls), assignments, len(history.callbacks),
                  len(history.line_changes) // 2, shifts,
                  _ts(incidents[0].received) if incidents else None,
                  _ts(incidents[-1].received) if incidents else None)
