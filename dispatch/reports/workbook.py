"""The response-time workbook (.xlsx) for the health office's spreadsheets.

Sheets: "Ringkasan" (response and call-processing summary by priority, kecamatan,
team and month), "Fraktil" (the fractile table), "Beban kerja" (workload),
"Panggilan" (calls), "Log" (the incident log: the CSV's rows and columns). Times are
real Excel date-times in the city's local time (the CSV's are UTC text); a time
Excel cannot show (before 1900) is written as RFC 3339 text. Every text cell is
written as text, never as a formula, and neutralised as in the CSV
(views.neutralise). Written with xlsxwriter in constant-memory mode, each sheet row
by row; the writing runs in a worker thread, batch by batch, so that a large log
does not hold up the event loop. No caller number or name is read.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import IO
from zoneinfo import ZoneInfo

import asyncpg
import xlsxwriter

from db.reports import TIMES
from dispatch.config import Settings
from dispatch.reports import activity, service
from dispatch.reports.schemas import Period, ReportQuery
from dispatch.reports.views import LOG_COLUMNS, neutralise

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUMMARY_GROUPS = (("priority", "priority"), ("district", "kecamatan"), ("team", "team"),
                  ("month", "month"))
SUMMARY_COLUMNS = ("count", "response_n", "response_p50_s", "response_p90_s",
                   "response_max_s", "response_within_target", "dispatch_n",
                   "dispatch_p50_s", "dispatch_p90_s", "dispatch_max_s")
LOG_BATCH = 1000
_LOG_TIMES = frozenset(i for i, name in enumerate(LOG_COLUMNS) if name in TIMES)


class Sheet:
    """A worksheet written row after row: each value by its type (None: an empty cell;
    datetime: a local date-time; str: text, neutralised)."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, zone: ZoneInfo,
                 time_format: object) -> None:
        self.sheet = book.add_worksheet(name)
        self.zone, self.time_format, self.next_row = zone, time_format, 0

    def row(self, *values: object) -> None:
        for column, value in enumerate(values):
            self._write(column, value)
        self.next_row += 1

    def blank(self) -> None:
        self.next_row += 1

    def _write(self, column: int, value: object) -> None:
        row, sheet = self.next_row, self.sheet
        if value is None:
            return
        if isinstance(value, bool):
            sheet.write_boolean(row, column, value)
        elif isinstance(value, int | float):
            sheet.write_number(row, column, value)
        elif isinstance(value, datetime):
            local = _local(value, self.zone)
            if local is None:
                sheet.write_string(row, column, value.isoformat().replace("+00:00", "Z"))
            else:
                sheet.write_datetime(row, column, local, self.time_format)
        else:
            sheet.write_string(row, column, neutralise(str(value)))


def _local(moment: datetime, zone: ZoneInfo) -> datetime | None:
    """`moment` as a naive local time Excel can show, else None."""
    try:
        local = moment.astimezone(zone).replace(tzinfo=None)
    except (OverflowError, ValueError):
        return None
    return local if local.year >= 1900 else None


def _log_values(row: list[object]) -> list[object]:
    """A CSV log row with its RFC 3339 times read back as datetimes."""
    return [datetime.fromisoformat(value.replace("Z", "+00:00"))
            if i in _LOG_TIMES and isinstance(value, str) else value
            for i, value in enumerate(row)]


def _summary_values(group: dict) -> list[object]:
    response, dispatch = group["intervals"]["response_s"], group["intervals"]["dispatch_s"]
    return [group["count"], response["n"], response["p50"], response["p90"], response["max"],
            response["share_within_target"], dispatch["n"], dispatch["p50"], dispatch["p90"],
            dispatch["max"]]


def write_summary(sheet: Sheet, period: Period, settings: Settings,
                  reports: dict[str, dict]) -> None:
    """The period, the targets, then one table per grouping, the total first."""
    first = reports[SUMMARY_GROUPS[0][0]]
    sheet.row("from", period.start)
    sheet.row("to (excluded)", period.end)
    sheet.row("times", f"local time, {settings.timezone}")
    sheet.row("response_target_s", first["targets"]["response_s"])
    sheet.row("call_processing_target_s", first["targets"]["dispatch_s"])
    sheet.blank()
    sheet.row("all", *SUMMARY_COLUMNS)
    if first["total"] is not None:
        sheet.row("all", *_summary_values(first["total"]))
    for group_by, label in SUMMARY_GROUPS:
        sheet.blank()
        sheet.row(label, *SUMMARY_COLUMNS)
        for group in reports[group_by]["groups"]:
            sheet.row(group["key"], *_summary_values(group))


