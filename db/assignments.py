"""Assignments of teams to incidents, and the replay guard of responder steps."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import asyncpg

from db import incidents as incidents_db
from db.teams import MOVED, ON_DUTY, team_dict
from db.tokens import TOKEN_OK

ASSIGNMENT_COLUMNS = """a.id, a.incident_id, a.team_id, a.eta_s, a.distance_m,
    a.position_source, a.eta_source, a.created_at, a.acknowledged_at, a.ended_at, a.end_reason"""


class Allocated(NamedTuple):
    """What `allocate_team` wrote: the assignment, the team and the incident as they now
    are (the team with the columns of db.teams.get_team, the incident with those of
    db.incidents.get_incident)."""

    assignment: asyncpg.Record
    team: dict
    incident: dict


class IncidentNotMoved(Exception):
    """The team was reserved but the incident was in none of the sources: the caller,
    who holds the incident's lock, misread it. The transaction must not commit."""


async def allocate_team(conn: asyncpg.Connection, *, team_id: int, target: str,
                        sources: tuple[str, ...], incident_id: int,
                        incident_target: str, incident_sources: tuple[str, ...],
                        stamp: str, eta_s: int, distance_m: int, position_source: str,
                        eta_source: str, gps_fresh_s: int) -> Allocated | None:
    """Send the team to the incident in one round trip: move the team to `target` if it
    is in one of `sources` and write its assignment (function reserve_team, migrations
    0018 and 0019), and move the incident to `incident_target` if it is in one of
    `incident_sources`, stamping `stamp` and remembering the team as the one sent.

    None, with nothing changed, when the team was not free or is already on an active
    assignment; IncidentNotMoved when the incident was not in its sources.
    """
    row = await conn.fetchrow(
        f"""WITH r AS (SELECT * FROM reserve_team($2, $3, $4, $5, $6, $7, $8, $9)),
                 moved AS (
                   UPDATE incidents i
                   SET status = $10, {incidents_db.stamp_sql(stamp, at="NULL")},
                       last_team_id = $2, last_assigned_at = (r.assignment).created_at,
                       assignment_count = i.assignment_count + 1
                   FROM r CROSS JOIN LATERAL (SELECT (r.team).*) t
                   WHERE i.id = $5 AND i.status = ANY($11)
                   RETURNING {incidents_db.returned_columns_sent("$2::bigint")},
                             r.assignment AS allocated_assignment, r.team AS allocated_team,
                             {ON_DUTY} AS allocated_on_duty,
                             (t.fix_at IS NOT NULL
                              AND t.fix_at > now() - make_interval(secs => $1))
                               AS allocated_fix_fresh)
            SELECT (SELECT count(*) FROM r) AS reserved, moved.*
            FROM (VALUES (1)) AS one (x) LEFT JOIN moved ON true""",
        float(gps_fresh_s), team_id, target, list(sources), incident_id, eta_s, distance_m,
        position_source, eta_source, incident_target, list(incident_sources))
    if row["reserved"] == 0:
        return None
    if row["id"] is None:
        raise IncidentNotMoved(f"incident {incident_id} is in none of {incident_sources}")
    team = team_dict(row["allocated_team"], on_duty=row["allocated_on_duty"],
                     fix_fresh=row["allocated_fix_fresh"])
    incident = {key: value for key, value in row.items()
                if key != "reserved" and not key.startswith("allocated_")}
    return Allocated(row["allocated_assignment"], team, incident)


async def get_active_assignment(conn: asyncpg.Connection, *, incident_id: int | None = None,
                                team_id: int | None = None) -> asyncpg.Record | None:
    """The active assignment of an incident or of a team."""
    return await conn.fetchrow(
        f"""SELECT {ASSIGNMENT_COLUMNS} FROM assignments a
            WHERE a.ended_at IS NULL
              AND ($1::bigint IS NULL OR a.incident_id = $1)
              AND ($2::bigint IS NULL OR a.team_id = $2)""", incident_id, team_id)


async def get_withdrawn_team_ids(conn: asyncpg.Connection, incident_id: int) -> list[int]:
    """Teams that already let this incident's assignment time out: not sent again."""
    rows = await conn.fetch(
        """SELECT DISTINCT team_id FROM assignments
           WHERE incident_id = $1 AND end_reason = 'ack_timeout'""", incident_id)
    return [row["team_id"] for row in rows]


