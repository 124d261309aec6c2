"""SMS to teams: sending an assignment by SMS when the phone cannot be reached by its
socket, its end when it ends, replies by digit, and the escalation of an assignment
nobody answered (docs/sms.md states every rule these functions follow)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import structlog

from db import incidents as incidents_db
from db import sms as sms_db
from db import teams as teams_db
from dispatch.context import Context
from dispatch.errors import NotFound
from dispatch.events import emit
from dispatch.events.catalogue import TeamUnreachable
from dispatch.sms import texts
from dispatch.sms.outbox import do_queue
from dispatch.states import get_transition
from dispatch.teams.service import do_announce_team

log = structlog.get_logger(__name__)
SYSTEM = "system"


# --- sending ----------------------------------------------------------------------------

async def do_queue_assignment(conn: asyncpg.Connection, ctx: Context,
                              assignment: asyncpg.Record) -> bool:
    """Queue the assignment's SMS to its team's numbers, once (a guarded UPDATE claims
    it, so two sweeping instances queue it once); whether it was queued now.

    The incident is locked first, as by every transaction that changes its assignment
    (a step locks the incident, then updates the assignment): claiming the assignment
    first, then inserting the messages, whose foreign key waits for the incident,
    deadlocked with the team acknowledging at that moment (a 500 to the team)."""
    incident = await incidents_db.lock_incident(conn, assignment["incident_id"])
    if incident is None or not await sms_db.mark_sms_queued(conn, assignment["id"]):
        return False
    numbers = await sms_db.get_team_numbers(conn, assignment["team_id"])
    if not numbers:
        log.warning("sms.no_numbers", team_id=assignment["team_id"])
    body = texts.assignment_text(texts.AssignmentCard(
        incident["id"], incident["priority"], incident["complaint"], incident["address"],
        incident["lat"], incident["lon"]))
    await do_queue(conn, ctx, numbers=numbers, kind="assignment", body=body,
                   team_id=assignment["team_id"], incident_id=incident["id"],
                   assignment_id=assignment["id"])
    return True


async def do_send_fallback(ctx: Context) -> int:
    """The sweep's duty: assignments not acknowledged whose team has no socket open
    here, or has not acknowledged within `sms_after_ack_share` of the ack timeout, go
    by SMS. Returns how many were queued."""
    if ctx.settings.sms_gateway is None:
        return 0
    connected = sorted(set(ctx.connected_team_ids() if ctx.connected_team_ids else ()))
    after_s = ctx.settings.ack_timeout_s * ctx.settings.sms_after_ack_share
    async with ctx.acquire() as conn:
        due = await sms_db.get_assignments_for_sms(conn, connected, after_s)
    queued = 0
    for assignment in due:
        async with ctx.transaction() as conn:
            queued += await do_queue_assignment(conn, ctx, assignment)
    return queued


async def do_queue_end(conn: asyncpg.Connection, ctx: Context, assignment: asyncpg.Record,
                       reason: str) -> None:
    """An assignment that went by SMS ended before its team finished it (withdrawn,
    reassigned, cancelled): tell the team by SMS too, so that it does not drive there.
    Queued after the assignment's SMS to the same numbers, so it arrives after it."""
    if not await sms_db.has_assignment_sms(conn, assignment["id"]):
        return
    numbers = await sms_db.get_team_numbers(conn, assignment["team_id"])
    cancelled = reason == "cancelled"
    await do_queue(conn, ctx, numbers=numbers,
                   kind="cancellation" if cancelled else "withdrawal",
                   body=texts.withdrawal_text(assignment["incident_id"], cancelled),
                   team_id=assignment["team_id"], incident_id=assignment["incident_id"],
                   assignment_id=assignment["id"])


# --- escalation -------------------------------------------------------------------------

async def do_escalate(conn: asyncpg.Connection, ctx: Context,
                      assignment: asyncpg.Record) -> None:
    """The alarm of an assignment acknowledged neither by socket nor by SMS within the
    ack timeout, with the numbers to call; emitted before the next team is sent (the
    caller withdraws the assignment and makes the team `unreachable` next)."""
    team = await teams_db.get_team(conn, assignment["team_id"], ctx.settings.gps_fresh_s)
    numbers = await sms_db.get_team_numbers(conn, assignment["team_id"])
    sent_at = await sms_db.get_assignment_sms_sent_at(conn, assignment["id"])
    await sms_db.mark_escalated(conn, assignment["id"])
    await emit(conn, TeamUnreachable(
        team_id=team["id"], team_code=team["code"], team_name=team["name"],
        incident_id=assignment["incident_id"], assignment_id=assignment["id"],
        numbers=numbers, sms_sent_at=sent_at, at=datetime.now(UTC)), actor=SYSTEM,
        incident_id=assignment["incident_id"])
    log.warning("team.unreachable", team_id=team["id"], incident_id=assignment["incident_id"])


async def do_mark_reachable(conn: asyncpg.Connection, ctx: Context, team_id: int, *,
                            actor: str) -> bool:
    """An `unreachable` team was heard from (its socket, an SMS): available again."""
    step = get_transition("reachable").team
    team = await teams_db.update_team_status(conn, team_id, step.target, step.sources,
                                             ctx.settings.gps_fresh_s)
    if team is None:
        return False
    await do_announce_team(conn, team_id, actor=actor, gps_fresh_s=ctx.settings.gps_fresh_s,
                           row=team)
    log.info("team.reachable", team_id=team_id, by=actor)
    return True


# --- numbers ----------------------------------------------------------------------------

async def do_set_numbers(conn: asyncpg.Connection, ctx: Context, team_id: int,
                         numbers: list[str], *, actor: str) -> dict:
    """Replace the team's SMS numbers (E.164, validated by the schema); 404 if unknown."""
    if not await sms_db.set_team_numbers(conn, team_id, numbers):
        raise NotFound(f"no team {team_id}")
    return await do_announce_team(conn, team_id, actor=actor,
                                  gps_fresh_s=ctx.settings.gps_fresh_s)
