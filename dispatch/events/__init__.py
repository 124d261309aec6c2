"""Emitting events: typed (see catalogue.py), buffered per transaction, written just
before COMMIT, announced after it.

Writers do not wait for each other (migration 0017): readers keep to the log's safe
horizon (realtime/horizon.py). After COMMIT the transaction hands what it wrote to
this instance's hub, which pushes it at once when nothing can still come before it,
and NOTIFYs every instance. Outside `transaction()` an event is written at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import asyncpg
import structlog

from db import events as events_db
from db.pool import DATABASE_ERRORS
from dispatch.events.catalogue import Event
from dispatch.events.notifier import Notifier

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PendingEvent:
    name: str
    actor: str
    data: dict
    incident_id: int | None
    team_id: int | None


_buffer: ContextVar[list[PendingEvent] | None] = ContextVar("event_buffer", default=None)


async def emit(conn: asyncpg.Connection, event: Event, *, actor: str,
               incident_id: int | None = None, team_id: int | None = None) -> None:
    """Record `event` in the current transaction. `incident_id` and `team_id` say
    whose it is: a responder's socket sees only events of its own team."""
    pending = PendingEvent(event.NAME, actor, event.payload(), incident_id, team_id)
    buffer = _buffer.get()
    if buffer is None:
        await events_db.append_events(conn, [pending])
    else:
        buffer.append(pending)


# What a transaction wrote, as the log holds it (realtime.hub.Hub.committed takes it).
Written = list[dict]


async def flush(conn: asyncpg.Connection) -> Written:
    """Write the buffered events now, in order (transaction() does it just before
    COMMIT); return each as its row reads (seq, name, at, data, team_id), in seq order."""
    pending = _buffer.get()
    if not pending:
        return []
    events = list(pending)
    pending.clear()
    rows = await events_db.append_events(conn, events)
    return [{"seq": row["seq"], "name": event.name, "at": row["at"], "data": event.data,
             "team_id": event.team_id} for event, row in zip(events, rows, strict=True)]


async def _announce(conn: asyncpg.Connection, written: Written,
                    after_commit: Callable[[Written], None] | None,
                    notifier: Notifier | None) -> None:
    """After commit: hand what was written to this instance's hub at once and NOTIFY
    every instance (through the instance's notifier, which merges the NOTIFYs of
    commits close together, else on `conn`). The change has committed; if the NOTIFY
    fails, hubs still find the events at their next poll, so the failure is logged,
    not raised."""
    latest = written[-1]["seq"]
    if after_commit is not None:
        after_commit(written)
    if notifier is not None:
        notifier.announce(latest)
        return
    try:
        await events_db.do_notify(conn, latest)
    except DATABASE_ERRORS as exc:
        log.warning("events.notify_failed", seq=latest, error=str(exc))


@asynccontextmanager
async def transaction(conn: asyncpg.Connection,
                      after_commit: Callable[[Written], None] | None = None,
                      notifier: Notifier | None = None
                      ) -> AsyncIterator[asyncpg.Connection]:
    """A transaction on `conn` whose events are written last, just before COMMIT;
    after it commits, `after_commit` gets what was written and listeners learn the
    last seq.

    The NOTIFY is sent after commit, outside the transaction: inside one it would
    take a global lock at commit, serialising all committing writers.
    """
    token = _buffer.set([])
    try:
        async with conn.transaction():
            yield conn
            written = await flush(conn)
        if written:
            await _announce(conn, written, after_commit, notifier)
    finally:
        _buffer.reset(token)
