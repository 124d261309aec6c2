"""Incidents and their guarded status changes."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db import locks

# Columns a transition may stamp; the name is interpolated, so only these pass.
# The step times of an incident in the order the steps follow each other. A step's time
# is never before an earlier step's (a phone's clock may lag the server's).
TIMELINE = ("received_at", "assigned_at", "acknowledged_at", "en_route_at", "on_scene_at",
            "transporting_at", "at_hospital_at", "closed_at")
STAMP_COLUMNS = frozenset(TIMELINE[1:]) | {"cancelled_at"}

# What allocation and status steps need of a locked incident.
LOCKED_COLUMNS = "id, lat, lon, priority, required_kind, status, address, complaint"

# An incident row `i` as every read returns it; {district}: its kecamatan's name.
_INCIDENT_FIELDS = """
    i.id, i.call_id, i.caller_number, i.lat, i.lon, i.district_id, {district} AS district,
    i.address, i.complaint, i.priority, i.required_kind, i.patients, i.notes, i.status,
    i.received_at, i.created_at, i.assigned_at, i.acknowledged_at, i.en_route_at,
    i.on_scene_at, i.transporting_at, i.at_hospital_at, i.closed_at, i.cancelled_at,
    i.cancel_reason, i.created_by, {team} AS team_id,
    (SELECT count(*) FROM calls c WHERE c.incident_id = i.id)::int
        + (i.call_id IS NULL)::int AS call_count
"""
_ACTIVE_TEAM = """(SELECT a.team_id FROM assignments a
                   WHERE a.incident_id = i.id AND a.ended_at IS NULL)"""
_DISTRICT_NAME = "(SELECT d.name FROM districts d WHERE d.id = i.district_id)"
# In a SELECT that LEFT JOINs districts d.
INCIDENT_COLUMNS = _INCIDENT_FIELDS.format(district="d.name", team=_ACTIVE_TEAM)
# In a RETURNING clause, which cannot join: the row a statement just wrote, as a read
# would return it (its subqueries see what earlier statements of the transaction did).
RETURNED_COLUMNS = _INCIDENT_FIELDS.format(district=_DISTRICT_NAME, team=_ACTIVE_TEAM)


def returned_columns_sent(team: str) -> str:
    """RETURNED_COLUMNS of an incident whose team `team` (an SQL expression) was sent by
    the same statement: its subqueries cannot see the assignment that statement writes."""
    return _INCIDENT_FIELDS.format(district=_DISTRICT_NAME, team=team)


# The great-circle distance in metres from ($1, $2) to the incident i (mean Earth radius).
_DISTANCE_M = """2 * 6371008.8 * asin(least(1, sqrt(
    power(sin(radians(i.lat - $1) / 2), 2)
    + cos(radians($1)) * cos(radians(i.lat)) * power(sin(radians(i.lon - $2) / 2), 2))))"""



async def insert_incident(conn: asyncpg.Connection, *, call_id: int | None,
                          caller_number: str | None,
                          lat: float, lon: float, district_id: int | None, address: str,
                          complaint: str, priority: int, required_kind: str | None,
                          patients: int, notes: str, received_at: datetime | None,
                          created_by: str, kelurahan_id: int | None = None,
                          idempotency: tuple[str, str] | None = None) -> asyncpg.Record:
    """Insert a queued incident; `received_at` None means now. Returns it as
    get_incident does, except that a call linked to it afterwards is not counted yet.
    `idempotency` (actor, key): the key this request claimed now names the incident,
    in the same statement."""
    return await conn.fetchrow(
        f"""WITH i AS (
              INSERT INTO incidents (call_id, caller_number, lat, lon, district_id, address,
                  complaint, priority, required_kind, patients, notes, status, received_at,
                  created_by, kelurahan_id)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued',
                      coalesce($12, now()), $13, $14)
              RETURNING *),
            keyed AS (UPDATE idempotency_keys k SET incident_id = i.id FROM i
                      WHERE k.actor = $15 AND k.key = $16)
            SELECT {INCIDENT_COLUMNS} FROM i LEFT JOIN districts d ON d.id = i.district_id""",
        call_id, caller_number, lat, lon, district_id, address, complaint, priority,
        required_kind, patients, notes, received_at, created_by, kelurahan_id,
        *(idempotency or (None, None)))


async def get_incident(conn: asyncpg.Connection, incident_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""SELECT {INCIDENT_COLUMNS} FROM incidents i
            LEFT JOIN districts d ON d.id = i.district_id WHERE i.id = $1""", incident_id)


