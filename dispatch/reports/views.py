"""How report rows are shown: interval summaries, the fractile table, log rows for
CSV and spreadsheets (never a caller's number or name)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from db.reports import INTERVALS, TIMES
from dispatch.openapi import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    TIME,
    array,
    listing,
    nullable,
    shape,
)
from dispatch.reports.schemas import GROUP_BY
from dispatch.vocabulary import ETA_SOURCES

# The contract's columns first, in its order; then every other time and interval.
CONTRACT_COLUMNS = ("incident_id", "priority", "district", "team_code", "received_at",
                    "assigned_at", "acknowledged_at", "en_route_at", "on_scene_at",
                    "closed_at", "dispatch_s", "ack_s", "turnout_s", "travel_s", "response_s")
LOG_COLUMNS = CONTRACT_COLUMNS + tuple(
    name for name in ("kelurahan", "shift", "status", "assignment_count", *TIMES, *INTERVALS,
                      "within_target", "eta_source")
    if name not in CONTRACT_COLUMNS)
# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def interval_view(row: asyncpg.Record, name: str, target_s: float | None = None) -> dict:
    """`{"n", "p50", "p90", "max", "mean"}` of one interval in a summary row (seconds;
    None when no incident of the group has it), with `share_within_target` for the
    response."""
    p50, p90 = row[f"{name}_p"] or (None, None)
    view = {"n": row[f"{name}_n"], "p50": _rounded(p50), "p90": _rounded(p90),
            "max": _rounded(row[f"{name}_max"]), "mean": _rounded(row[f"{name}_mean"])}
    if name == "response_s":
        share = row["response_share"]
        view["share_within_target"] = None if share is None else round(float(share), 4)
        view["target_s"] = target_s
    return view


def group_view(row: asyncpg.Record, target_s: float) -> dict:
    return {"key": row["key"], "count": row["count"], "cancelled": row["cancelled"],
            "open": row["open"], "reassigned": row["reassigned"],
            "never_assigned": row["never_assigned"],
            "intervals": {name: interval_view(row, name, target_s) for name in INTERVALS}}


def fractile_view(histogram: list[asyncpg.Record], minutes: int = 30) -> list[dict]:
    """The cumulative fractile table: for M = 1..30, the share (and count) of reached
    incidents whose response took at most M minutes."""
    counts = {row["minute"]: row["count"] for row in histogram}
    total = sum(counts.values())
    items = []
    for minute in range(1, minutes + 1):
        within = sum(count for bucket, count in counts.items() if bucket <= minute)
        items.append({"minutes": minute, "count": within,
                      "share": round(within / total, 4) if total else None})
    return items


def neutralise(text: str) -> str:
    """Text a spreadsheet shows as text: a leading formula character is quoted."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: object) -> object:
    """One log value as written: times RFC 3339 UTC, seconds to 0.001, text neutralised."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, str):
        return neutralise(value)
    return value


def log_row(row: asyncpg.Record, target_s: float) -> list[object]:
    response = row["response_s"]
    values = {**dict(row), "within_target": None if response is None
              else response <= target_s}
    return [cell(values[column]) for column in LOG_COLUMNS]


# --- the JSON Schemas of the reports' answers (the OpenAPI document's) ------------------

PERIOD_VIEW = shape(**{"from": TIME, "to": TIME, "timezone": STRING})
FRACTILE = shape(minutes=INTEGER, count=INTEGER, share=nullable(NUMBER))
OBJECT = {"type": "object"}
# group_by null: one group of everything (the total).
RESPONSE_TIMES = shape(period=PERIOD_VIEW, group_by={"enum": [*GROUP_BY, None]}, targets=OBJECT,
                       total=nullable(OBJECT), groups=array(OBJECT), fractiles=array(FRACTILE),
                       eta_sources=shape(**{source: INTEGER for source in ETA_SOURCES}))
FRACTILES = listing(FRACTILE, period=PERIOD_VIEW)
POINTS = listing(
    shape(id=INTEGER, lat=NUMBER, lon=NUMBER, priority=INTEGER, status=STRING,
          response_s=nullable(NUMBER), late=nullable(BOOLEAN)),
    period=PERIOD_VIEW, target_s=NUMBER, limit=INTEGER, truncated=BOOLEAN)
WORKLOAD = shape(period=PERIOD_VIEW, observed_s=NUMBER, definition=STRING, teams=array(OBJECT),
                 by_shift=array(OBJECT), no_team_free=OBJECT,
                 hours_without_free_team=array(OBJECT))
CALLS = shape(period=PERIOD_VIEW, total=INTEGER, by_hour_weekday=array(OBJECT),
              by_hour=array(OBJECT), by_weekday=array(OBJECT), dispositions=array(OBJECT),
              dropped=OBJECT)
LINES = shape(period=PERIOD_VIEW, observed_s=NUMBER, lines=array(OBJECT), failover_count=INTEGER,
              failovers=array(OBJECT), critical_s=NUMBER)
