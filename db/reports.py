"""The response-time reports: each incident's intervals, grouped and summarised.

One table is read (incidents, with its kecamatan, kelurahan and last team) through
its index on received_at; every interval is a column PostgreSQL keeps (migration
0007), shared by the summaries and the per-incident log. Definitions: docs/reports.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg

# Seconds between two step times of an incident, as columns PostgreSQL keeps (generated
# in migration 0007, the definitions of docs/reports.md): NULL while either end is
# missing, so an incident counts in an interval only once both ends happened. The
# team's own intervals start at `last_assigned_at`: a reassigned incident is measured
# with the team that arrived, its response from the call.
INTERVALS = ("dispatch_s", "ack_s", "turnout_s", "travel_s", "response_s", "mobilisation_s",
             "on_scene_s", "transport_s", "handover_s", "committed_s")
TIMES = ("received_at", "assigned_at", "last_assigned_at", "acknowledged_at", "en_route_at",
         "on_scene_at", "transporting_at", "at_hospital_at", "closed_at", "cancelled_at")
_LOCAL = "(i.received_at AT TIME ZONE $3::text)"
# Names the types of $3-$5 for groupings that do not use them.
_TYPED = "AND $3::text IS NOT NULL AND $4::text[] IS NOT NULL AND $5::int[] IS NOT NULL"
# The shift of the call: the last shift starting at or before its local hour, else the
# last of the day (the night shift runs past midnight). $4 names, $5 starting hours.
_SHIFT = f"""coalesce(
    (SELECT s.name FROM unnest($4::text[], $5::int[]) s(name, start)
     WHERE s.start <= extract(hour FROM {_LOCAL}) ORDER BY s.start DESC LIMIT 1),
    (SELECT s.name FROM unnest($4::text[], $5::int[]) s(name, start)
     ORDER BY s.start DESC LIMIT 1))"""
GROUPS = {
    None: "'all'",
    "priority": "i.priority::text",
    "district": "coalesce(d.name, '')",
    "kelurahan": "coalesce(k.name, '')",
    "team": "coalesce(t.code, '')",
    "shift": _SHIFT,
    "hour": f"to_char({_LOCAL}, 'HH24')",
    "weekday": f"extract(isodow FROM {_LOCAL})::int::text",
    "week": f"to_char({_LOCAL}, 'IYYY-\"W\"IW')",
    "month": f"to_char({_LOCAL}, 'YYYY-MM')",
}
_FROM = """FROM incidents i
    LEFT JOIN districts d ON d.id = i.district_id
    LEFT JOIN districts k ON k.id = i.kelurahan_id
    LEFT JOIN teams t ON t.id = i.last_team_id
    WHERE i.received_at >= $1 AND i.received_at < $2"""


def _summary_columns() -> str:
    columns = []
    for name in INTERVALS:
        columns += [f"count({name}) AS {name}_n",
                    f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {name}) "
                    f"AS {name}_p", f"max({name}) AS {name}_max", f"avg({name}) AS {name}_mean"]
    return ",\n           ".join(columns)


def _summary_sql(group_by: str | None) -> str:
    intervals = ", ".join(f"i.{name}" for name in INTERVALS)
    return f"""
    WITH r AS (
        SELECT {GROUPS[group_by]} AS key, i.status, i.assignment_count, {intervals}
        {_FROM} {_TYPED})
    SELECT key, GROUPING(key) = 1 AS is_total, count(*) AS count,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
           count(*) FILTER (WHERE status NOT IN ('closed', 'cancelled')) AS open,
           count(*) FILTER (WHERE assignment_count > 1) AS reassigned,
           count(*) FILTER (WHERE assignment_count = 0) AS never_assigned,
           avg((response_s <= $6::float8)::int) FILTER (WHERE response_s IS NOT NULL)
               AS response_share,
           {_summary_columns()}
    FROM r GROUP BY GROUPING SETS ((key), ()) ORDER BY is_total, key"""


async def get_interval_summary(conn: asyncpg.Connection, start: datetime, end: datetime, *,
                               group_by: str | None, timezone: str, shifts: list[str],
                               shift_starts: list[int], target_s: float) -> list[asyncpg.Record]:
    """One row per group of incidents received in [start, end), then one over them all
    (`is_total`, read in the same scan): counts, and for each interval its n,
    [p50, p90] (percentile_cont: linear between closest ranks), max and mean, and the
    share of responses within `target_s`."""
    return await conn.fetch(_summary_sql(group_by), start, end, timezone, shifts,
                            shift_starts, float(target_s))


async def get_response_histogram(conn: asyncpg.Connection, start: datetime,
                                 end: datetime) -> list[asyncpg.Record]:
    """How many responses took at most each whole minute: (minute, count), minute =
    ceil(response / 60 s), for incidents received in [start, end) that were reached."""
    return await conn.fetch(
        f"""SELECT ceil(i.response_s / 60)::int AS minute,
                   count(*) AS count
            {_FROM} AND i.on_scene_at IS NOT NULL
            GROUP BY 1 ORDER BY 1""", start, end)


def _log_sql() -> str:
    times = ", ".join(f"i.{name}" for name in TIMES)
    intervals = ", ".join(f"i.{name}" for name in INTERVALS)
    return f"""SELECT i.id AS incident_id, i.priority, d.name AS district,
                      k.name AS kelurahan, t.code AS team_code, i.status,
                      i.assignment_count, {GROUPS['shift']} AS shift, {times}, {intervals},
                      (SELECT a.eta_source FROM assignments a WHERE a.incident_id = i.id
                       ORDER BY a.id DESC LIMIT 1) AS eta_source
               {_FROM} ORDER BY i.received_at, i.id"""


async def iterate_incident_log(conn: asyncpg.Connection, start: datetime, end: datetime, *,
                               timezone: str, shifts: list[str], shift_starts: list[int]
                               ) -> AsyncIterator[asyncpg.Record]:
    """Every incident received in [start, end), oldest first, with its step times and
    intervals (never its caller's number). Read with a cursor: the caller holds a
    transaction open while iterating."""
    async for row in conn.cursor(_log_sql(), start, end, timezone, shifts, shift_starts,
                                 prefetch=2000):
        yield row


async def get_eta_source_counts(conn: asyncpg.Connection, start: datetime,
                                end: datetime) -> dict[str, int]:
    """How many assignments of incidents received in [start, end) had their ETA from
    each router (`eta_source`: osm, osrm, geodesic)."""
    rows = await conn.fetch(
        """SELECT a.eta_source, count(*) AS n FROM assignments a
           JOIN incidents i ON i.id = a.incident_id
           WHERE i.received_at >= $1 AND i.received_at < $2 GROUP BY 1""", start, end)
    return {row["eta_source"]: row["n"] for row in rows}


# --- the reports page: charts and the map ----------------------------------------------

async def get_response_seconds(conn: asyncpg.Connection, start: datetime,
                               end: datetime) -> list[float]:
    """The response (call to on scene, seconds) of every incident received in
    [start, end) that was reached, shortest first: the histogram's values."""
    rows = await conn.fetch(
        f"""SELECT i.response_s
            {_FROM} AND i.on_scene_at IS NOT NULL ORDER BY 1""", start, end)
    return [row["response_s"] for row in rows]


async def get_incident_counts_by_hour_weekday(conn: asyncpg.Connection, start: datetime,
                                              end: datetime, timezone: str
                                              ) -> list[asyncpg.Record]:
    """(weekday 1-7 Monday first, hour 0-23, count) of incidents received in [start, end),
    by their local time in `timezone`; cells without incidents are left out."""
    return await conn.fetch(
        """SELECT extract(isodow FROM i.received_at AT TIME ZONE $3::text)::int AS weekday,
                  extract(hour FROM i.received_at AT TIME ZONE $3::text)::int AS hour,
                  count(*) AS count
           FROM incidents i WHERE i.received_at >= $1 AND i.received_at < $2
           GROUP BY 1, 2 ORDER BY 1, 2""", start, end, timezone)


async def get_incident_points(conn: asyncpg.Connection, start: datetime, end: datetime,
                              limit: int) -> list[asyncpg.Record]:
    """The newest `limit` incidents received in [start, end), newest first, as points
    for a map: id, lat, lon, priority, status and response seconds (None when not
    reached). Never the caller's number, the address or any name."""
    return await conn.fetch(
        f"""SELECT i.id, i.lat, i.lon, i.priority, i.status,
                   i.response_s
            {_FROM} ORDER BY i.received_at DESC, i.id DESC LIMIT $3""", start, end, limit)
