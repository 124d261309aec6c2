"""Calls dropped with their line, queued for an operator to call the caller back on
the line that is active now."""

from __future__ import annotations

import asyncpg

from db import callbacks as callbacks_db
from dispatch.calls.views import call_view
from dispatch.errors import NotFound
from dispatch.events import emit
from dispatch.events.catalogue import CallbackCreated, CallbackUpdated, CallEnded
from dispatch.lines.views import callback_view


async def do_drop_calls(conn: asyncpg.Connection, line: asyncpg.Record, *,
                        actor: str) -> list[dict]:
    """End the calls still open on `line` (which went down) as `dropped`, and queue
    each caller for a callback: `call.ended` and `callback.created` per call (a withheld
    number cannot be called back: `call.ended` only)."""
    queued = []
    for call in await callbacks_db.drop_open_calls(conn, line["id"]):
        await emit(conn, CallEnded(**call_view(call), reason="line_down"), actor=actor,
                   incident_id=call["incident_id"])
        if call["caller_number"] is None:
            continue
        row = await callbacks_db.insert_callback(conn, call["id"], call["caller_number"],
                                                 line["id"])
        if row is not None:
            view = {**callback_view(row), "line_number": line["number"]}
            await emit(conn, CallbackCreated(**view), actor=actor)
            queued.append(view)
    return queued


async def get_callbacks(conn: asyncpg.Connection, done: bool | None,
                        limit: int) -> list[dict]:
    return [callback_view(row) for row in await callbacks_db.get_callbacks(conn, done, limit)]


async def do_mark_done(conn: asyncpg.Connection, callback_id: int, *, actor: str) -> dict:
    """Mark a callback done (`callback.updated`); done already: the same answer, no
    second event (two operators may press the button at once). 404 when unknown."""
    row = await callbacks_db.mark_done(conn, callback_id, actor)
    if row is None:
        existing = await callbacks_db.get_callback(conn, callback_id)
        if existing is None:
            raise NotFound(f"no callback {callback_id}")
        return callback_view(existing)
    view = callback_view(row)
    await emit(conn, CallbackUpdated(**view), actor=actor)
    return view
