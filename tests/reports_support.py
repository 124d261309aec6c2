"""Helpers for the report tests: rows written straight into the tables with known
times, and interval arithmetic done the plain way (sorted lists of (start, end)), to
check the service's multirange SQL against."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import asyncpg

WITA = timezone(timedelta(hours=8))
Interval = tuple[datetime, datetime]


def local(text: str) -> datetime:
    """A WITA wall-clock time, e.g. local("2025-03-03 07:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=WITA)


def merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    return merge([(max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b
                  if min(e1, e2) > max(s1, s2)])


def subtract(a: list[Interval], b: list[Interval]) -> list[Interval]:
    result = []
    for start, end in merge(a):
        pieces = [(start, end)]
        for cut_start, cut_end in merge(b):
            pieces = [p for s, e in pieces for p in ((s, min(e, cut_start)), (max(s, cut_end), e))
                      if p[1] > p[0]]
        result += pieces
    return merge(result)


def seconds(intervals: list[Interval]) -> float:
    return sum((end - start).total_seconds() for start, end in merge(intervals))


async def insert_incident(db: asyncpg.Connection, *, caller: str, received_at: datetime,
                          priority: int = 2, district_id: int | None = None,
                          team_id: int | None = None, **times: datetime | None) -> int:
    """An incident written directly, closed unless told otherwise; `times` are its step
    times (assigned_at, acknowledged_at, en_route_at, on_scene_at, closed_at...)."""
    columns = {"caller_number": caller, "lat": -4.0, "lon": 119.64, "address": "Jl. Test 1",
               "complaint": "sesak napas", "priority": priority, "status": "closed",
               "received_at": received_at, "created_by": "test", "district_id": district_id,
               "last_team_id": team_id, "last_assigned_at": times.get("assigned_at"),
               "assignment_count": 1 if times.get("assigned_at") else 0, **times}
    names = ", ".join(columns)
    marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    return await db.fetchval(f"INSERT INTO incidents ({names}) VALUES ({marks}) RETURNING id",
                             *columns.values())


async def insert_assignment(db: asyncpg.Connection, *, team_id: int, incident_id: int,
                            created_at: datetime, ended_at: datetime | None) -> int:
    return await db.fetchval(
        """INSERT INTO assignments (incident_id, team_id, eta_s, distance_m, position_source,
               created_at, ended_at, end_reason)
           VALUES ($1, $2, 300, 2000, 'base', $3, $4, CASE WHEN $4::timestamptz IS NULL
                   THEN NULL ELSE 'completed' END) RETURNING id""",
        incident_id, team_id, created_at, ended_at)


async def insert_shift(db: asyncpg.Connection, team_id: int, starts_at: datetime,
                       ends_at: datetime) -> None:
    await db.execute("INSERT INTO shifts (team_id, starts_at, ends_at) VALUES ($1, $2, $3)",
                     team_id, starts_at, ends_at)


async def insert_call(db: asyncpg.Connection, *, caller: str, received_at: datetime,
                      disposition: str | None) -> int:
    """A call, ended with `disposition` a minute after it came (None: still open)."""
    return await db.fetchval(
        """INSERT INTO calls (caller_number, status, disposition, received_at, ended_at,
               created_by)
           VALUES ($1, CASE WHEN $2::text IS NULL THEN 'open' ELSE 'ended' END, $2, $3::timestamptz,
                   CASE WHEN $2::text IS NULL THEN NULL ELSE $3 + interval '1 minute' END,
                   'test') RETURNING id""", caller, disposition, received_at)
