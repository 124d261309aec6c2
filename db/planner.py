"""What the planner fits from the service's own history: incidents by local weekday
and hour, and the moments of the step times (docs/planner.md, "--from-db")."""

from __future__ import annotations

from datetime import datetime

import asyncpg

# Seconds of each step the planner models, over closed incidents: call processing
# (call to incident logged, when allocation runs), mobilisation (assigned to en
# route: the planner's turnout), on scene, handover (the interval columns of
# migration 0007, docs/reports.md).
_STEPS = {
    "call_processing": "extract(epoch FROM i.created_at - i.received_at)::float8",
    "turnout": "i.mobilisation_s",
    "on_scene": "i.on_scene_s",
    "handover": "i.handover_s",
}


async def get_incident_counts(conn: asyncpg.Connection, start: datetime, end: datetime,
                              timezone: str) -> list[asyncpg.Record]:
    """Incidents received in [start, end) by local ISO weekday (1 = Monday) and hour."""
    return await conn.fetch(
        """SELECT extract(isodow FROM i.received_at AT TIME ZONE $3::text)::int AS weekday,
                  extract(hour FROM i.received_at AT TIME ZONE $3::text)::int AS hour,
                  count(*) AS n
           FROM incidents i WHERE i.received_at >= $1 AND i.received_at < $2
           GROUP BY 1, 2""", start, end, timezone)


async def get_history_span(conn: asyncpg.Connection, start: datetime,
                           end: datetime) -> asyncpg.Record:
    """The first and last incident received in [start, end) (NULLs when none)."""
    return await conn.fetchrow(
        """SELECT min(received_at) AS first, max(received_at) AS last, count(*) AS n
           FROM incidents WHERE received_at >= $1 AND received_at < $2""", start, end)


async def get_step_moments(conn: asyncpg.Connection, start: datetime,
                           end: datetime) -> asyncpg.Record:
    """Count, mean and standard deviation (seconds) of each modelled step over the closed
    incidents received in [start, end); the share taken to hospital; counts by priority."""
    steps = ",\n".join(
        f"count({sql}) AS {name}_n, avg({sql}) AS {name}_mean, "
        f"stddev_samp({sql}) AS {name}_sd" for name, sql in _STEPS.items())
    return await conn.fetchrow(
        f"""SELECT {steps},
                  count(*) FILTER (WHERE i.on_scene_at IS NOT NULL) AS seen_n,
                  count(*) FILTER (WHERE i.on_scene_at IS NOT NULL
                                   AND i.transporting_at IS NOT NULL) AS transported_n,
                  count(*) FILTER (WHERE i.priority = 1) AS p1,
                  count(*) FILTER (WHERE i.priority = 2) AS p2,
                  count(*) FILTER (WHERE i.priority = 3) AS p3
           FROM incidents i
           WHERE i.received_at >= $1 AND i.received_at < $2 AND i.status = 'closed'""",
        start, end)
