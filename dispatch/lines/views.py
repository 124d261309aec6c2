"""How lines, their history, the hotline and callbacks are shown to clients."""

from __future__ import annotations

import asyncpg

from dispatch.openapi import BOOLEAN, INTEGER, STRING, TIME, array, listing, nullable, shape
from dispatch.vocabulary import LINE_STATES

# The JSON Schemas of the views below (the OpenAPI document's answers).
LINE_STATE = {"enum": list(LINE_STATES)}
LINE = shape(
    id=INTEGER, number=STRING, label=STRING, priority=INTEGER, state=LINE_STATE,
    active=BOOLEAN, override=BOOLEAN, probe={"type": "object"}, last_result=nullable(STRING),
    checked_at=nullable(TIME), state_changed_at=TIME, heartbeat_at=nullable(TIME),
    ok_streak=INTEGER, fail_streak=INTEGER)
_STATUS = {"active_line_id": nullable(INTEGER), "since": TIME, "critical": BOOLEAN,
           "override": nullable(shape(line_id=INTEGER, reason=nullable(STRING),
                                      by=nullable(STRING), at=nullable(TIME)))}
STATUS = shape(**_STATUS)
LINES = listing(LINE, **_STATUS)
LINE_EVENT = shape(id=INTEGER, line_id=INTEGER, state=LINE_STATE,
                   active_line_id=nullable(INTEGER), at=TIME, reason=STRING,
                   critical=BOOLEAN, override=BOOLEAN, actor=STRING, probed_by=nullable(STRING))
HOTLINE = shape(number=STRING, label=STRING, line_id=INTEGER, since=TIME, state=LINE_STATE,
                critical=BOOLEAN, override=BOOLEAN)
CALLBACK = shape(id=INTEGER, call_id=INTEGER, caller_number=STRING, line_id=nullable(INTEGER),
                 dropped_at=TIME, done=BOOLEAN, done_at=nullable(TIME), done_by=nullable(STRING))
MONITOR = shape(instance_id=STRING, leading=BOOLEAN, probes_sent=INTEGER,
                lines_probed=array(INTEGER),
                leader=nullable(shape(instance_id=STRING, beat_at=TIME)))


def line_view(row: asyncpg.Record, status: asyncpg.Record) -> dict:
    """A line as `GET /api/v1/lines` lists it; `active` and `override` from the status."""
    return {
        "id": row["id"], "number": row["number"], "label": row["label"],
        "priority": row["priority"], "state": row["state"],
        "active": row["id"] == status["active_line_id"],
        "override": row["id"] == status["override_line_id"],
        "probe": row["probe"], "last_result": row["last_result"],
        "checked_at": row["checked_at"], "state_changed_at": row["state_changed_at"],
        "heartbeat_at": row["heartbeat_at"], "ok_streak": row["ok_streak"],
        "fail_streak": row["fail_streak"],
    }


def status_view(status: asyncpg.Record) -> dict:
    """The active line, whether the situation is critical, and the override if any."""
    override = None
    if status["override_line_id"] is not None:
        override = {"line_id": status["override_line_id"], "reason": status["override_reason"],
                    "by": status["override_by"], "at": status["override_at"]}
    return {"active_line_id": status["active_line_id"], "since": status["since"],
            "critical": status["critical"], "override": override}


def line_event_view(row: asyncpg.Record) -> dict:
    return {key: row[key] for key in ("id", "line_id", "state", "active_line_id", "at",
                                      "reason", "critical", "override", "actor",
                                      "probed_by")}


def hotline_view(line: asyncpg.Record, status: asyncpg.Record) -> dict:
    return {"number": line["number"], "label": line["label"], "line_id": line["id"],
            "since": status["since"], "state": line["state"], "critical": status["critical"],
            "override": status["override_line_id"] is not None}


def callback_view(row: asyncpg.Record) -> dict:
    return {"id": row["id"], "call_id": row["call_id"], "caller_number": row["caller_number"],
            "line_id": row["line_id"], "dropped_at": row["dropped_at"],
            "done": row["done_at"] is not None, "done_at": row["done_at"],
            "done_by": row["done_by"]}
