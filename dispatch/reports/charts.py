"""/api/v1/reports/charts/{name}.svg: the reports page's charts as SVG images.

Each chart reads its figures in-process (the report service, a few queries of
db/reports.py) and is drawn by dispatch/reports/plots.py in a worker thread, so the
event loop keeps serving while matplotlib works. `from`/`to` as every report
(check_period: 422 when bad); `lang=id|en` names the language of the labels.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from db import reports as reports_db
from dispatch.auth.service import Principal
from dispatch.config import Settings
from dispatch.errors import ValidationFailed
from dispatch.http import Operation
from dispatch.reports import activity, plots, service
from dispatch.reports.endpoints import PERIOD
from dispatch.reports.plot_labels import LANGUAGES, label
from dispatch.reports.schemas import Period, ReportQuery, check_period
from dispatch.vocabulary import REPORT_READERS

SVG = "image/svg+xml"
# An SVG opened on its own runs nothing and loads nothing.
SVG_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=60"}
LANG = {"name": "lang", "in": "query", "required": False,
        "description": "language of the labels: id (default) or en",
        "schema": {"type": "string", "enum": list(LANGUAGES)}}


@dataclass(frozen=True)
class ChartQuery:
    period: Period
    lang: str


def check_lang(params) -> str:
    """`lang` of the query: "id" (default) or "en"; anything else is a 422."""
    lang = params.get("lang") or "id"
    if lang not in LANGUAGES:
        raise ValidationFailed.field("lang", "must be one of " + ", ".join(LANGUAGES))
    return lang


Draw = Callable[[], bytes]
Builder = Callable[[asyncpg.Connection, Settings, ChartQuery], Awaitable[Draw]]


async def _grouped(conn: asyncpg.Connection, settings: Settings, period: Period,
                   group_by: str | None) -> dict:
    return await service.get_response_times(conn, settings, ReportQuery(period, group_by))


def _response(group: dict) -> dict:
    return group["intervals"]["response_s"]


async def response_histogram(conn, settings: Settings, query: ChartQuery) -> Draw:
    """Every reached incident's response, with the target and the P90 of the period."""
    seconds = await reports_db.get_response_seconds(conn, query.period.start,
                                                    query.period.end)
    report = await _grouped(conn, settings, query.period, None)
    p90 = _response(report["total"])["p90"] if report["total"] else None
    target = report["targets"]["response_s"]
    return lambda: plots.histogram_svg(seconds, target_s=target, p90_s=p90, lang=query.lang)


async def response_fractiles(conn, settings: Settings, query: ChartQuery) -> Draw:
    """The share of responses within 1..30 minutes."""
    items = await service.get_fractiles(conn, query.period)
    target = float(settings.response_target_s)
    return lambda: plots.fractile_svg(items, target_s=target, lang=query.lang)


def _trend(group_by: str) -> Builder:
    async def build(conn, settings: Settings, query: ChartQuery) -> Draw:
        report = await _grouped(conn, settings, query.period, group_by)
        rows = [(g["key"], _response(g)["p90"], _response(g)["share_within_target"])
                for g in report["groups"]]
        title = label(f"trend.{group_by}", query.lang)
        target = report["targets"]["response_s"]
        return lambda: plots.trend_svg(rows, target_s=target, title=title, lang=query.lang)
    build.__doc__ = f"P90 response and share within target, {group_by} by {group_by}."
    return build


def _p90_bars(group_by: str, title_key: str) -> Builder:
    async def build(conn, settings: Settings, query: ChartQuery) -> Draw:
        report = await _grouped(conn, settings, query.period, group_by)
        rows = [(g["key"], _response(g)["n"], _response(g)["p90"]) for g in report["groups"]]
        title = label(title_key, query.lang)
        target = report["targets"]["response_s"]
        return lambda: plots.bars_svg(rows, target_s=target, title=title, lang=query.lang)
    build.__doc__ = f"P90 response by {group_by}, slowest first."
    return build


async def incidents_by_hour_weekday(conn, settings: Settings, query: ChartQuery) -> Draw:
    """Incidents by local weekday and hour."""
    rows = await reports_db.get_incident_counts_by_hour_weekday(
        conn, query.period.start, query.period.end, settings.timezone)
    cells = [dict(row) for row in rows]
    title = label("heatmap.incidents", query.lang)
    return lambda: plots.heatmap_svg(cells, title=title, lang=query.lang)


async def calls_by_hour_weekday(conn, settings: Settings, query: ChartQuery) -> Draw:
    """Calls on the 112 lines by local weekday and hour: when the call-takers are busy."""
    report = await activity.get_calls(conn, settings, query.period)
    title = label("heatmap.calls", query.lang)
    return lambda: plots.heatmap_svg(report["by_hour_weekday"], title=title,
                                     lang=query.lang)


CHARTS: dict[str, tuple[Builder, str]] = {
    "response-histogram": (response_histogram,
                           "Histogram of response minutes, with the target and the P90"),
    "response-fractiles": (response_fractiles,
                           "Cumulative fractile curve: share on scene within 1..30 min"),
    "trend-weekly": (_trend("week"), "P90 response and share within target, by ISO week"),
    "trend-monthly": (_trend("month"), "P90 response and share within target, by month"),
    "p90-by-district": (_p90_bars("district", "district.title"),
                        "P90 response by kecamatan, slowest first, with the target"),
    "p90-by-team": (_p90_bars("team", "team.title"),
                    "P90 response by team, slowest first, with the target"),
    "calls-by-hour-weekday": (calls_by_hour_weekday,
                              "Heat map of calls by local weekday and hour"),
    "incidents-by-hour-weekday": (incidents_by_hour_weekday,
                                  "Heat map of incidents by local weekday and hour"),
}


def _chart_handler(name: str, build: Builder):
    async def handler(request: Request, principal: Principal) -> Response:
        ctx = request.app.state.ctx
        query = ChartQuery(check_period(request.query_params, ctx.settings.timezone),
                           check_lang(request.query_params))
        async with ctx.acquire() as conn:
            draw = await build(conn, ctx.settings, query)
        return Response(await run_in_threadpool(draw), media_type=SVG, headers=SVG_HEADERS)
    handler.__name__ = "chart_" + name.replace("-", "_")
    handler.__doc__ = build.__doc__
    return handler


operations = [
    Operation("get", f"/api/v1/reports/charts/{name}.svg", _chart_handler(name, build),
              REPORT_READERS, summary,
              answers={200: "image/svg+xml (\"Tidak ada data\" when the period is empty)",
                       422: "bad from, to or lang"}, parameters=(*PERIOD, LANG),
              media_type=SVG)
    for name, (build, summary) in CHARTS.items()
]
