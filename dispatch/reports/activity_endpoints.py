"""/api/v1/reports/{workload,calls,lines} and the response-time workbook (.xlsx), for
the health office and admins."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from dispatch.auth.service import Principal
from dispatch.http import JSON, Operation
from dispatch.reports import activity, views, workbook
from dispatch.reports.endpoints import PERIOD, download_name
from dispatch.reports.schemas import check_period
from dispatch.vocabulary import REPORT_READERS

CHUNK = 64 * 1024


def _period_report(get: Callable[..., Awaitable[dict]], name: str):
    """A JSON report over the query's period (admin, health office)."""
    async def handler(request: Request, principal: Principal) -> Response:
        ctx = request.app.state.ctx
        period = check_period(request.query_params, ctx.settings.timezone)
        async with ctx.acquire() as conn:
            return JSON(await get(conn, ctx.settings, period))
    handler.__name__ = name
    return handler


workload = _period_report(activity.get_workload, "workload")
calls = _period_report(activity.get_calls, "calls")
lines = _period_report(activity.get_lines, "lines")


async def _chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := file.read(CHUNK):
            yield chunk
    finally:
        file.close()


async def response_times_xlsx(request: Request, principal: Principal) -> Response:
    """The workbook, built whole in a temporary file (so that a failure is an error
    answer, not a broken download), then streamed."""
    ctx = request.app.state.ctx
    period = check_period(request.query_params, ctx.settings.timezone)
    file = tempfile.TemporaryFile()
    try:
        async with ctx.acquire() as conn, conn.transaction(
                readonly=True, isolation="repeatable_read"):
            await workbook.write_workbook(conn, ctx.settings, period, file)
        size = file.tell()
        file.seek(0)
    except BaseException:
        file.close()
        raise
    name = download_name(period, ctx.settings.timezone, "xlsx")
    return StreamingResponse(_chunks(file), media_type=workbook.MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Content-Length": str(size)})


operations = [
    Operation("get", "/api/v1/reports/workload", workload, REPORT_READERS,
              "Team workload: busy and on-shift time, utilisation by team and shift; "
              "when no team was free",
              answers={200: "`{\"period\", \"definition\", \"teams\", \"by_shift\", "
                            "\"no_team_free\", \"hours_without_free_team\"}`",
                       422: "bad from or to"}, parameters=PERIOD, returns=views.WORKLOAD),
    Operation("get", "/api/v1/reports/calls", calls, REPORT_READERS,
              "Calls by local hour and weekday, dispositions, dropped calls' call-backs",
              answers={200: "`{\"period\", \"total\", \"by_hour_weekday\", \"by_hour\", "
                            "\"by_weekday\", \"dispositions\", \"dropped\"}`",
                       422: "bad from or to"}, parameters=PERIOD, returns=views.CALLS),
    Operation("get", "/api/v1/reports/lines", lines, REPORT_READERS,
              "The 112 lines: time up, down, unknown; availability; failovers; critical time",
              answers={200: "`{\"period\", \"lines\", \"failovers\", \"critical_s\"}`",
                       422: "bad from or to"}, parameters=PERIOD, returns=views.LINES),
    Operation("get", "/api/v1/reports/response-times.xlsx", response_times_xlsx,
              REPORT_READERS,
              "The response-time workbook: summaries, fractiles, workload, calls and the "
              "incident log (no caller data)",
              answers={200: "the workbook", 422: "bad from or to"}, parameters=PERIOD,
              media_type=workbook.MEDIA_TYPE),
]