def write_fractiles(sheet: Sheet, fractiles: list[dict]) -> None:
    sheet.row("minutes", "count", "share")
    for item in fractiles:
        sheet.row(item["minutes"], item["count"], item["share"])


def _grid(sheet: Sheet, label: str, cells: list[dict], value: str) -> None:
    """A weekday (rows, ISO 1-7) x hour (columns 0-23) table."""
    sheet.row(label, *activity.HOURS)
    for day in activity.WEEKDAYS:
        sheet.row(day, *(cell[value] for cell in cells if cell["weekday"] == day))


def write_workload(sheet: Sheet, workload: dict) -> None:
    sheet.row("definition", workload["definition"])
    sheet.blank()
    sheet.row("team_code", "kind", "incidents", "busy_s", "on_shift_s", "utilisation")
    for team in workload["teams"]:
        sheet.row(team["team_code"], team["kind"], team["incidents"], team["busy_s"],
                  team["on_shift_s"], team["utilisation"])
    sheet.blank()
    sheet.row("shift", "incidents", "busy_s", "on_shift_s", "utilisation")
    for shift in workload["by_shift"]:
        sheet.row(shift["shift"], shift["incidents"], shift["busy_s"], shift["on_shift_s"],
                  shift["utilisation"])
    gaps = workload["no_team_free"]
    sheet.blank()
    sheet.row("no_team_free_s", gaps["seconds"], "share", gaps["share"])
    sheet.row("start", "end", "duration_s")
    for interval in gaps["intervals"]:
        sheet.row(interval["start"], interval["end"], interval["duration_s"])
    sheet.blank()
    _grid(sheet, "no team free (s): weekday \\ hour", workload["hours_without_free_team"],
          "seconds")


def write_calls(sheet: Sheet, calls: dict) -> None:
    sheet.row("total", calls["total"])
    sheet.blank()
    _grid(sheet, "calls: weekday \\ hour", calls["by_hour_weekday"], "count")
    sheet.blank()
    sheet.row("disposition", "count", "share")
    for item in calls["dispositions"]:
        sheet.row(item["disposition"] or "open", item["count"], item["share"])
    dropped = calls["dropped"]
    delay = dropped["callback_delay_s"]
    sheet.blank()
    sheet.row("dropped", "called_back", "callback_delay_n", "callback_delay_p50_s",
              "callback_delay_p90_s", "callback_delay_max_s")
    sheet.row(dropped["count"], dropped["called_back"], delay["n"], delay["p50"],
              delay["p90"], delay["max"])


async def _reports(conn: asyncpg.Connection, settings: Settings, period: Period) -> dict:
    """Everything but the log, read before any cell is written."""
    summaries = {group_by: await service.get_response_times(
        conn, settings, ReportQuery(period, group_by)) for group_by, _ in SUMMARY_GROUPS}
    return {"summaries": summaries,
            "workload": await activity.get_workload(conn, settings, period),
            "calls": await activity.get_calls(conn, settings, period)}


async def write_workbook(conn: asyncpg.Connection, settings: Settings, period: Period,
                         out: IO[bytes]) -> None:
    """Write the whole workbook to `out` (a binary file). The caller holds a
    transaction open (the log is read with a cursor), best a repeatable-read one so
    that every sheet sees the same data."""
    reports = await _reports(conn, settings, period)
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_numbers": False, "strings_to_urls": False})
    try:
        time_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        zone = ZoneInfo(settings.timezone)
        sheets = {name: Sheet(book, name, zone, time_format)
                  for name in ("Ringkasan", "Fraktil", "Beban kerja", "Panggilan", "Log")}

        def write_reports() -> None:
            write_summary(sheets["Ringkasan"], period, settings, reports["summaries"])
            write_fractiles(sheets["Fraktil"], reports["summaries"]["priority"]["fractiles"])
            write_workload(sheets["Beban kerja"], reports["workload"])
            write_calls(sheets["Panggilan"], reports["calls"])
            sheets["Log"].row(*LOG_COLUMNS)

        def write_log(batch: list[list[object]]) -> None:
            for row in batch:
                sheets["Log"].row(*_log_values(row))

        await asyncio.to_thread(write_reports)
        batch = []
        async for row in service.iterate_log_rows(conn, settings, period):
            batch.append(row)
            if len(batch) >= LOG_BATCH:
                await asyncio.to_thread(write_log, batch)
                batch = []
        await asyncio.to_thread(write_log, batch)
    finally:
        await asyncio.to_thread(book.close)
