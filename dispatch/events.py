"""Emitting events: buffered per transaction, written just before COMMIT.

The event log serialises its writers (see migration 0002) so that seq order is
commit order; appending the events as the last statement keeps that lock short.
Outside `Context.transaction()` an event is written at once.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

import asyncpg

from db import events as events_db


@dataclass(frozen=True)
class PendingEvent:
    name: str
    actor: str
    data: dict
    incident_id: int | None
    team_id: int | None


_buffer: ContextVar[list[PendingEvent] | None] = ContextVar("event_buffer", default=None)


async def emit(conn: asyncpg.Connection, name: str, *, actor: str, data: dict,
               incident_id: int | None = None, team_id: int | None = None) -> None:
    """Record an event of the current transaction."""
    event = PendingEvent(name, actor, data, incident_id, team_id)
    pending = _buffer.get()
    if pending is None:
        await events_db.append_events(conn, [event])
    else:
        pending.append(event)


def start_buffer() -> object:
    return _buffer.set([])


async def flush_buffer(conn: asyncpg.Connection) -> int | None:
    """Write the buffered events in order; return the last seq (None: nothing)."""
    pending = _buffer.get()
    if not pending:
        return None
    events = list(pending)
    pending.clear()
    return await events_db.append_events(conn, events)


def end_buffer(token: object) -> None:
    _buffer.reset(token)
