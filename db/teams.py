"""Teams, their shifts and positions."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db.tokens import TOKEN_OK

# Whether team `t` is on duty: now falls inside one of its shifts.
ON_DUTY = """EXISTS (SELECT 1 FROM shifts s WHERE s.team_id = t.id
                        AND s.starts_at <= now() AND s.ends_at > now())"""
TEAM_COLUMNS = f"""
    t.id, t.code, t.name, t.kind, t.status, t.base_name, t.base_lat, t.base_lon, t.phone,
    t.fix_lat, t.fix_lon, t.fix_accuracy_m, t.fix_at, t.status_changed_at,
    t.device_seen_at, t.signal_lost_at, t.sms_numbers, t.reached_via, t.reached_at,
    {ON_DUTY} AS on_duty,
    (t.fix_at IS NOT NULL AND t.fix_at > now() - make_interval(secs => $1)) AS fix_fresh
"""

# The SET of a team's guarded move to {target}; with {via} (not NULL), reached now by it.
MOVED = """status = {target}, status_changed_at = now(),
    reached_via = coalesce({via}, t.reached_via),
    reached_at = CASE WHEN {via} IS NULL THEN t.reached_at ELSE now() END"""


def team_dict(row: asyncpg.Record, *, on_duty: bool, fix_fresh: bool) -> dict:
    """A whole `teams` row (a statement's composite), as get_team reads it, less the
    PIN's hash: nothing downstream may carry it."""
    team = {key: value for key, value in row.items() if key != "pin_hash"}
    team.update(on_duty=on_duty, fix_fresh=fix_fresh)
    return team


async def insert_team(conn: asyncpg.Connection, *, code: str, name: str, kind: str,
                      base_lat: float, base_lon: float, base_name: str, pin_hash: str,
                      phone: str | None) -> int | None:
    """Insert a team; None when the code is taken."""
    return await conn.fetchval(
        """INSERT INTO teams (code, name, kind, base_lat, base_lon, base_name, pin_hash, phone)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (code) DO NOTHING RETURNING id""",
        code, name, kind, base_lat, base_lon, base_name, pin_hash, phone)


async def get_team(conn: asyncpg.Connection, team_id: int,
                   gps_fresh_s: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {TEAM_COLUMNS} FROM teams t WHERE t.id = $2", float(gps_fresh_s), team_id)


async def get_teams(conn: asyncpg.Connection, gps_fresh_s: int) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {TEAM_COLUMNS} FROM teams t ORDER BY t.code",
                            float(gps_fresh_s))


async def get_team_login(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT id, code, pin_hash FROM teams WHERE code = $1", code)


async def update_team_pin(conn: asyncpg.Connection, team_id: int, pin_hash: str) -> bool:
    """Set the team's PIN hash; False when there is no such team."""
    status = await conn.execute("UPDATE teams SET pin_hash = $2 WHERE id = $1", team_id,
                                pin_hash)
    return status.endswith(" 1")


async def get_candidate_teams(conn: asyncpg.Connection, *, kinds: list[str], gps_fresh_s: int,
                              exclude: list[int], day_start: datetime,
                              near: tuple[float, float] | None = None,
                              limit: int | None = None) -> list[asyncpg.Record]:
    """Teams that may be sent now: on shift, available, of one of `kinds`, not excluded.

    Returns the position to route from (fresh GPS fix, else base) and the number
    of assignments since `day_start`, the tie-breaker between equally near teams.
    With `near` and `limit`: only the `limit` nearest to `near` (lat, lon) on a flat
    approximation (`planar_m` metres, the same order as the great circle's within a
    city) and any as near as the last of them, nearest first, ties by assignments
    today and code.
    """
    lat, lon = near if near is not None else (0.0, 0.0)
    # The cut by distance comes first and keeps every team as near as the last one kept
    # (WITH TIES: a hospital's teams share a base), so that the assignments of today,
    # an index probe per team, are counted for those only, not for the whole fleet.
    # Whether a team is on duty is asked nearest first, after the sort (OFFSET 0 keeps
    # it out of the scan), until the cut is reached: a hundred index probes, where
    # joining every team's shifts before sorting was most of the query at 5,000 teams.
    return await conn.fetch(
        f"""SELECT c.*, (SELECT count(*) FROM assignments a
                         WHERE a.team_id = c.id AND a.created_at >= $4) AS today
           FROM (SELECT * FROM (
                   SELECT t.id, t.code, fresh AS gps, p.lat, p.lon,
                          sqrt((p.lat - $5) ^ 2 + ((p.lon - $6) * cos(radians($5))) ^ 2)
                          * 111195.0 AS planar_m
                   FROM teams t
                   CROSS JOIN LATERAL (SELECT t.fix_at IS NOT NULL
                                       AND t.fix_at > now() - make_interval(secs => $2)) f(fresh)
                   CROSS JOIN LATERAL (SELECT CASE WHEN fresh THEN t.fix_lat ELSE t.base_lat END,
                                              CASE WHEN fresh THEN t.fix_lon ELSE t.base_lon END
                                      ) p(lat, lon)
                   WHERE t.status = 'available' AND t.kind = ANY($1) AND t.id <> ALL($3)
                   ORDER BY planar_m OFFSET 0) t
                 WHERE {ON_DUTY}
                 ORDER BY planar_m FETCH FIRST $7 ROWS WITH TIES) c
           ORDER BY c.planar_m, today, c.code""",
        kinds, float(gps_fresh_s), exclude, day_start, lat, lon, limit)


async def update_team_status(conn: asyncpg.Connection, team_id: int, target: str,
                             sources: tuple[str, ...], gps_fresh_s: int,
                             reached_via: str | None = None) -> asyncpg.Record | None:
    """Move the team to `target` only if it is in one of `sources`; None otherwise.
    Returns the whole team as get_team does: the caller announces it without reading
    it again. With `reached_via`: the team was reached now by that channel (its
    acknowledgement; db.sms.set_team_reached otherwise).

    Under READ COMMITTED a concurrent writer makes this wait, then re-check the
    guard on the committed row: of two racing reservations exactly one wins.
    """
    return await conn.fetchrow(
        f"""UPDATE teams t SET {MOVED.format(target="$3", via="$5::text")}
            WHERE t.id = $2 AND t.status = ANY($4) RETURNING {TEAM_COLUMNS}""",
        float(gps_fresh_s), team_id, target, list(sources), reached_via)


async def store_team_fixes(conn: asyncpg.Connection,
                           fixes: list[tuple]) -> list[asyncpg.Record]:
    """Store GPS fixes, one statement and its own implicit transaction for them all.
    Each fix is (team_id, lat, lon, accuracy_m, at, token_hash), one per team (a team
    twice would update its row once, at random). A fix is stored unless a newer one is
    already (phones replay late) and, with a `token_hash` (a socket's frame), only while
    that token is still valid; a socket's stored fix is its phone heard from
    (`device_seen_at`; an HTTP call does not count as connected: docs/api.md).
    Returns, in order, each fix's `token_ok` and `stored`.
    The fixes are announced later, with others, by take_fixes_to_announce.

    Its commit does not wait for the disk (synchronous_commit off for this transaction
    only): a crash of PostgreSQL may forget the last fraction of a second of fixes, which
    the phones' next fixes replace, while hundreds of fixes a second waiting for the WAL
    flush would hold every incident's commit behind them."""
    return await conn.fetch(
        f"""WITH lazy AS (SELECT set_config('synchronous_commit', 'off', true) AS commit),
                 fix AS MATERIALIZED (
                   SELECT f.*, {TOKEN_OK.format(param="f.token_hash")} AS ok
                   FROM unnest($1::bigint[], $2::float8[], $3::float8[], $4::float8[],
                               $5::timestamptz[], $6::bytea[])
                        WITH ORDINALITY AS f(team_id, lat, lon, accuracy_m, at, token_hash, n)),
                 -- Rows locked in the order of their ids, as every statement that
                 -- updates several teams does: two of them never deadlock.
                 locked AS (SELECT t.id FROM teams t JOIN fix f ON f.team_id = t.id
                            WHERE f.ok ORDER BY t.id FOR UPDATE OF t),
                 stored AS (
                   UPDATE teams t SET fix_lat = f.lat, fix_lon = f.lon,
                                      fix_accuracy_m = f.accuracy_m, fix_at = f.at,
                                      device_seen_at = CASE WHEN f.token_hash IS NULL
                                          THEN t.device_seen_at ELSE now() END
                   FROM fix f JOIN locked l ON l.id = f.team_id
                   WHERE t.id = f.team_id AND (t.fix_at IS NULL OR t.fix_at <= f.at)
                   RETURNING t.id)
            SELECT f.ok AS token_ok, f.team_id IN (SELECT id FROM stored) AS stored
            FROM fix f, lazy ORDER BY f.n""",
        *(list(column) for column in zip(*fixes, strict=True)))


async def take_fixes_to_announce(conn: asyncpg.Connection, announce_every_s: float,
                                 gps_fresh_s: int, team_ids: list[int] | None = None,
                                 limit: int = 5000) -> list[asyncpg.Record]:
    """Teams whose latest fix is not announced yet and may be now, marked announced, as
    whole teams (the caller emits the events in the same transaction); among `team_ids`
    only (by the primary key) when given, else every team. A fix may be announced when
    the last announced one is at least `announce_every_s` older, or once it has itself
    waited that long (the last fix of a burst is always shown). Teams another
    transaction holds are skipped: the next round takes them."""
    among = "" if team_ids is None else "AND id = ANY($4::bigint[])"
    return await conn.fetch(
        f"""WITH due AS MATERIALIZED (
              SELECT id FROM teams
              WHERE fix_at IS NOT NULL {among}
                AND (fix_announced_at IS NULL
                     OR (fix_at > fix_announced_at
                         AND (fix_announced_at <= fix_at - make_interval(secs => $2)
                              OR fix_at <= now() - make_interval(secs => $2))))
              ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
            UPDATE teams t SET fix_announced_at = t.fix_at FROM due WHERE t.id = due.id
            RETURNING {TEAM_COLUMNS}""",
        float(gps_fresh_s), float(announce_every_s), limit,
        *(() if team_ids is None else (team_ids,)))


async def insert_shift(conn: asyncpg.Connection, team_id: int, starts_at: datetime,
                       ends_at: datetime) -> asyncpg.Record:
    return await conn.fetchrow(
        """INSERT INTO shifts (team_id, starts_at, ends_at) VALUES ($1, $2, $3)
           RETURNING id, team_id, starts_at, ends_at""", team_id, starts_at, ends_at)


async def get_shifts(conn: asyncpg.Connection, team_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, team_id, starts_at, ends_at FROM shifts
           WHERE team_id = $1 AND ends_at > now() - interval '1 day' ORDER BY starts_at""",
        team_id)


async def get_shift_starts(conn: asyncpg.Connection, team_id: int,
                           since: datetime) -> set[datetime]:
    """When the team's shifts starting at or after `since` start."""
    rows = await conn.fetch(
        "SELECT starts_at FROM shifts WHERE team_id = $1 AND starts_at >= $2", team_id, since)
    return {row["starts_at"] for row in rows}


async def touch_devices(conn: asyncpg.Connection, team_ids: list[int],
                        unseen_for_s: float | None = None) -> None:
    """Note that these teams' phones are connected now; with `unseen_for_s`, only those
    not heard from for that long (a stored fix counts: most phones need no touch)."""
    await conn.execute(
        """UPDATE teams SET device_seen_at = now()
           WHERE id IN (SELECT id FROM teams WHERE id = ANY($1)
                          AND ($2::float8 IS NULL OR device_seen_at IS NULL
                               OR device_seen_at < now() - make_interval(secs => $2))
                        ORDER BY id FOR UPDATE)""", team_ids, unseen_for_s)


async def clear_signal_lost(conn: asyncpg.Connection,
                            team_ids: list[int]) -> list[asyncpg.Record]:
    """Teams among these that were marked out of signal, now marked back."""
    return await conn.fetch(
        """UPDATE teams SET signal_lost_at = NULL
           WHERE id IN (SELECT id FROM teams WHERE id = ANY($1) AND signal_lost_at IS NOT NULL
                        ORDER BY id FOR UPDATE)
           RETURNING id, code""", team_ids)


async def mark_signal_lost(conn: asyncpg.Connection, silent_s: int) -> list[asyncpg.Record]:
    """Mark on-duty teams whose phone has not been heard for `silent_s` seconds."""
    return await conn.fetch(
        f"""UPDATE teams SET signal_lost_at = now()
           WHERE id IN (SELECT t.id FROM teams t
                        WHERE t.signal_lost_at IS NULL AND t.device_seen_at IS NOT NULL
                          AND t.device_seen_at < now() - make_interval(secs => $1)
                          AND {ON_DUTY}
                        ORDER BY t.id FOR UPDATE)
           RETURNING id, code, device_seen_at""", float(silent_s))
