"""The queue: serving queued incidents when teams come free, and withdrawing
assignments nobody acknowledged (run by dispatch/sweeper.py in every instance).

Each runs in short transactions of its own and skips rows another instance is
already handling (SKIP LOCKED), so any number of instances may run it.
"""

from __future__ import annotations

import asyncpg
import structlog

from db import assignments as assignments_db
from db import incidents as incidents_db
from db.pool import DATABASE_ERRORS
from dispatch.coalesce import Coalesced
from dispatch.context import Context
from dispatch.incidents.allocation import do_allocate
from dispatch.incidents.service import do_withdraw
from dispatch.sms.service import do_escalate
from dispatch.vocabulary import KINDS_FOR

log = structlog.get_logger(__name__)
SYSTEM = "system"
MAX_PER_SWEEP = 50


async def do_serve_queue(ctx: Context) -> int:
    """Give queued incidents the nearest free team, most urgent and oldest first.

    Servers in all instances take turns per incident (an advisory lock). Within a
    pass, once an incident found no team of its kinds, later incidents that could
    use only those kinds are passed over too: a team freed in the middle of the
    pass must go to the older incident, which the pass that the freeing change
    starts will find first. Returns how many incidents got a team.

    A pass with nothing queued is a single read, without the lock: a locked pass
    reading at the same moment would find nothing either. (An incident whose
    allocation looked before a team was freed, and that commits as queued after that
    team's pass has looked, waits for the next pass or the sweeper, with or without
    the lock.)
    """
    async with ctx.acquire() as conn:
        if not await incidents_db.any_queued(conn):
            return 0
    served, passed_over, exhausted = 0, [], []
    for _ in range(MAX_PER_SWEEP):
        async with ctx.transaction() as conn:
            await incidents_db.lock_queue(conn)
            incident = await incidents_db.lock_next_queued(conn, passed_over)
            if incident is None:
                break
            kinds = frozenset(KINDS_FOR[incident["required_kind"]])
            if any(kinds <= gone for gone in exhausted) or await do_allocate(
                    conn, ctx, incident, actor=SYSTEM) is None:
                passed_over.append(incident["id"])
                exhausted.append(kinds)
            else:
                served += 1
    return served


async def serve_queue_after_commit(ctx: Context) -> None:
    """Serve the queue now that a team came free: returns after a pass of this
    instance that started after the call has ended. Passes asked for together are one
    (dispatch.coalesce). The change that freed the team has committed already, so a
    failed pass is logged (`queue.serve.failed`) and left to the next or the sweeper."""
    if ctx.queue_passes is None:
        ctx.queue_passes = Coalesced("queue.serve", lambda: do_serve_queue(ctx))
    await ctx.queue_passes.request()


async def _withdraw_one(conn: asyncpg.Connection, ctx: Context, assignment_id: int,
                        incident_id: int) -> bool:
    incident = await incidents_db.lock_incident_nowait(conn, incident_id)
    if incident is None:  # a responder's step is being applied right now
        return False
    current = await assignments_db.get_active_assignment(conn, incident_id=incident_id)
    if current is None or current["id"] != assignment_id or current["acknowledged_at"]:
        return False
    await do_escalate(conn, ctx, current)  # the alarm comes before the next team is sent
    await do_withdraw(conn, ctx, incident_id, current, reason="ack_timeout",
                      team_action="no_answer", actor=SYSTEM)
    log.warning("assignment.ack_timeout", incident_id=incident_id, team_id=current["team_id"])
    await do_allocate(conn, ctx, await incidents_db.lock_incident(conn, incident_id),
                      actor=SYSTEM)
    return True


async def do_withdraw_overdue(ctx: Context) -> int:
    """Withdraw assignments acknowledged neither by the phone nor by SMS within the ack
    timeout, raise the alarm with the team's numbers (team.unreachable) and send the
    next nearest team. The silent team is `unreachable`, not sent again until it is
    heard from (its socket, an SMS) or an operator puts it back in service."""
    async with ctx.acquire() as conn:
        overdue = await assignments_db.get_overdue_assignments(conn, ctx.settings.ack_timeout_s)
    withdrawn = 0
    for row in overdue:
        try:
            async with ctx.transaction() as conn:
                withdrawn += await _withdraw_one(conn, ctx, row["id"], row["incident_id"])
        except DATABASE_ERRORS:
            raise  # the database is away: the sweeper tries the whole round again
        except Exception:  # one bad row must not hold up the others' timeouts
            log.exception("assignment.withdraw_failed", assignment_id=row["id"],
                          incident_id=row["incident_id"])
    return withdrawn
