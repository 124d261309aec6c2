"""Applying what is known about the lines: probe results, new lines, the override.

Every change of a line's state, of the active line or of the override is, in the
changing transaction: a row in the line history, a `line.state` event, and, when
the number to call changed (or the critical alarm came or went), a failover
notification in the webhook outbox. A line that goes down drops the calls still
open on it into the callback queue.

Each change locks the line_status row first (db/lines.py), so changes made by the
probing instance and by administrators on other instances are serialised.
"""

from __future__ import annotations

import asyncpg

from db import lines as lines_db
from dispatch.context import Context
from dispatch.errors import Conflict, NotFound, ValidationFailed
from dispatch.events import emit
from dispatch.events.catalogue import LineStateChanged
from dispatch.lines import webhooks
from dispatch.lines.callbacks import do_drop_calls
from dispatch.lines.probes import Probe
from dispatch.lines.schemas import LineIn
from dispatch.lines.sip import ProbeResult
from dispatch.lines.states import SOURCES, LineState, Streaks, next_streaks, pick_active
from dispatch.lines.views import hotline_view, line_view, status_view

SYSTEM = "system"


def _find(rows: list[asyncpg.Record], line_id: int | None) -> asyncpg.Record | None:
    return next((row for row in rows if row["id"] == line_id), None)


def _event_data(line: asyncpg.Record, entry: asyncpg.Record, active: asyncpg.Record | None,
                previous_state: str | None) -> dict:
    """`line.state` data: the line that changed, and the line to call now."""
    return {"line_id": line["id"], "number": line["number"], "label": line["label"],
            "priority": line["priority"], "state": line["state"],
            "previous_state": previous_state, "active_line_id": entry["active_line_id"],
            "active_number": active["number"] if active else None,
            "active_label": active["label"] if active else None,
            "critical": entry["critical"], "override": entry["override"],
            "reason": entry["reason"], "at": entry["at"].isoformat(), "history_id": entry["id"],
            "probed_by": entry["probed_by"]}


def _notification(data: dict, before: asyncpg.Record, rows: list[asyncpg.Record]) -> dict:
    """The webhook body of a failover: the number to call now and the one before."""
    previous = _find(rows, before["active_line_id"])
    return {"event": "line.failover", "number": data["active_number"],
            "label": data["active_label"], "line_id": data["active_line_id"],
            "previous_line_id": before["active_line_id"],
            "previous_number": previous["number"] if previous else None,
            "critical": data["critical"], "override": data["override"],
            "reason": data["reason"], "at": data["at"]}


async def _record(conn: asyncpg.Connection, ctx: Context, line_id: int | None, *, reason: str,
                  actor: str, previous_state: str | None = None, always: bool = True,
                  probed_by: str | None = None) -> dict | None:
    """Recompute the active line (line_status locked by the caller) and record the change
    about `line_id` (None: the active line). Without `always`, only a change of the
    active line or of the critical alarm is recorded. Returns the event data, or None."""
    before = await lines_db.get_status(conn)
    rows = await lines_db.get_lines(conn)
    active = pick_active([LineState(r["id"], r["priority"], r["state"]) for r in rows],
                         before["override_line_id"])
    moved = (active.line_id, active.critical) != (before["active_line_id"], before["critical"])
    if moved:
        await lines_db.set_active(conn, active.line_id, active.critical)
    subject = _find(rows, active.line_id if line_id is None else line_id)
    if subject is None or not (moved or always):
        return None
    entry = await lines_db.insert_line_event(
        conn, line_id=subject["id"], state=subject["state"], active_line_id=active.line_id,
        critical=active.critical, override=active.override, reason=reason, actor=actor,
        probed_by=probed_by)
    data = _event_data(subject, entry, _find(rows, active.line_id), previous_state)
    await emit(conn, LineStateChanged(**data), actor=actor)
    if moved:
        await webhooks.do_enqueue(conn, ctx, _notification(data, before, rows))
    return data


async def do_change_state(conn: asyncpg.Connection, ctx: Context, line_id: int, *,
                          previous: Streaks, after: Streaks, result: str | None, reason: str,
                          actor: str = SYSTEM, probed_by: str | None = None) -> dict | None:
    """Move a line from `previous.state` to `after.state` (guarded: None when it was no
    longer in a state that leads there); a line gone down drops its open calls."""
    await lines_db.lock_status(conn)
    sources = [state for state in SOURCES[after.state] if state == previous.state]
    row = await lines_db.set_state(conn, line_id, after.state, sources, after.ok, after.fail,
                                   result)
    if row is None:
        return None
    change = await _record(conn, ctx, line_id, reason=reason, actor=actor,
                           previous_state=previous.state, probed_by=probed_by)
    if after.state == "down":  # after `line.state`: clients learn why the calls ended
        await do_drop_calls(conn, row, actor=actor)
    return change


