"""Calls on the 112 lines, as the gateway or the operator records them."""

from __future__ import annotations

import asyncpg

from db import calls as calls_db
from db import incidents as incidents_db
from db import lines as lines_db
from dispatch.calls.schemas import CallEndIn, CallIn
from dispatch.calls.views import call_view
from dispatch.clock import check_recent_time
from dispatch.errors import InvalidTransition, NotFound, ValidationFailed
from dispatch.events import emit
from dispatch.events.catalogue import CallCreated, CallEnded


async def do_create_call(conn: asyncpg.Connection, body: CallIn, *, actor: str) -> dict:
    if body.line_id is not None and not await lines_db.line_exists(conn, body.line_id):
        raise ValidationFailed.field("line_id", f"no line {body.line_id}")
    received_at = check_recent_time(body.received_at, "received_at")
    row = await calls_db.insert_call(conn, caller_number=body.caller_number,
                                     line_id=body.line_id, received_at=received_at,
                                     created_by=actor)
    view = call_view(row)
    await emit(conn, CallCreated(**view), actor=actor)
    return view


async def do_end_call(conn: asyncpg.Connection, call_id: int, body: CallEndIn, *,
                      actor: str) -> dict:
    """End an open call with its disposition; 404 unknown, 409 already ended."""
    if await calls_db.get_call(conn, call_id) is None:
        raise NotFound(f"no call {call_id}")
    if body.incident_id is not None and await incidents_db.get_incident(
            conn, body.incident_id) is None:
        raise ValidationFailed.field("incident_id", f"no incident {body.incident_id}")
    row = await calls_db.end_call(conn, call_id, body.disposition, body.incident_id)
    if row is None:
        raise InvalidTransition(f"call {call_id} has already ended")
    view = call_view(row)
    await emit(conn, CallEnded(**view), actor=actor, incident_id=row["incident_id"])
    return view
