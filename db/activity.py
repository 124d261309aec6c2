"""Activity reports: the teams' workload over their shifts, the time no team was free,
calls by local hour and weekday with their dispositions and call-backs, the 112
lines' states and failovers.

Every function reads the period [start, end) (UTC instants). The time-weighted ones
(workload, lines) expect `end` cut at now by the caller: time not lived yet is neither
busy nor free, up nor down. Time sets are PostgreSQL multiranges: a team's on-duty
time is the union of its shifts, its busy time the union of its assignments, each from
its creation to its end (or `end` while still active). Definitions: docs/reports.md.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

EMPTY = "'{}'::tstzmultirange"


def _seconds(multirange: str) -> str:
    """Total length, in seconds, of a bounded multirange expression."""
    return (f"coalesce((SELECT sum(extract(epoch FROM upper(piece) - lower(piece)))"
            f" FROM unnest({multirange}) piece), 0)::float8")


def _local_range(start: str, end: str, zone: str) -> str:
    """The instants between two local timestamps (never reversed, e.g. across a
    daylight-saving jump)."""
    return (f"tstzrange(({start}) AT TIME ZONE {zone},"
            f" greatest(({start}) AT TIME ZONE {zone}, ({end}) AT TIME ZONE {zone}))")


# $1 start, $2 end (cut at now). `load`: every team on shift or sent during the
# period, with its on-duty time and its busy time, both clipped to the period and the
# busy time to the team's shifts. `work` is not clipped: free = on duty minus busy.
_LOAD = f"""
    period AS (SELECT tstzmultirange(tstzrange($1, $2)) AS mr),
    duty AS (
        SELECT s.team_id,
               range_agg(tstzrange(s.starts_at, s.ends_at)) * (SELECT mr FROM period) AS on_duty
        FROM shifts s WHERE s.starts_at < $2 AND s.ends_at > $1 GROUP BY s.team_id),
    work AS (
        SELECT a.team_id, range_agg(tstzrange(
                   a.created_at, greatest(a.created_at, least(coalesce(a.ended_at, $2), $2))
               )) AS busy
        FROM assignments a
        WHERE a.created_at < $2 AND (a.ended_at IS NULL OR a.ended_at > $1)
        GROUP BY a.team_id),
    load AS (
        SELECT t.id AS team_id, t.code, t.kind, coalesce(d.on_duty, {EMPTY}) AS on_duty,
               coalesce(d.on_duty * w.busy, {EMPTY}) AS busy
        FROM teams t LEFT JOIN duty d ON d.team_id = t.id LEFT JOIN work w ON w.team_id = t.id
        WHERE d.team_id IS NOT NULL OR w.team_id IS NOT NULL),
    none_free AS (
        SELECT unnest((SELECT mr FROM period) - coalesce(
            (SELECT range_agg(free) FROM (
                SELECT unnest(d.on_duty - coalesce(w.busy, {EMPTY})) AS free
                FROM duty d LEFT JOIN work w ON w.team_id = d.team_id) f), {EMPTY})) AS r)"""

# $3 time zone, $4 shift names, $5 their local starting hours (ascending). A shift
# runs from its start to the next one's; the last to the first one's of the next day.
_SHIFT_DEFS = """
    shift_defs AS (
        SELECT name, start_h, coalesce(lead(start_h) OVER (ORDER BY start_h),
                                       min(start_h) OVER () + 24) AS end_h
        FROM unnest($4::text[], $5::int[]) s(name, start_h))"""


async def get_team_workload(conn: asyncpg.Connection, start: datetime,
                            end: datetime) -> list[asyncpg.Record]:
    """Per team on shift or sent in [start, end): code, kind, `incidents` (distinct
    incidents it was sent to, assignments created in the period), `busy_s` (busy time
    inside its shifts) and `on_shift_s`, ordered by code."""
    return await conn.fetch(
        f"""WITH {_LOAD},
            sent AS (SELECT team_id, count(DISTINCT incident_id) AS incidents
                     FROM assignments WHERE created_at >= $1 AND created_at < $2
                     GROUP BY team_id)
            SELECT l.code, l.kind, coalesce(s.incidents, 0) AS incidents,
                   {_seconds('l.busy')} AS busy_s, {_seconds('l.on_duty')} AS on_shift_s
            FROM load l LEFT JOIN sent s ON s.team_id = l.team_id ORDER BY l.code""",
        start, end)


async def get_shift_workload(conn: asyncpg.Connection, start: datetime, end: datetime, *,
                             timezone: str, shifts: list[str],
                             shift_starts: list[int]) -> list[asyncpg.Record]:
    """Per shift name (every one of `shifts`, in order of starting hour): busy and
    on-shift seconds of all teams that fell inside that shift's local hours, and the
    distinct incidents sent (assignments created) during them."""
    window = _local_range("day + make_interval(hours => sd.start_h)",
                          "day + make_interval(hours => sd.end_h)", "$3")
    return await conn.fetch(
        f"""WITH {_LOAD}, {_SHIFT_DEFS},
            pieces AS (
                SELECT 'busy' AS what, unnest(busy) AS r FROM load
                UNION ALL SELECT 'on_shift', unnest(on_duty) FROM load),
            cut AS (
                SELECT sd.name, p.what, p.r * {window} AS piece
                FROM pieces p
                CROSS JOIN LATERAL generate_series(
                    date_trunc('day', lower(p.r) AT TIME ZONE $3) - interval '1 day',
                    date_trunc('day', upper(p.r) AT TIME ZONE $3), interval '1 day') AS day
                CROSS JOIN shift_defs sd),
            sent AS (
                SELECT a.incident_id, coalesce(
                    (SELECT sd.name FROM shift_defs sd
                     WHERE sd.start_h <= extract(hour FROM a.created_at AT TIME ZONE $3)
                     ORDER BY sd.start_h DESC LIMIT 1),
                    (SELECT sd.name FROM shift_defs sd ORDER BY sd.start_h DESC LIMIT 1))
                    AS name
                FROM assignments a WHERE a.created_at >= $1 AND a.created_at < $2),
            seconds AS (
                SELECT name,
                       sum(extract(epoch FROM upper(piece) - lower(piece)))
                           FILTER (WHERE what = 'busy') AS busy_s,
                       sum(extract(epoch FROM upper(piece) - lower(piece)))
                           FILTER (WHERE what = 'on_shift') AS on_shift_s
                FROM cut WHERE NOT isempty(piece) GROUP BY name),
            counts AS (SELECT name, count(DISTINCT incident_id) AS incidents
                       FROM sent GROUP BY name)
            SELECT sd.name AS shift, coalesce(n.incidents, 0) AS incidents,
                   coalesce(s.busy_s, 0)::float8 AS busy_s,
                   coalesce(s.on_shift_s, 0)::float8 AS on_shift_s
            FROM shift_defs sd LEFT JOIN seconds s ON s.name = sd.name
                 LEFT JOIN counts n ON n.name = sd.name
            ORDER BY sd.start_h""",
        start, end, timezone, shifts, shift_starts)


async def get_no_team_free(conn: asyncpg.Connection, start: datetime, end: datetime,
                           limit: int) -> list[asyncpg.Record]:
    """The intervals of [start, end) in which no team was free (each on-duty team busy,
    or none on duty), the `limit` longest first: start, end, duration_s, with the
    total seconds and count of all of them repeated on each row (total_s, n)."""
    return await conn.fetch(
        f"""WITH {_LOAD}
            SELECT lower(r) AS start, upper(r) AS end,
                   extract(epoch FROM upper(r) - lower(r))::float8 AS duration_s,
                   (sum(extract(epoch FROM upper(r) - lower(r))) OVER ())::float8 AS total_s,
                   count(*) OVER () AS n
            FROM none_free ORDER BY duration_s DESC, start LIMIT $3""",
        start, end, limit)


async def get_no_team_free_hours(conn: asyncpg.Connection, start: datetime, end: datetime,
                                 timezone: str) -> list[asyncpg.Record]:
    """Seconds with no team free per local (ISO weekday, hour) cell; cells with none
    are left out."""
    hour = _local_range("h", "h + interval '1 hour'", "$3")
    return await conn.fetch(
        f"""WITH {_LOAD}
            SELECT extract(isodow FROM h)::int AS weekday, extract(hour FROM h)::int AS hour,
                   sum(extract(epoch FROM upper(x) - lower(x)))::float8 AS seconds
            FROM none_free nf
            CROSS JOIN LATERAL generate_series(date_trunc('hour', lower(nf.r) AT TIME ZONE $3),
                                               upper(nf.r) AT TIME ZONE $3,
                                               interval '1 hour') AS h
            CROSS JOIN LATERAL (SELECT nf.r * {hour} AS x) cut
            WHERE NOT isempty(x) GROUP BY 1, 2 ORDER BY 1, 2""",
        start, end, timezone)


# --- calls ------------------------------------------------------------------------------

async def get_call_counts(conn: asyncpg.Connection, start: datetime, end: datetime,
                          timezone: str) -> list[asyncpg.Record]:
    """Calls received in [start, end) per local (ISO weekday, hour); empty cells left
    out."""
    return await conn.fetch(
        """SELECT extract(isodow FROM received_at AT TIME ZONE $3)::int AS weekday,
                  extract(hour FROM received_at AT TIME ZONE $3)::int AS hour,
                  count(*) AS count
           FROM calls WHERE received_at >= $1 AND received_at < $2
           GROUP BY 1, 2 ORDER BY 1, 2""", start, end, timezone)


async def get_call_dispositions(conn: asyncpg.Connection, start: datetime,
                                end: datetime) -> list[asyncpg.Record]:
    """(disposition, count) of calls received in [start, end); disposition NULL for
    calls still open."""
    return await conn.fetch(
        """SELECT disposition, count(*) AS count FROM calls
           WHERE received_at >= $1 AND received_at < $2
           GROUP BY disposition ORDER BY disposition NULLS FIRST""", start, end)


async def get_dropped_calls(conn: asyncpg.Connection, start: datetime,
                            end: datetime) -> asyncpg.Record:
    """Dropped calls received in [start, end): `dropped`, `called_back` (call-back
    done), and over those called back the delay done_at - dropped_at: n, p ([p50, p90],
    percentile_cont: linear between closest ranks) and max, in seconds."""
    return await conn.fetchrow(
        """WITH d AS (
               SELECT b.done_at, extract(epoch FROM b.done_at - b.dropped_at)::float8 AS delay
               FROM calls c LEFT JOIN callbacks b ON b.call_id = c.id
               WHERE c.received_at >= $1 AND c.received_at < $2 AND c.disposition = 'dropped')
           SELECT count(*) AS dropped, count(done_at) AS called_back, count(delay) AS n,
                  percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY delay) AS p,
                  max(delay) AS max
           FROM d""", start, end)


# --- lines ------------------------------------------------------------------------------

async def get_line_seconds(conn: asyncpg.Connection, start: datetime,
                           end: datetime) -> list[asyncpg.Record]:
    """Every line (primary first) with its seconds `up_s`, `down_s`, `unknown_s` in
    [start, end) (cut at now). A line's state holds from its history row until its
    next; at `start` it is that of its last row before, else unknown."""
    return await conn.fetch(
        """WITH seed AS (
               SELECT l.id AS line_id, $1::timestamptz AS at, 0::bigint AS id, coalesce(
                   (SELECT e.state FROM line_events e WHERE e.line_id = l.id AND e.at < $1
                    ORDER BY e.at DESC, e.id DESC LIMIT 1), 'unknown') AS state
               FROM lines l),
           steps AS (
               SELECT line_id, at, id, state FROM seed
               UNION ALL SELECT line_id, at, id, state FROM line_events
               WHERE at >= $1 AND at < $2),
           spans AS (
               SELECT line_id, state, extract(epoch FROM lead(at, 1, $2)
                          OVER (PARTITION BY line_id ORDER BY at, id) - at)::float8 AS seconds
               FROM steps)
           SELECT l.id AS line_id, l.number, l.label, l.priority,
                  coalesce(sum(s.seconds) FILTER (WHERE s.state = 'up'), 0) AS up_s,
                  coalesce(sum(s.seconds) FILTER (WHERE s.state = 'down'), 0) AS down_s,
                  coalesce(sum(s.seconds) FILTER (WHERE s.state = 'unknown'), 0) AS unknown_s
           FROM lines l LEFT JOIN spans s ON s.line_id = l.id
           GROUP BY l.id ORDER BY l.priority, l.id""", start, end)


async def get_critical_seconds(conn: asyncpg.Connection, start: datetime,
                               end: datetime) -> float:
    """Seconds of [start, end) (cut at now) with the critical alarm on: each history
    row's `critical` holds until the next row; at `start`, that of the last row before
    (else off)."""
    return await conn.fetchval(
        """WITH steps AS (
               SELECT $1::timestamptz AS at, 0::bigint AS id, coalesce(
                   (SELECT critical FROM line_events WHERE at < $1
                    ORDER BY at DESC, id DESC LIMIT 1), false) AS critical
               UNION ALL SELECT at, id, critical FROM line_events WHERE at >= $1 AND at < $2),
           spans AS (
               SELECT critical, extract(epoch FROM lead(at, 1, $2) OVER (ORDER BY at, id) - at)
                   AS seconds FROM steps)
           SELECT coalesce(sum(seconds) FILTER (WHERE critical), 0)::float8 FROM spans""",
        start, end)


async def get_failovers(conn: asyncpg.Connection, start: datetime,
                        end: datetime) -> list[asyncpg.Record]:
    """Changes of the active line in [start, end) to a line other than the primary
    (lowest priority, then lowest id), oldest first: at, from_line_id, to_line_id,
    reason, and `duration_s` until the active line was the primary again (looked for
    past `end` too; NULL while it is not back)."""
    return await conn.fetch(
        """WITH primary_line AS (SELECT id FROM lines ORDER BY priority, id LIMIT 1),
           history AS (
               SELECT id, at, active_line_id, reason,
                      lag(active_line_id) OVER (ORDER BY at, id) AS previous
               FROM line_events),
           changes AS (
               SELECT h.* FROM history h
               WHERE h.at >= $1 AND h.at < $2 AND h.previous IS NOT NULL
                 AND h.active_line_id IS DISTINCT FROM h.previous
                 AND h.active_line_id IS DISTINCT FROM (SELECT id FROM primary_line))
           SELECT c.at, c.previous AS from_line_id, c.active_line_id AS to_line_id, c.reason,
                  extract(epoch FROM (
                      SELECT min(b.at) FROM history b
                      WHERE (b.at, b.id) > (c.at, c.id)
                        AND b.active_line_id = (SELECT id FROM primary_line)) - c.at)::float8
                      AS duration_s
           FROM changes c ORDER BY c.at, c.id""", start, end)
