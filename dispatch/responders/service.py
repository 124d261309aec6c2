"""What a team's phone does: status steps, GPS fixes, reading its assignment."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from db import assignments as assignments_db
from db import incidents as incidents_db
from dispatch.clock import check_recent_time
from dispatch.context import Context
from dispatch.errors import Conflict, InvalidTransition, NotFound, TooManyRequests, Unauthorized
from dispatch.incidents import views
from dispatch.incidents.announce import do_announce_incident
from dispatch.responders.schemas import LocationIn, StatusIn
from dispatch.states import get_transition
from dispatch.teams.fixes import Fix
from dispatch.teams.service import do_announce_team


def check_rate(ctx: Context, team_id: int) -> None:
    """429 with Retry-After when this team's phone sends more than its rate allows."""
    if ctx.device_limiter is None:
        return
    wait = ctx.device_limiter.retry_after_s(team_id)
    if wait:
        raise TooManyRequests("too many steps or fixes from this phone; slow down",
                              retry_after_s=wait)


def check_token_ok(row: asyncpg.Record) -> None:
    """401 when the statement that checked a socket's token found it no longer valid."""
    if not row["token_ok"]:
        raise Unauthorized("token is expired or revoked")


async def get_team_assignment(conn: asyncpg.Connection, team_id: int) -> dict | None:
    """The team's active assignment with its incident, or None."""
    assignment = await assignments_db.get_active_assignment(conn, team_id=team_id)
    if assignment is None:
        return None
    incident = await incidents_db.get_incident(conn, assignment["incident_id"])
    return {**views.assignment_view(assignment), "incident": views.incident_view(incident)}


async def _replayed(conn: asyncpg.Connection, team_id: int, body: StatusIn) -> dict:
    previous = await assignments_db.get_client_id_result(conn, team_id, body.client_id)
    if previous["incident_id"] != body.incident_id or previous["action"] != body.action:
        raise Conflict("client_id was already used for another step")
    return {**previous["result"], "replayed": True}


async def do_team_step(conn: asyncpg.Connection, ctx: Context, team_id: int, body: StatusIn,
                       *, actor: str, via: str = "app", token_hash: bytes | None = None) -> dict:
    """Apply a responder's step to its incident and team: the one path of the phone's
    buttons (`via` "app", over HTTP or the socket) and of reply digits (`via` "sms").

    With `token_hash` (a socket's frame), 401 when that token is no longer valid,
    checked in the step's first statement. The same client_id again returns the
    first answer and changes nothing. A
    step that does not follow from the current states is refused with 409 and,
    the caller's transaction rolling back, leaves no trace.
    """
    at = check_recent_time(body.at)
    transition = get_transition(body.action)
    # What a replay of this client_id answers: the targets, which a step reaches or
    # fails (and then its claim is rolled back with it).
    result = {"incident_id": body.incident_id, "incident_status": transition.incident.target,
              "team_status": transition.team.target, "action": body.action}
    locked = await assignments_db.claim_step(conn, team_id, body.client_id,
                                             body.incident_id, body.action, result, token_hash)
    check_token_ok(locked)
    if not locked["claimed"]:
        return await _replayed(conn, team_id, body)
    if not locked["found"]:
        raise NotFound(f"no incident {body.incident_id}")
    if locked["assignment_id"] is None:
        raise InvalidTransition("this team is not assigned to that incident (any more)")
    stepped = await assignments_db.apply_step(
        conn, team_id=team_id, incident_id=body.incident_id,
        assignment_id=locked["assignment_id"],
        incident_move=(transition.incident.target, transition.incident.sources),
        team_move=(transition.team.target, transition.team.sources), stamp=transition.stamp,
        at=at, acknowledged_via=via if body.action == "acknowledge" else None,
        end=body.action == "clear", gps_fresh_s=ctx.settings.gps_fresh_s)
    if stepped is None:
        raise InvalidTransition(f"{body.action} does not follow from the current state")
    await do_announce_incident(conn, body.incident_id, actor=actor, team_id=team_id,
                               row=stepped.incident, action=body.action,
                               client_id=body.client_id, via=via)
    await do_announce_team(conn, team_id, actor=actor, gps_fresh_s=ctx.settings.gps_fresh_s,
                           row=stepped.team)
    return result


async def do_team_location(ctx: Context, team_id: int, body: LocationIn, *,
                           token_hash: bytes | None = None) -> bool:
    """Store a GPS fix (a late, older fix never replaces a newer one), with the other
    fixes of the moment in one statement outside any transaction
    (dispatch.teams.fixes); whether it was stored. It is announced by the next round
    of dispatch.teams.positions, at most every `gps_announce_s` per team (a phone
    sending a fix every second costs one event per few seconds, not one per fix).
    With `token_hash` (a socket's frame), 401 when that token is no longer valid."""
    at = check_recent_time(body.at) or datetime.now(UTC)
    result = await ctx.fixes.store(Fix(team_id, body.lat, body.lon, body.accuracy_m, at,
                                       token_hash))
    check_token_ok(result)
    if result["stored"] and ctx.on_fix_stored is not None:
        ctx.on_fix_stored(team_id)
    return result["stored"]
