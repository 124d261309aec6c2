"""Incidents: creating one (and allocating a team at once), reading, cancelling,
manual reassignment."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from db import assignments as assignments_db
from db import calls as calls_db
from db import events as events_db
from db import incidents as incidents_db
from db import teams as teams_db
from dispatch.calls.service import check_taker, do_take_call
from dispatch.config import Settings
from dispatch.context import Context
from dispatch.errors import Conflict, InvalidTransition, NotFound, TeamNotFree, ValidationFailed
from dispatch.events import emit
from dispatch.events.catalogue import AssignmentWithdrawn, IncidentCreated
from dispatch.incidents import views
from dispatch.incidents.allocation import do_allocate, do_reserve, get_ranked_candidates
from dispatch.incidents.announce import do_announce_incident
from dispatch.incidents.schemas import IncidentIn
from dispatch.sms.service import do_queue_end
from dispatch.states import get_transition
from dispatch.teams.service import do_announce_team
from dispatch.vocabulary import TEAM_KINDS


def _request_hash(body: IncidentIn) -> bytes:
    return hashlib.sha256(body.model_dump_json().encode()).digest()


async def check_call(conn: asyncpg.Connection, call_id: int | None,
                     user: str | None = None) -> asyncpg.Record | None:
    """The call an incident is made from: 422 when unknown; 409 when another operator
    than `user` took it (two operators must not make two incidents of one call). An
    open call nobody took is taken by `user` now (the other dashboards stop ringing)."""
    if call_id is None:
        return None
    call = await calls_db.get_call(conn, call_id)
    if call is None:
        raise ValidationFailed.field("call_id", f"no call {call_id}")
    if user is not None and call["status"] == "open":
        check_taker(call, user)
        if call["taken_by"] is None:
            await do_take_call(conn, call_id, user=user, actor=f"user:{user}")
    return call


async def get_replayed_incident(conn: asyncpg.Connection, actor: str, key: str,
                                body: IncidentIn) -> int:
    """The incident a repeated Idempotency-Key made first; 409 when the body differs."""
    row = await incidents_db.get_idempotency_key(conn, actor, key)
    if row["request_hash"] != _request_hash(body):
        raise Conflict("Idempotency-Key was already used for a different incident")
    return row["incident_id"]


async def do_create_incident(conn: asyncpg.Connection, ctx: Context, body: IncidentIn, *,
                             actor: str, idempotency_key: str | None,
                             user: str | None = None) -> tuple[dict, bool]:
    """Store the incident and allocate the nearest free team in the same transaction.

    Returns (the answer of POST /incidents, created). With an Idempotency-Key already
    used by this actor, nothing is written and the first incident's answer comes back.
    """
    if idempotency_key is not None and not await incidents_db.claim_idempotency_key(
            conn, actor, idempotency_key, _request_hash(body)):
        incident_id = await get_replayed_incident(conn, actor, idempotency_key, body)
        return await get_incident_summary(conn, incident_id), False
    call = await check_call(conn, body.call_id, user)
    place = await ctx.districts.locate_both(conn, body.location.lat, body.location.lon)
    row = await incidents_db.insert_incident(
        conn, call_id=body.call_id, caller_number=body.caller_number,
        lat=body.location.lat, lon=body.location.lon, district_id=place.kecamatan_id,
        kelurahan_id=place.kelurahan_id,
        address=body.address, complaint=body.complaint, priority=body.priority,
        required_kind=body.required_kind, patients=body.patients, notes=body.notes,
        received_at=call["received_at"] if call else None, created_by=actor,
        idempotency=None if idempotency_key is None else (actor, idempotency_key))
    structlog.contextvars.bind_contextvars(incident_id=row["id"])
    if call is not None:  # linked once the incident exists; read again to count it
        await calls_db.link_call_incident(conn, call["id"], row["id"])
        row = await incidents_db.get_incident(conn, row["id"])
    await emit(conn, IncidentCreated(**views.incident_view(row)), actor=actor,
               incident_id=row["id"])
    # Our own uncommitted row: no one else can see it, so no lock is needed, and the row
    # just written has every column the allocation reads.
    assignment = await do_allocate(conn, ctx, row, actor=actor, new=True)
    return _summary(row, assignment), True


# The assignment in the answer of POST /incidents.
SUMMARY_ASSIGNMENT = ("id", "team_id", "eta_s", "distance_m", "eta_source")


def _summary(incident: asyncpg.Record, assignment: asyncpg.Record | None) -> dict:
    """The answer of POST /incidents for an incident just made, from what its
    transaction wrote: still queued, or allocated to `assignment`'s team."""
    status = (incident["status"] if assignment is None
              else get_transition("allocate").incident.target)
    return {"id": incident["id"], "status": status, "priority": incident["priority"],
            "district": incident["district"], "assignment": None if assignment is None
            else {key: assignment[key] for key in SUMMARY_ASSIGNMENT}}


async def get_incident_summary(conn: asyncpg.Connection, incident_id: int) -> dict:
    """The answer of POST /incidents as stored now (a replayed request's)."""
    row = await incidents_db.get_incident_summary(conn, incident_id)
    return {"id": incident_id, "status": row["status"], "priority": row["priority"],
            "district": row["district"], "assignment": None if row["assignment_id"] is None
            else {"id": row["assignment_id"], **{key: row[key]
                                                 for key in SUMMARY_ASSIGNMENT[1:]}}}


