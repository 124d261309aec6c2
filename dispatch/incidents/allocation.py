"""Choosing and reserving the nearest free on-duty team for an incident.

The caller owns the transaction and has locked (or just inserted) the incident:
locks are always taken incident first, then team.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import NamedTuple

import asyncpg
import structlog

from db import assignments as assignments_db
from db import teams as teams_db
from dispatch.context import Context
from dispatch.events import emit
from dispatch.events.catalogue import AssignmentCreated, IncidentUpdated
from dispatch.incidents.views import incident_view
from dispatch.states import get_transition
from dispatch.teams.service import do_announce_team
from dispatch.vocabulary import KINDS_FOR
from routing import Position, Route, Router
from routing.ranking import rank

log = structlog.get_logger(__name__)
# The nearest teams on a map ranked per allocation when the router allows it, and how
# many of the first are guaranteed in the same order as from the whole fleet (the
# operators' candidate list shows 10).
NEAREST = 100
EXACT_FIRST = 20

class Candidate(NamedTuple):
    """A team that may be sent, with its route (a named tuple: one per free team,
    thousands per allocation in a large fleet)."""

    team_id: int
    code: str
    source: str
    today: int
    route: Route


async def get_ranked_candidates(conn: asyncpg.Connection, ctx: Context, lat: float, lon: float,
                                kinds: tuple[str, ...], exclude: list[int], *,
                                every: bool = False) -> list[Candidate]:
    """Free on-duty teams of `kinds`, nearest first (ties: fewer assignments today, code).

    Only the NEAREST nearest on a map are ranked (a fleet of thousands costs a hundred
    rows, not thousands) when the router can tell that the others cannot come among
    the first EXACT_FIRST (_routes_of_nearest), and then those first EXACT_FIRST are
    in the same order as from every team; else every team is. `every`: all of them
    (an operator choosing a team by hand)."""
    def fetch(limit: int | None) -> Awaitable[list[asyncpg.Record]]:
        return teams_db.get_candidate_teams(
            conn, kinds=list(kinds), gps_fresh_s=ctx.settings.gps_fresh_s, exclude=exclude,
            day_start=ctx.day_start(), near=(lat, lon), limit=limit)
    destination = Position(lat, lon)
    shortlist = not every and _ranks_nearest(ctx.router)
    rows = await fetch(NEAREST if shortlist else None)
    routes = None
    if shortlist and len(rows) >= NEAREST:
        routes = await _routes_of_nearest(ctx.router, rows, destination)
        if routes is None:
            rows = await fetch(None)
    if not rows:
        return []
    if routes is None:
        routes = await ctx.router.routes(_origins(rows), destination)
    order = rank(routes, [(r["today"], r["code"]) for r in rows])  # as the planner does
    return [Candidate(rows[i]["id"], rows[i]["code"], "gps" if rows[i]["gps"] else "base",
                      rows[i]["today"], routes[i]) for i in order]


def _ranks_nearest(router: Router) -> bool:
    """Whether `router` may rank the nearest teams on a map alone: it ranks by
    straight-line distance, or it can tell when the others do not matter."""
    return getattr(router, "ranks_by_distance", False) or hasattr(router, "routes_near")


def _origins(rows: list[asyncpg.Record]) -> list[Position]:
    return [Position(r["lat"], r["lon"]) for r in rows]


async def _routes_of_nearest(router: Router, rows: list[asyncpg.Record],
                             destination: Position) -> list[Route | None] | None:
    """Routes of `rows`, the nearest teams on a map (a cut of the fleet), when no other
    team could come among the first EXACT_FIRST; None when the caller must rank every
    team. The cut must fall clearly beyond those: a flat map and ETAs in whole seconds
    could otherwise order teams around it differently."""
    cut_m = rows[-1]["planar_m"] / 1.02 - 100.0  # no team left out is nearer than this
    if getattr(router, "ranks_by_distance", False):
        if cut_m <= rows[EXACT_FIRST - 1]["planar_m"]:
            return None
        return await router.routes(_origins(rows), destination)
    return await router.routes_near(_origins(rows), destination, cut_m, EXACT_FIRST)


async def do_reserve(conn: asyncpg.Connection, ctx: Context, incident: asyncpg.Record,
                     candidate: Candidate, *, actor: str) -> asyncpg.Record | None:
    """Send `candidate` to the queued `incident`: reserve, assign, log. None if lost
    (another request took the team first; nothing of this try stays)."""
    step = get_transition("allocate")
    allocated = await assignments_db.allocate_team(
        conn, team_id=candidate.team_id, target=step.team.target, sources=step.team.sources,
        incident_id=incident["id"], incident_target=step.incident.target,
        incident_sources=step.incident.sources, stamp=step.stamp,
        eta_s=candidate.route.eta_s, distance_m=candidate.route.distance_m,
        position_source=candidate.source, eta_source=candidate.route.source,
        gps_fresh_s=ctx.settings.gps_fresh_s)
    if allocated is None:
        log.info("allocation.lost_race", incident_id=incident["id"], team_id=candidate.team_id)
        return None
    assignment, team, updated = allocated
    await _log_assignment(conn, ctx, updated, candidate, assignment, team, actor)
    return assignment


async def _log_assignment(conn: asyncpg.Connection, ctx: Context, incident: dict,
                          candidate: Candidate, assignment: asyncpg.Record,
                          team: dict, actor: str) -> None:
    """`assignment.created` (the card on the team's phone), `team.updated` and
    `incident.updated`, each with the whole thing as it now is (`incident` and `team`:
    as the allocation's statements returned them)."""
    team_id = candidate.team_id
    view = incident_view(incident)
    await emit(conn, AssignmentCreated(
        assignment_id=assignment["id"], incident_id=incident["id"], team_id=team_id,
        team_code=candidate.code, priority=incident["priority"], location=view["location"],
        address=view["address"], complaint=view["complaint"], eta_s=candidate.route.eta_s,
        distance_m=candidate.route.distance_m, position_source=candidate.source,
        eta_source=candidate.route.source, incident=view),
        actor=actor, incident_id=incident["id"], team_id=team_id)
    await do_announce_team(conn, team_id, actor=actor, gps_fresh_s=ctx.settings.gps_fresh_s,
                           row=team, incident_id=incident["id"])
    await emit(conn, IncidentUpdated(**view), actor=actor, incident_id=incident["id"],
               team_id=team_id)
    log.info("allocation.assigned", incident_id=incident["id"], team_id=team_id,
             eta_s=candidate.route.eta_s, source=candidate.source,
             eta_source=candidate.route.source)


async def do_allocate(conn: asyncpg.Connection, ctx: Context, incident: asyncpg.Record, *,
                      actor: str, new: bool = False) -> asyncpg.Record | None:
    """Assign the nearest free fitting team to the queued, locked `incident`.

    Tries candidates nearest first; a team taken meanwhile by another request is
    skipped. Teams that already let this incident time out are not tried again (a
    `new` incident, made in this transaction, has no past assignment to look up).
    Returns the assignment, or None (the incident stays queued).
    """
    exclude = [] if new else await assignments_db.get_withdrawn_team_ids(conn,
                                                                          incident["id"])
    candidates = await get_ranked_candidates(conn, ctx, incident["lat"], incident["lon"],
                                             KINDS_FOR[incident["required_kind"]], exclude)
    for candidate in candidates:
        assignment = await do_reserve(conn, ctx, incident, candidate, actor=actor)
        if assignment is not None:
            return assignment
    log.info("allocation.queued", incident_id=incident["id"], candidates=len(candidates))
    return None
