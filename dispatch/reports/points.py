"""/api/v1/reports/incidents: the incidents of a period as points for the reports
page's map of late arrivals. Position, priority and response only: never a caller's
number, an address, a complaint or a name."""

from __future__ import annotations

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from db import reports as reports_db
from dispatch.auth.service import Principal
from dispatch.config import Settings
from dispatch.http import JSON, Operation
from dispatch.reports import service, views
from dispatch.reports.endpoints import PERIOD
from dispatch.reports.schemas import Period, check_period
from dispatch.vocabulary import REPORT_READERS

MAX_POINTS = 5000


def point_view(row: asyncpg.Record, target_s: float) -> dict:
    """One incident on the map: `late` is whether the team arrived past the target,
    None when no team arrived (open, cancelled, or closed without arriving)."""
    response = row["response_s"]
    return {"id": row["id"], "lat": row["lat"], "lon": row["lon"],
            "priority": row["priority"], "status": row["status"],
            "response_s": None if response is None else round(response, 1),
            "late": None if response is None else response > target_s}


async def get_incident_points(conn: asyncpg.Connection, settings: Settings, period: Period,
                              limit: int = MAX_POINTS) -> dict:
    """The newest `limit` incidents of the period as points, newest first;
    `truncated` tells that the period held more."""
    rows = await reports_db.get_incident_points(conn, period.start, period.end, limit + 1)
    target = float(settings.response_target_s)
    return {"period": service.period_view(period, settings), "target_s": target,
            "limit": limit, "truncated": len(rows) > limit,
            "items": [point_view(row, target) for row in rows[:limit]]}


async def incident_points(request: Request, principal: Principal) -> Response:
    ctx = request.app.state.ctx
    period = check_period(request.query_params, ctx.settings.timezone)
    async with ctx.acquire() as conn:
        return JSON(await get_incident_points(conn, ctx.settings, period))


operations = [
    Operation("get", "/api/v1/reports/incidents", incident_points, REPORT_READERS,
              "The period's incidents as map points: position, priority, response, late",
              answers={200: "`{\"period\", \"target_s\", \"limit\", \"truncated\", \"items\": "
                            "[{id, lat, lon, priority, status, response_s, late}]}` (the "
                            f"{MAX_POINTS} newest; no caller data)",
                       422: "bad from or to"}, parameters=PERIOD, returns=views.POINTS),
]