async def get_incident_summary(conn: asyncpg.Connection,
                               incident_id: int) -> asyncpg.Record | None:
    """Status, priority and district of the incident with its active assignment's id,
    team, ETA, distance and ETA source (None each when it has none), in one read."""
    return await conn.fetchrow(
        """SELECT i.status, i.priority, d.name AS district, a.id AS assignment_id,
                  a.team_id, a.eta_s, a.distance_m, a.eta_source
           FROM incidents i
           LEFT JOIN districts d ON d.id = i.district_id
           LEFT JOIN assignments a ON a.incident_id = i.id AND a.ended_at IS NULL
           WHERE i.id = $1""", incident_id)


async def get_incidents(conn: asyncpg.Connection, *, active: bool | None,
                        limit: int = 500) -> list[asyncpg.Record]:
    """Incidents, most urgent first: priority, then age. `active` None: all."""
    return await conn.fetch(
        f"""SELECT {INCIDENT_COLUMNS} FROM incidents i
            LEFT JOIN districts d ON d.id = i.district_id
            WHERE $1::boolean IS NULL
               OR (i.status NOT IN ('closed', 'cancelled')) = $1::boolean
            ORDER BY (i.status IN ('closed', 'cancelled')), i.priority, i.received_at
            LIMIT $2""", active, limit)


def stamp_sql(stamp: str, at: str = "$4") -> str:
    """`stamp` = the step's time (`at`: the parameter holding it, now when NULL), never
    before an earlier step's time; its first value is kept, so a re-dispatch does not
    rewrite when the incident was first assigned."""
    if stamp not in STAMP_COLUMNS:
        raise ValueError(f"not a stamp column: {stamp}")
    earlier = TIMELINE[:TIMELINE.index(stamp)] if stamp in TIMELINE else TIMELINE[:1]
    return f"{stamp} = coalesce({stamp}, greatest(coalesce({at}, now()), {', '.join(earlier)}))"


async def update_incident_status(conn: asyncpg.Connection, incident_id: int, target: str,
                                 sources: tuple[str, ...], *, stamp: str | None = None,
                                 at: datetime | None = None, clear: tuple[str, ...] = (),
                                 sent: tuple[int, datetime] | None = None
                                 ) -> asyncpg.Record | None:
    """Move the incident to `target` only if it is in one of `sources` and return it as
    get_incident does; None otherwise.

    `stamp` names the time column of this step (see stamp_sql); `clear` names step
    times to forget (a withdrawn team's acknowledgement and departure); `sent` (team id,
    when) is an allocation's team, remembered as the one whose steps the incident's
    times describe (reports measure a reassigned incident with the team that arrived).
    """
    sets = [f"{column} = NULL" for column in clear if column in STAMP_COLUMNS]
    params: list = [incident_id, target, list(sources)]
    if stamp is not None:
        sets.append(stamp_sql(stamp))  # $4
        params.append(at)
    if sent is not None:
        sets.append(f"last_team_id = ${len(params) + 1}, last_assigned_at = "
                    f"${len(params) + 2}, assignment_count = assignment_count + 1")
        params.extend(sent)
    return await conn.fetchrow(
        f"""UPDATE incidents i SET {', '.join(['status = $2', *sets])}
            WHERE i.id = $1 AND i.status = ANY($3) RETURNING {RETURNED_COLUMNS}""", *params)


async def set_cancel_reason(conn: asyncpg.Connection, incident_id: int, reason: str) -> None:
    await conn.execute("UPDATE incidents SET cancel_reason = $2 WHERE id = $1",
                       incident_id, reason)


