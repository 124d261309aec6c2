"""/api/v1/reports/*: response times for the health office and admins."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from db.pool import ping
from dispatch.auth.service import Principal
from dispatch.http import JSON, Operation
from dispatch.reports import service
from dispatch.reports.schemas import GROUP_BY, Period, check_period, check_report_query
from dispatch.reports.views import LOG_COLUMNS
from dispatch.vocabulary import REPORT_READERS

CSV_BATCH = 500


async def response_times(request: Request, principal: Principal) -> Response:
    ctx = request.app.state.ctx
    query = check_report_query(request.query_params, ctx.settings.timezone)
    async with ctx.pool.acquire() as conn:
        return JSON(await service.get_response_times(conn, ctx.settings, query))


async def fractiles(request: Request, principal: Principal) -> Response:
    ctx = request.app.state.ctx
    period = check_period(request.query_params, ctx.settings.timezone)
    async with ctx.pool.acquire() as conn:
        items = await service.get_fractiles(conn, period)
    return JSON({"period": service.period_view(period, ctx.settings), "items": items})


def _csv_text(rows: list[list[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        ["" if value is None else value for value in row] for row in rows)
    return out.getvalue()


async def _csv_lines(ctx, period: Period) -> AsyncIterator[str]:
    yield _csv_text([list(LOG_COLUMNS)])
    async with ctx.pool.acquire() as conn, conn.transaction(readonly=True):
        batch = []
        async for row in service.iterate_log_rows(conn, ctx.settings, period):
            batch.append(row)
            if len(batch) >= CSV_BATCH:
                yield _csv_text(batch)
                batch = []
        yield _csv_text(batch)


def _filename(period: Period, suffix: str) -> str:
    return f"waktu-tanggap_{period.start:%Y%m%d}-{period.end:%Y%m%d}.{suffix}"


async def response_times_csv(request: Request, principal: Principal) -> Response:
    """The incident log, streamed: the contract's header first, then every time and
    interval; RFC 3339 UTC times, seconds. Text that a spreadsheet would run as a
    formula is quoted."""
    ctx = request.app.state.ctx
    period = check_period(request.query_params, ctx.settings.timezone)
    async with ctx.pool.acquire() as conn:  # 503 now, not a broken download later
        await ping(conn)
    return StreamingResponse(_csv_lines(ctx, period), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      f'attachment; filename="{_filename(period, "csv")}"'})


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
              parameters=(*PERIOD, GROUPING)),
    Operation("get", "/api/v1/reports/response-times.csv", response_times_csv, REPORT_READERS,
              "The incident log as CSV: every step time and interval, no caller data",
              answers={200: "text/csv", 422: "bad from or to"}, parameters=PERIOD),
    Operation("get", "/api/v1/reports/response-times/fractiles", fractiles, REPORT_READERS,
              "Share of responses within 1, 2, ... 30 minutes",
              answers={200: "`{\"items\": [{minutes, share, count}]}`",
                       422: "bad from or to"}, parameters=PERIOD),
]
