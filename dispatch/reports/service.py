"""Reading the reports: summaries by group, the fractile table, the incident log."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg

from db import reports as reports_db
from dispatch.config import Settings
from dispatch.reports import views
from dispatch.reports.schemas import Period, ReportQuery
from dispatch.vocabulary import ETA_SOURCES


def _shift_args(settings: Settings) -> dict:
    return {"timezone": settings.timezone,
            "shifts": [name for name, _ in settings.shifts],
            "shift_starts": [start for _, start in settings.shifts]}


def period_view(period: Period, settings: Settings) -> dict:
    return {"from": period.start, "to": period.end, "timezone": settings.timezone}


async def get_response_times(conn: asyncpg.Connection, settings: Settings,
                             query: ReportQuery) -> dict:
    """The contract's grouped report, with every interval of docs/reports.md, a total
    over all groups, and the fractile table."""
    target = float(settings.response_target_s)
    period = query.period
    rows = await reports_db.get_interval_summary(
        conn, period.start, period.end, group_by=query.group_by, target_s=target,
        **_shift_args(settings))
    total = next((row for row in rows if row["is_total"]), None)
    return {"period": period_view(period, settings), "group_by": query.group_by,
            "targets": {"response_s": target,
                        "dispatch_s": float(settings.call_processing_target_s)},
            "total": views.group_view(total, target) if total else None,
            "groups": [views.group_view(row, target) for row in rows if not row["is_total"]],
            "fractiles": await get_fractiles(conn, period),
            "eta_sources": await get_eta_sources(conn, period)}


async def get_eta_sources(conn: asyncpg.Connection, period: Period) -> dict[str, int]:
    """Assignments of the period by the router that computed their ETA, every source
    named (0 when none): how many ETAs came from roads and how many were estimates."""
    counts = await reports_db.get_eta_source_counts(conn, period.start, period.end)
    return {source: counts.get(source, 0) for source in ETA_SOURCES}


async def get_fractiles(conn: asyncpg.Connection, period: Period) -> list[dict]:
    histogram = await reports_db.get_response_histogram(conn, period.start, period.end)
    return views.fractile_view(histogram)


async def iterate_log_rows(conn: asyncpg.Connection, settings: Settings,
                           period: Period) -> AsyncIterator[list[object]]:
    """The incident log, one list of values per incident in views.LOG_COLUMNS order.
    The caller holds a transaction open while iterating (a server-side cursor)."""
    target = float(settings.response_target_s)
    async for row in reports_db.iterate_incident_log(conn, period.start, period.end,
                                                     **_shift_args(settings)):
        yield views.log_row(row, target)
