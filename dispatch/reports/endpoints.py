"""/api/v1/reports/*: response times for the health office and admins."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from db.pool import ping
from dispatch.auth.service import Principal
from dispatch.http import JSON, Operation
from dispatch.reports import service, views
from dispatch.reports.schemas import GROUP_BY, Period, check_period, check_report_query
from dispatch.reports.views import LOG_COLUMNS
from dispatch.vocabulary import REPORT_READERS

CSV_BATCH = 500


async def response_times(request: Request, principal: Principal) -> Response:
    ctx = request.app.state.ctx
    query = check_report_query(request.query_params, ctx.settings.timezone)
    async with ctx.acquire() as conn:
        return JSON(await service.get_response_times(conn, ctx.settings, query))


async def fractiles(request: Request, principal: Principal) -> Response:
    ctx = request.app.state.ctx
    period = check_period(request.query_params, ctx.settings.timezone)
    async with ctx.acquire() as conn:
        items = await service.get_fractiles(conn, period)
    return JSON({"period": service.period_view(period, ctx.settings), "items": items})


def _csv_text(rows: list[list[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        ["" if value is None else value for value in row] for row in rows)
    return out.getvalue()


async def _csv_lines(ctx, period: Period) -> AsyncIterator[str]:
    yield _csv_text([list(LOG_COLUMNS)])
    async with ctx.acquire() as conn, conn.transaction(readonly=True):
        batch = []
        async for row in service.iterate_log_rows(conn, ctx.settings, period):
            batch.append(row)
            if len(batch) >= CSV_BATCH:
                yield _csv_text(batch)
                batch = []
        yield _csv_text(batch)


def download_name(period: Period, timezone: str, suffix: str) -> str:
    """`waktu-tanggap_20260601-20260831.csv`: the period's first and last local days."""
    days = []
    for moment in (period.start, period.end - timedelta(microseconds=1)):
        try:
            days.append(f"{moment.astimezone(ZoneInfo(timezone)):%Y%m%d}")
        except OverflowError:  # the last representable day, in UTC it still is one
            days.append(f"{moment:%Y%m%d}")
    return f"waktu-tanggap_{days[0]}-{days[1]}.{suffix}"


async def response_times_csv(request: Request, principal: Principal) -> Response:
    """The incident log, streamed: the contract's header first, then every time and
    interval; RFC 3339 UTC times, seconds. Text that a spreadsheet would run as a
    formula is quoted."""
    ctx = request.app.state.ctx
    period = check_period(request.query_params, ctx.settings.timezone)
    async with ctx.acquire() as conn:  # 503 now, not a broken download later
        await ping(conn)
    name = download_name(period, ctx.settings.timezone, "csv")
    return StreamingResponse(_csv_lines(ctx, period), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


PERIOD = ({"name": "from", "in": "query", "required": False,
           "description": "a date (the whole local day) or an RFC 3339 time; default 30 "
                          "days before `to`", "schema": {"type": "string"}},
          {"name": "to", "in": "query", "required": False,
           "description": "a date (included) or an RFC 3339 time; default now",
           "schema": {"type": "string"}})
GROUPING = {"name": "group_by", "in": "query", "required": False,
            "schema": {"type": "string", "enum": list(GROUP_BY)}}

operations = [
    Operation("get", "/api/v1/reports/response-times", response_times, REPORT_READERS,
              "Response-time intervals by group: n, p50, p90, max, mean; share within target",
              answers={200: "`{\"period\", \"groups\": [{key, count, intervals}], \"total\", "
                            "\"fractiles\"}`", 422: "bad from, to or group_by"},
              parameters=(*PERIOD, GROUPING), returns=views.RESPONSE_TIMES),
    Operation("get", "/api/v1/reports/response-times.csv", response_times_csv, REPORT_READERS,
              "The incident log as CSV: every step time and interval, no caller data",
              answers={200: "text/csv", 422: "bad from or to"}, parameters=PERIOD,
              media_type="text/csv"),
    Operation("get", "/api/v1/reports/response-times/fractiles", fractiles, REPORT_READERS,
              "Share of responses within 1, 2, ... 30 minutes",
              answers={200: "`{\"items\": [{minutes, share, count}]}`",
                       422: "bad from or to"}, parameters=PERIOD, returns=views.FRACTILES),
]
