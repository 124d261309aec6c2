"""Teams and shifts as operators and admins manage them, and `team.updated`: every
change of a team announces the whole team as it is now."""

from __future__ import annotations

import asyncpg

from db import sms as sms_db
from db import teams as teams_db
from db import tokens as tokens_db
from dispatch.auth.service import hash_secret
from dispatch.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from dispatch.events import emit
from dispatch.events.catalogue import TeamUpdated
from dispatch.states import get_transition
from dispatch.teams.schemas import ShiftIn, TeamIn
from dispatch.teams.views import team_view

MAX_SHIFT_HOURS = 48


async def get_team_or_404(conn: asyncpg.Connection, team_id: int, gps_fresh_s: int) -> dict:
    row = await teams_db.get_team(conn, team_id, gps_fresh_s)
    if row is None:
        raise NotFound(f"no team {team_id}")
    return team_view(row)


async def do_announce_team(conn: asyncpg.Connection, team_id: int, *, actor: str,
                           gps_fresh_s: int, row: asyncpg.Record | None = None,
                           **extra: object) -> dict:
    """Emit `team.updated` with the team as it is now in this transaction (`row`: as
    the caller's last statement returned it, else read), plus `extra` fields of the
    event (incident_id, shift, accuracy_m); return the team."""
    team = team_view(row) if row is not None else await get_team_or_404(conn, team_id,
                                                                          gps_fresh_s)
    await emit(conn, TeamUpdated(**team, **extra), actor=actor, team_id=team_id)
    return team


async def do_create_team(conn: asyncpg.Connection, body: TeamIn, *, actor: str,
                         gps_fresh_s: int) -> dict:
    """Create a team; 409 when its code is taken."""
    team_id = await teams_db.insert_team(
        conn, code=body.code, name=body.name, kind=body.kind, base_lat=body.base.lat,
        base_lon=body.base.lon, base_name=body.base_name, pin_hash=await hash_secret(body.pin),
        phone=body.phone)
    if team_id is None:
        raise Conflict(f"team code {body.code} is already taken")
    if body.sms_numbers:
        await sms_db.set_team_numbers(conn, team_id, list(dict.fromkeys(body.sms_numbers)))
    return await do_announce_team(conn, team_id, actor=actor, gps_fresh_s=gps_fresh_s)


def check_shift(body: ShiftIn) -> None:
    if body.ends_at <= body.starts_at:
        raise ValidationFailed.field("ends_at", "must be after starts_at")
    if (body.ends_at - body.starts_at).total_seconds() > MAX_SHIFT_HOURS * 3600:
        raise ValidationFailed.field("ends_at", f"a shift lasts at most {MAX_SHIFT_HOURS} h")


async def do_add_shift(conn: asyncpg.Connection, team_id: int, body: ShiftIn, *,
                       actor: str, gps_fresh_s: int) -> dict:
    check_shift(body)
    await get_team_or_404(conn, team_id, gps_fresh_s)
    shift = dict(await teams_db.insert_shift(conn, team_id, body.starts_at, body.ends_at))
    await do_announce_team(conn, team_id, actor=actor, gps_fresh_s=gps_fresh_s, shift={
        key: shift[key] for key in ("id", "starts_at", "ends_at")})
    return shift


async def do_set_service(conn: asyncpg.Connection, team_id: int, status: str, *,
                         actor: str, gps_fresh_s: int) -> dict:
    """Put a free team out of service, or back in (409 while it is on an assignment)."""
    await get_team_or_404(conn, team_id, gps_fresh_s)
    step = get_transition("out_of_service" if status == "out_of_service" else "in_service").team
    team = await teams_db.update_team_status(conn, team_id, step.target, step.sources,
                                             gps_fresh_s)
    if team is None:
        raise InvalidTransition(f"team {team_id} cannot become {status} now")
    return await do_announce_team(conn, team_id, actor=actor, gps_fresh_s=gps_fresh_s,
                                  row=team)


async def do_set_pin(conn: asyncpg.Connection, team_id: int, pin_hash: str) -> None:
    """Change the team's PIN (hashed by the caller, before taking a connection) and log
    all its phones out: their sockets close within ws_token_check_s. 404 if unknown."""
    if not await teams_db.update_team_pin(conn, team_id, pin_hash):
        raise NotFound(f"no team {team_id}")
    await tokens_db.revoke_team_tokens(conn, team_id)


async def do_revoke_team(conn: asyncpg.Connection, team_id: int, gps_fresh_s: int) -> int:
    """Log all the team's phones out (a phone lost or stolen); 404 if unknown."""
    await get_team_or_404(conn, team_id, gps_fresh_s)
    return await tokens_db.revoke_team_tokens(conn, team_id)