async def lock_queue(conn: asyncpg.Connection) -> None:
    """Wait for the queue-serving lock, held until the transaction ends: one queue
    server at a time across all instances, so that two servers never hand a freed
    team to a younger incident past an older one."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", locks.QUEUE)


async def any_queued(conn: asyncpg.Connection) -> bool:
    """Whether any incident waits in the queue (its partial index: nothing to read
    when none does)."""
    return await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM incidents WHERE status = 'queued')")


async def lock_next_queued(conn: asyncpg.Connection,
                           skip: list[int]) -> asyncpg.Record | None:
    """The most urgent queued incident not in `skip` and not being served by another
    transaction right now, locked."""
    return await conn.fetchrow(
        f"""SELECT {LOCKED_COLUMNS} FROM incidents
            WHERE status = 'queued' AND id <> ALL($1) ORDER BY priority, received_at
            LIMIT 1 FOR UPDATE SKIP LOCKED""", skip)


async def lock_incident(conn: asyncpg.Connection, incident_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {LOCKED_COLUMNS} FROM incidents WHERE id = $1 FOR UPDATE", incident_id)


async def lock_incident_nowait(conn: asyncpg.Connection,
                               incident_id: int) -> asyncpg.Record | None:
    """The incident locked, or None when another transaction is working on it."""
    return await conn.fetchrow(
        f"SELECT {LOCKED_COLUMNS} FROM incidents WHERE id = $1 FOR UPDATE SKIP LOCKED",
        incident_id)


async def claim_idempotency_key(conn: asyncpg.Connection, actor: str, key: str,
                                request_hash: bytes) -> bool:
    """Claim `key` for this request. False when it was used before (the caller then
    looks the first incident up). A concurrent claim waits for the first to commit."""
    status = await conn.execute(
        """INSERT INTO idempotency_keys (actor, key, request_hash) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING""", actor, key, request_hash)
    return status.endswith(" 1")


async def get_idempotency_key(conn: asyncpg.Connection, actor: str,
                              key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT request_hash, incident_id FROM idempotency_keys
           WHERE actor = $1 AND key = $2""", actor, key)


async def get_possible_duplicates(conn: asyncpg.Connection, lat: float | None,
                                  lon: float | None, number: str | None, *, radius_m: float,
                                  since: datetime, limit: int) -> list[asyncpg.Record]:
    """Active incidents that may be the same emergency: received since `since` within
    `radius_m` of (lat, lon), or from `number`; same number first, then nearest.
    Each row adds `distance_m` (None without a position), `near` and `same_number`.
    Closed and cancelled incidents are never offered (index incidents_active)."""
    return await conn.fetch(
        f"""SELECT * FROM (
                SELECT {INCIDENT_COLUMNS},
                       CASE WHEN $1::float8 IS NULL THEN NULL ELSE {_DISTANCE_M} END
                           AS distance_m
                FROM incidents i LEFT JOIN districts d ON d.id = i.district_id
                WHERE i.status NOT IN ('closed', 'cancelled')) i
            CROSS JOIN LATERAL (SELECT
                coalesce(i.distance_m <= $3 AND i.received_at >= $4, false) AS near,
                coalesce(i.caller_number = $5, false) AS same_number) m
            WHERE m.near OR m.same_number
            ORDER BY m.same_number DESC, i.distance_m NULLS LAST, i.received_at DESC
            LIMIT $6""", lat, lon, radius_m, since, number, limit)


async def get_incidents_by_number(conn: asyncpg.Connection, number: str, since: datetime,
                                  limit: int) -> list[asyncpg.Record]:
    """Incidents reported from `number` since `since`, newest first."""
    return await conn.fetch(
        f"""SELECT {INCIDENT_COLUMNS} FROM incidents i
            LEFT JOIN districts d ON d.id = i.district_id
            WHERE i.caller_number = $1 AND i.received_at >= $2
            ORDER BY i.received_at DESC, i.id DESC LIMIT $3""", number, since, limit)


async def has_active_incident(conn: asyncpg.Connection, number: str) -> bool:
    """Whether an active incident was reported from `number`, or a call from it is tied
    to one (a duplicate caller): the never-block rule."""
    return await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM incidents WHERE caller_number = $1
                          AND status NOT IN ('closed', 'cancelled'))
               OR EXISTS (SELECT 1 FROM calls c JOIN incidents i ON i.id = c.incident_id
                          WHERE c.caller_number = $1
                            AND i.status NOT IN ('closed', 'cancelled'))""", number)


async def anonymise_incidents(conn: asyncpg.Connection, before: datetime, limit: int) -> int:
    """Remove the caller numbers of up to `limit` ended incidents received before
    `before`; how many."""
    status = await conn.execute(
        """UPDATE incidents SET caller_number = NULL, anonymised_at = now()
           WHERE id IN (SELECT id FROM incidents WHERE received_at < $1
                        AND caller_number IS NOT NULL
                        AND status IN ('closed', 'cancelled')
                        ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED)""",
        before, limit)
    return int(status.split()[-1])