async def get_incident_detail(conn: asyncpg.Connection, incident_id: int) -> dict:
    """The incident with its current assignment and its whole timeline; 404 if unknown."""
    row = await incidents_db.get_incident(conn, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    assignment = await assignments_db.get_active_assignment(conn, incident_id=incident_id)
    events = await events_db.get_incident_events(conn, incident_id)
    return {**views.incident_view(row), "assignment": views.assignment_view(assignment),
            "events": [views.event_view(e) for e in events]}


async def _lock_or_404(conn: asyncpg.Connection, incident_id: int) -> asyncpg.Record:
    incident = await incidents_db.lock_incident(conn, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    return incident


async def do_release_team(conn: asyncpg.Connection, ctx: Context, assignment: asyncpg.Record,
                          *, action: str, reason: str, actor: str) -> None:
    """End `assignment` for `reason` and move its team as `action` says; log both."""
    await assignments_db.end_assignment(conn, assignment["id"], reason)
    await do_queue_end(conn, ctx, assignment, reason)  # a team reached by SMS hears it so
    step = get_transition(action).team
    moved = await teams_db.update_team_status(conn, assignment["team_id"], step.target,
                                              step.sources, ctx.settings.gps_fresh_s)
    await emit(conn, AssignmentWithdrawn(
        assignment_id=assignment["id"], incident_id=assignment["incident_id"],
        team_id=assignment["team_id"], reason=reason), actor=actor,
        incident_id=assignment["incident_id"], team_id=assignment["team_id"])
    if moved is not None:
        await do_announce_team(conn, assignment["team_id"], actor=actor,
                               gps_fresh_s=ctx.settings.gps_fresh_s, row=moved)


async def do_cancel(conn: asyncpg.Connection, ctx: Context, incident_id: int, reason: str, *,
                    actor: str) -> None:
    """Cancel an active incident; its team, if any, becomes available. 409 if ended."""
    await _lock_or_404(conn, incident_id)
    step = get_transition("cancel")
    updated = await incidents_db.update_incident_status(
        conn, incident_id, step.incident.target, step.incident.sources, stamp=step.stamp)
    if updated is None:
        raise InvalidTransition(f"incident {incident_id} has already ended")
    await incidents_db.set_cancel_reason(conn, incident_id, reason)
    assignment = await assignments_db.get_active_assignment(conn, incident_id=incident_id)
    if assignment is not None:
        await do_release_team(conn, ctx, assignment, action="cancel", reason="cancelled",
                              actor=actor)
    await do_announce_incident(conn, incident_id, actor=actor, reason=reason,
                               team_id=assignment["team_id"] if assignment else None)


async def do_withdraw(conn: asyncpg.Connection, ctx: Context, incident_id: int,
                      assignment: asyncpg.Record, *, reason: str, team_action: str,
                      actor: str) -> None:
    """Take the team off a locked incident, which goes back to the queue."""
    withdraw = get_transition("withdraw")
    step = withdraw.incident
    if await incidents_db.update_incident_status(conn, incident_id, step.target,
                                                 step.sources, clear=withdraw.clears) is None:
        raise InvalidTransition(f"incident {incident_id} cannot be withdrawn now")
    await do_release_team(conn, ctx, assignment, action=team_action, reason=reason,
                          actor=actor)
    await do_announce_incident(conn, incident_id, actor=actor, reason=reason)


async def do_assign(conn: asyncpg.Connection, ctx: Context, incident_id: int, team_id: int, *,
                    actor: str) -> None:
    """Manually send `team_id` to the incident, taking off its current team if any.

    409 when the team is not free (not available, not on duty, or the wrong kind is fine:
    the operator decides) or the incident has ended or is already on scene.
    """
    incident = await _lock_or_404(conn, incident_id)
    current = await assignments_db.get_active_assignment(conn, incident_id=incident_id)
    if current is not None and current["team_id"] == team_id:
        raise TeamNotFree(f"team {team_id} is already assigned to this incident")
    if current is not None:
        await do_withdraw(conn, ctx, incident_id, current, reason="reassigned",
                          team_action="withdraw", actor=actor)
    elif incident["status"] != "queued":
        raise InvalidTransition(f"incident {incident_id} is {incident['status']}")
    candidates = await get_ranked_candidates(conn, ctx, incident["lat"], incident["lon"],
                                             TEAM_KINDS, exclude=[], every=True)
    chosen = next((c for c in candidates if c.team_id == team_id), None)
    if chosen is None or await do_reserve(conn, ctx, incident, chosen, actor=actor) is None:
        raise TeamNotFree(f"team {team_id} is not free and on duty")


DUPLICATES_LIMIT = 20


async def get_possible_duplicates(conn: asyncpg.Connection, settings: Settings,
                                  lat: float | None, lon: float | None,
                                  number: str | None) -> list[dict]:
    """Active incidents that may be the emergency being typed in: within
    `duplicate_radius_m` of the position and received in the last `duplicate_window_s`,
    or reported from the same number. Each with `distance_m` and why it matched
    (`match`: `distance`, `number`)."""
    since = datetime.now(UTC) - timedelta(seconds=settings.duplicate_window_s)
    rows = await incidents_db.get_possible_duplicates(
        conn, lat, lon, number, radius_m=settings.duplicate_radius_m, since=since,
        limit=DUPLICATES_LIMIT)
    return [{**views.incident_view(row),
             "distance_m": None if row["distance_m"] is None else round(row["distance_m"]),
             "match": [name for name, hit in (("distance", row["near"]),
                                               ("number", row["same_number"])) if hit]}
            for row in rows]
