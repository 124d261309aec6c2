"""How long the event log keeps events: `event_retention_days`, and never an event of
an incident still active (its timeline on the dashboard stays whole).

What may go: a client resuming from a seq below the pruned horizon gets a `resync`
and fetches the state again (realtime/session.py); the reports read the incidents'
own step times, never the log; only the timeline of incidents older than the
retention is lost. Pruning runs in short batches so that writers are never held up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog

from db import events as events_db
from dispatch.context import Context
from dispatch.vocabulary import ACTIVE_INCIDENT_STATES

log = structlog.get_logger(__name__)
BATCH = 10_000
MAX_BATCHES = 10


async def do_prune_events(ctx: Context, now: datetime | None = None) -> int:
    """Delete what the retention allows, at most MAX_BATCHES x BATCH events; how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=ctx.settings.event_retention_days)
    pruned = 0
    for _ in range(MAX_BATCHES):
        async with ctx.pool.acquire() as conn, conn.transaction():
            through = await events_db.get_prunable_through(conn, cutoff,
                                                           list(ACTIVE_INCIDENT_STATES))
            done = await events_db.get_pruned_through(conn)
            if through <= done:
                break
            pruned += await events_db.prune_events(conn, min(through, done + BATCH))
    if pruned:
        log.info("events.pruned", count=pruned, older_than=cutoff.isoformat())
    return pruned