def _reason(probe: Probe, result: ProbeResult, after: Streaks) -> str:
    """E.g. "sip_options: 503 Service Unavailable (3 failures in a row)"."""
    count = after.ok if result.ok else after.fail
    word = ("success", "successes") if result.ok else ("failure", "failures")
    return f"{probe.kind}: {result.detail} ({count} {word[count != 1]} in a row)"


async def do_record_result(conn: asyncpg.Connection, ctx: Context, line_id: int, probe: Probe,
                           result: ProbeResult, *, probed_by: str | None = None) -> dict | None:
    """Apply one probe result to a line: its runs grow, and its state moves once a run
    reaches `fail_after` / `recover_after`. Returns the `line.state` data of a change.
    `probed_by` names the probing instance in the history."""
    line = await lines_db.get_line(conn, line_id)
    if line is None:
        return None
    current = Streaks(line["state"], line["ok_streak"], line["fail_streak"])
    after = next_streaks(current, result.ok, probe.fail_after, probe.recover_after)
    if after.state == current.state:
        await lines_db.set_streaks(conn, line_id, after.ok, after.fail, result.detail)
        return None
    return await do_change_state(conn, ctx, line_id, previous=current, after=after,
                                 result=result.detail, reason=_reason(probe, result, after),
                                 probed_by=probed_by)


async def do_mark_unmonitored_up(conn: asyncpg.Connection, ctx: Context,
                                 line: asyncpg.Record) -> dict | None:
    """A line probed by nothing (`none`) is taken to be up."""
    previous = Streaks(line["state"], line["ok_streak"], line["fail_streak"])
    return await do_change_state(conn, ctx, line["id"], previous=previous,
                                 after=Streaks("up", 1, 0), result=None,
                                 reason="none: not monitored, taken to be up")


async def do_create_line(conn: asyncpg.Connection, ctx: Context, body: LineIn, *,
                         actor: str) -> dict:
    """A new line (409 when its number exists), recorded in the history; it may become
    the active line at once (the first line, or an unmonitored one of lower priority)."""
    await lines_db.lock_status(conn)
    row = await lines_db.insert_line(conn, body.number, body.label, body.priority,
                                     body.probe.model_dump())
    if row is None:
        raise Conflict(f"line {body.number} exists already")
    await _record(conn, ctx, row["id"], reason="line created", actor=actor)
    if body.probe.kind == "none":
        await do_mark_unmonitored_up(conn, ctx, row)
    return line_view(await lines_db.get_line(conn, row["id"]), await lines_db.get_status(conn))


async def do_set_override(conn: asyncpg.Connection, ctx: Context, line_id: int | None,
                          reason: str, *, actor: str) -> dict:
    """Force `line_id` active whatever its state (maintenance, a probe that lies), or
    with None go back to automatic choice. Recorded like any change."""
    await lines_db.lock_status(conn)
    if line_id is not None and not await lines_db.line_exists(conn, line_id):
        raise ValidationFailed.field("line_id", f"no line {line_id}")
    await lines_db.set_override(conn, line_id, reason if line_id else None,
                                actor if line_id else None)
    what = f"forced active by {actor}" if line_id else f"automatic again ({actor})"
    await _record(conn, ctx, line_id, reason=f"override: {what}: {reason}", actor=actor)
    return status_view(await lines_db.get_status(conn))


async def do_refresh_active(conn: asyncpg.Connection, ctx: Context) -> dict | None:
    """Recompute the active line when lines changed outside a state change (a line's
    priority edited, a line added by the demo loader); records only a real change."""
    await lines_db.lock_status(conn)
    return await _record(conn, ctx, None, reason="lines changed", actor=SYSTEM, always=False)


async def get_lines(conn: asyncpg.Connection) -> dict:
    status = await lines_db.get_status(conn)
    items = [line_view(row, status) for row in await lines_db.get_lines(conn)]
    return {"items": items, **status_view(status)}


async def get_hotline(conn: asyncpg.Connection) -> dict:
    """The number to call now; 404 while no line is configured."""
    status = await lines_db.get_status(conn)
    rows = await lines_db.get_lines(conn)
    line = _find(rows, status["active_line_id"])
    if line is None and rows:  # lines exist but no change has chosen one yet
        line = rows[0]
    if line is None:
        raise NotFound("no 112 line is configured")
    return hotline_view(line, status)


async def do_heartbeat(conn: asyncpg.Connection, line_id: int) -> None:
    """The gateway says the line works; 404 unknown line, 409 not a heartbeat line."""
    kind = await lines_db.touch_heartbeat(conn, line_id)
    if kind is None:
        raise NotFound(f"no line {line_id}")
    if kind != "heartbeat":
        raise Conflict(f"line {line_id} is probed by {kind}, not by heartbeats")
