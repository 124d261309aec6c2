"""Bulk writing of a generated past (dispatch/history/): incidents, their calls and
assignments, callbacks, line history and shifts, by COPY.

Rows made here are marked: incidents and calls with created_by = HISTORY_ACTOR, line
history rows with actor = HISTORY_ACTOR. Incidents and calls refer to each other, so
their ids are drawn from their sequences first (COPY writes given identity values,
like INSERT ... OVERRIDING SYSTEM VALUE), the calls written without their incident,
the incidents with their call, then each call linked to its incident.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

HISTORY_ACTOR = "history"
# Only these tables get ids drawn in advance; the name is interpolated nowhere.
_SEQUENCED = frozenset({"incidents", "calls"})

INCIDENT_COLUMNS = (
    "id", "call_id", "caller_number", "lat", "lon", "district_id", "kelurahan_id", "address",
    "complaint", "priority", "required_kind", "patients", "status", "received_at",
    "created_at", "assigned_at", "acknowledged_at", "en_route_at", "on_scene_at",
    "transporting_at", "at_hospital_at", "closed_at", "cancelled_at", "cancel_reason",
    "created_by", "last_team_id", "last_assigned_at", "assignment_count")
CALL_COLUMNS = ("id", "caller_number", "line_id", "status", "disposition", "received_at",
                "ended_at", "created_by")
ASSIGNMENT_COLUMNS = ("incident_id", "team_id", "eta_s", "distance_m", "position_source",
                      "created_at", "acknowledged_at", "ended_at", "end_reason")
CALLBACK_COLUMNS = ("call_id", "caller_number", "line_id", "dropped_at", "done_at", "done_by")
LINE_EVENT_COLUMNS = ("line_id", "state", "active_line_id", "critical", "override", "reason",
                      "actor", "at")
SHIFT_COLUMNS = ("team_id", "starts_at", "ends_at")


async def get_history_span(conn: asyncpg.Connection) -> asyncpg.Record:
    """(incidents, first, last): how many incidents a history run made, and the first
    and last received_at among them (None, None when there are none)."""
    return await conn.fetchrow(
        """SELECT count(*) AS incidents, min(received_at) AS first, max(received_at) AS last
           FROM incidents WHERE created_by = $1""", HISTORY_ACTOR)


async def get_first_live_time(conn: asyncpg.Connection) -> datetime | None:
    """When the first incident or call not made by a history run came in: a history
    ends before it, so that it never books a team a live assignment holds."""
    return await conn.fetchval(
        """SELECT least((SELECT min(received_at) FROM incidents WHERE created_by <> $1),
                        (SELECT min(received_at) FROM calls WHERE created_by <> $1))""",
        HISTORY_ACTOR)


async def get_first_shift_starts(conn: asyncpg.Connection) -> dict[int, datetime]:
    """Each team's earliest shift start: history shifts end before it."""
    rows = await conn.fetch("SELECT team_id, min(starts_at) AS first FROM shifts GROUP BY 1")
    return {row["team_id"]: row["first"] for row in rows}


async def reserve_ids(conn: asyncpg.Connection, table: str, count: int) -> list[int]:
    """`count` ids drawn from `table`'s identity sequence (incidents or calls), ascending."""
    if table not in _SEQUENCED:
        raise ValueError(f"no ids are reserved for {table}")
    rows = await conn.fetch(
        """SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id
           FROM generate_series(1, $2) ORDER BY 1""", table, count)
    return [row["id"] for row in rows]


async def insert_calls(conn: asyncpg.Connection, records: list[tuple]) -> None:
    """Calls in CALL_COLUMNS order, ids reserved, not yet linked to their incidents."""
    await conn.copy_records_to_table("calls", records=records, columns=CALL_COLUMNS)


async def insert_incidents(conn: asyncpg.Connection, records: list[tuple]) -> None:
    """Incidents in INCIDENT_COLUMNS order, ids reserved; their calls written already."""
    await conn.copy_records_to_table("incidents", records=records, columns=INCIDENT_COLUMNS)


async def link_calls(conn: asyncpg.Connection, call_ids: list[int],
                     incident_ids: list[int]) -> None:
    """Set each call's incident, pairwise (the calls of a history run only)."""
    await conn.execute(
        """UPDATE calls c SET incident_id = u.incident_id
           FROM unnest($1::bigint[], $2::bigint[]) AS u(call_id, incident_id)
           WHERE c.id = u.call_id AND c.created_by = $3""",
        call_ids, incident_ids, HISTORY_ACTOR)


async def insert_assignments(conn: asyncpg.Connection, records: list[tuple]) -> None:
    await conn.copy_records_to_table("assignments", records=records,
                                     columns=ASSIGNMENT_COLUMNS)


async def insert_callbacks(conn: asyncpg.Connection, records: list[tuple]) -> None:
    await conn.copy_records_to_table("callbacks", records=records, columns=CALLBACK_COLUMNS)


async def insert_line_events(conn: asyncpg.Connection, records: list[tuple]) -> None:
    await conn.copy_records_to_table("line_events", records=records,
                                     columns=LINE_EVENT_COLUMNS)


async def insert_shifts(conn: asyncpg.Connection, records: list[tuple]) -> None:
    await conn.copy_records_to_table("shifts", records=records, columns=SHIFT_COLUMNS)


async def analyze_history_tables(conn: asyncpg.Connection) -> None:
    """Fresh planner statistics after a bulk load, so that reports plan for its size."""
    await conn.execute("ANALYZE incidents, calls, assignments, callbacks, line_events, shifts")