async def end_assignment(conn: asyncpg.Connection, assignment_id: int,
                         reason: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""UPDATE assignments AS a SET ended_at = now(), end_reason = $2
            WHERE a.id = $1 AND a.ended_at IS NULL RETURNING {ASSIGNMENT_COLUMNS}""",
        assignment_id, reason)


async def get_overdue_assignments(conn: asyncpg.Connection, timeout_s: int,
                                  limit: int = 50) -> list[asyncpg.Record]:
    """Active, unacknowledged assignments older than `timeout_s`, oldest first. Not
    locked: the caller locks the incident first (the house lock order)."""
    return await conn.fetch(
        f"""SELECT {ASSIGNMENT_COLUMNS} FROM assignments a
            WHERE a.ended_at IS NULL AND a.acknowledged_at IS NULL
              AND a.created_at < now() - make_interval(secs => $1)
            ORDER BY a.created_at LIMIT $2""",
        float(timeout_s), limit)


async def claim_step(conn: asyncpg.Connection, team_id: int, client_id: str,
                     incident_id: int, action: str, result: dict,
                     token_hash: bytes | None = None) -> asyncpg.Record:
    """Claim a responder step's client_id with the answer it will have if it succeeds
    (`result`: a step that fails rolls its claim back with it) and, once claimed, lock
    its incident, in one round trip. `token_ok`: with `token_hash` (a socket's frame)
    the token is still valid (nothing is claimed otherwise); `claimed`: False when the
    step was seen before (a concurrent claim of it waits for the first to commit);
    `found`: the incident exists and is now locked; `assignment_id`: the team's active
    assignment to it (None when the team is not, or no longer, sent to it)."""
    return await conn.fetchrow(
        f"""WITH valid AS (SELECT {TOKEN_OK.format(param="$5")} AS ok),
                 claimed AS (
                   INSERT INTO status_requests (team_id, client_id, incident_id, action,
                                                result)
                   SELECT $1, $2, $3, $4, $6::jsonb WHERE (SELECT ok FROM valid)
                   ON CONFLICT DO NOTHING RETURNING 1),
                 locked AS (
                   SELECT i.id, a.id AS assignment_id FROM incidents i
                   LEFT JOIN assignments a ON a.incident_id = i.id AND a.team_id = $1
                                          AND a.ended_at IS NULL
                   WHERE i.id = $3 AND EXISTS (SELECT 1 FROM claimed) FOR UPDATE OF i)
            SELECT (SELECT ok FROM valid) AS token_ok, EXISTS (SELECT 1 FROM claimed) AS claimed,
                   EXISTS (SELECT 1 FROM locked) AS found,
                   (SELECT assignment_id FROM locked) AS assignment_id""",
        team_id, client_id, incident_id, action, token_hash, result)


class Stepped(NamedTuple):
    """What `apply_step` moved: the incident and the team as they now are (the columns
    of db.incidents.get_incident and of db.teams.get_team)."""

    incident: dict
    team: dict


async def apply_step(conn: asyncpg.Connection, *, team_id: int, incident_id: int,
                     assignment_id: int, incident_move: tuple[str, tuple[str, ...]],
                     team_move: tuple[str, tuple[str, ...]], stamp: str | None,
                     at: datetime | None, acknowledged_via: str | None, end: bool,
                     gps_fresh_s: int) -> Stepped | None:
    """A responder's step, claimed by claim_step, in one round trip: move the incident
    and the team, each to its target only if it is in one of its sources ((target,
    sources)), stamping `stamp` at `at`; with `acknowledged_via` (`app`, `sms`), the
    assignment's first acknowledgement (time and channel kept) and the team reached now
    by it; with `end`, the assignment ends completed and the incident is returned
    teamless.

    None when the incident or the team was in none of its sources: the statement may
    have moved the other, so the caller must not commit (it raises, and rolls back).
    """
    (incident_target, incident_sources), (team_target, team_sources) = incident_move, team_move
    stamped = f", {incidents_db.stamp_sql(stamp, at='$4')}" if stamp is not None else ""
    row = await conn.fetchrow(
        f"""WITH assignment AS (
                   UPDATE assignments a
                   SET ended_at = CASE WHEN $10 THEN now() ELSE a.ended_at END,
                       end_reason = CASE WHEN $10 THEN 'completed' ELSE a.end_reason END,
                       acknowledged_at = CASE WHEN $11::text IS NULL THEN a.acknowledged_at
                           ELSE coalesce(a.acknowledged_at,
                                         greatest(coalesce($4, now()), a.created_at)) END,
                       acknowledged_via = coalesce(a.acknowledged_via, $11::text)
                   WHERE a.id = $9 AND a.ended_at IS NULL AND ($10 OR $11::text IS NOT NULL)
                   RETURNING a.id),
                 team AS (
                   UPDATE teams t SET {MOVED.format(target="$7", via="$11::text")}
                   WHERE t.id = $2 AND t.status = ANY($8)
                   RETURNING t AS moved_team, {ON_DUTY} AS moved_on_duty,
                             (t.fix_at IS NOT NULL
                              AND t.fix_at > now() - make_interval(secs => $1))
                               AS moved_fix_fresh),
                 incident AS (
                   UPDATE incidents i SET status = $5{stamped}
                   WHERE i.id = $3 AND i.status = ANY($6)
                   -- The team stays the incident's until its step ends the assignment
                   -- (the subquery of RETURNED_COLUMNS cannot see this statement's end).
                   RETURNING {incidents_db.returned_columns_sent(
                       "CASE WHEN $10 THEN NULL ELSE $2::bigint END")})
            SELECT incident.*, team.*
            FROM (VALUES (1)) AS one (x) LEFT JOIN incident ON true LEFT JOIN team ON true""",
        float(gps_fresh_s), team_id, incident_id, at, incident_target, list(incident_sources),
        team_target, list(team_sources), assignment_id, end, acknowledged_via)
    if row["id"] is None or row["moved_team"] is None:
        return None
    team = team_dict(row["moved_team"], on_duty=row["moved_on_duty"],
                     fix_fresh=row["moved_fix_fresh"])
    incident = {key: value for key, value in row.items() if not key.startswith("moved_")}
    return Stepped(incident, team)


async def get_client_id_result(conn: asyncpg.Connection, team_id: int,
                               client_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT incident_id, action, result FROM status_requests
           WHERE team_id = $1 AND client_id = $2""", team_id, client_id)


