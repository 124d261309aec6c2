"""How long caller numbers are kept: `call_retention_days` (DISPATCH112_CALL_RETENTION_DAYS).

Caller numbers are personal data. Past the retention a call keeps its line, times,
disposition and incident (so the reports' counts and shares do not change) but loses
its number, as do its callback, its AML positions (a position waiting for a call, too),
the incidents it became once they have ended, and block-list entries that ended before
it. The event log, which carries numbers in `call.created` and `incident.*`, keeps
`event_retention_days` (30) only: see docs/operations.md, "Retention".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog

from db import blocklist as blocklist_db
from db import calls as calls_db
from db import incidents as incidents_db
from dispatch.context import Context

log = structlog.get_logger(__name__)
BATCH = 5_000
MAX_BATCHES = 20


async def do_forget_numbers(ctx: Context, now: datetime | None = None) -> int:
    """Remove the numbers the retention no longer allows, in short transactions of at
    most BATCH rows (writers are never held up); how many calls lost theirs."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=ctx.settings.call_retention_days)
    calls = 0
    for _ in range(MAX_BATCHES):
        async with ctx.pool.acquire() as conn, conn.transaction():
            done = await calls_db.anonymise_calls(conn, cutoff, BATCH)
            done += await incidents_db.anonymise_incidents(conn, cutoff, BATCH)
            calls += done
        if done == 0:
            break
    async with ctx.pool.acquire() as conn:
        blocks = await blocklist_db.delete_ended_blocks(conn, cutoff)
    if calls or blocks:
        log.info("calls.numbers_forgotten", count=calls, blocks=blocks,
                 older_than=cutoff.isoformat())
    return calls
