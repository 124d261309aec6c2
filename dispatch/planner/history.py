"""Scenario fields fitted from the service's own history (`dispatch112 plan --from-db`):
the call rate by weekday and hour, the priorities' mix, the share taken to hospital,
and lognormal call processing, turnout, on-scene and handover times (their mean and
sd, the method of moments). A field the scenario file gives wins over the fitted one;
a fitted one wins over the default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from db import planner as planner_db

# Fewer closed incidents than this leave a step time at the scenario's value.
MIN_SAMPLES = 20
RATE_FIELDS = ("calls_per_hour", "calls_per_hour_by_hour", "calls_per_hour_by_weekday_hour")
STEP_FIELDS = {"call_processing": "call_processing_min", "turnout": "turnout_min",
               "on_scene": "on_scene_min", "handover": "handover_min"}


def _local_midnight(moment: datetime, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _weekday_counts(first: datetime, end: datetime) -> list[int]:
    """How many of each weekday (Monday first) the local dates [first, end) hold."""
    counts = [0] * 7
    day = first
    while day < end:
        counts[day.weekday()] += 1
        day += timedelta(days=1)  # wall-clock arithmetic: local midnights
    return counts


def _distribution(row: asyncpg.Record, name: str) -> dict | None:
    count, mean, sd = row[f"{name}_n"], row[f"{name}_mean"], row[f"{name}_sd"]
    if count < MIN_SAMPLES or mean is None or mean <= 0:
        return None
    if not sd:
        return {"dist": "fixed", "mean": round(mean / 60, 3)}
    return {"dist": "lognormal", "mean": round(mean / 60, 3), "sd": round(sd / 60, 3)}


async def get_fitted(conn: asyncpg.Connection, *, timezone: str, days: int,
                     now: datetime | None = None) -> dict:
    """{"fields": scenario fields fitted, "incidents", "from", "to"} over the whole local
    days of the last `days` before today (from the first incident on, when later)."""
    zone = ZoneInfo(timezone)
    end = _local_midnight(now or datetime.now(UTC), zone)
    start = end - timedelta(days=days)
    span = await planner_db.get_history_span(conn, start, end)
    if not span["n"]:
        return {"fields": {}, "incidents": 0, "from": None, "to": None}
    start = max(start, _local_midnight(span["first"], zone))
    per_weekday = _weekday_counts(start, end)
    table = [[0.0] * 24 for _ in range(7)]
    for row in await planner_db.get_incident_counts(conn, start, end, timezone):
        weekday = row["weekday"] - 1
        table[weekday][row["hour"]] = round(row["n"] / max(per_weekday[weekday], 1), 4)
    fields: dict = {"calls_per_hour_by_weekday_hour": table}
    moments = await planner_db.get_step_moments(conn, start, end)
    for name, field in STEP_FIELDS.items():
        fitted = _distribution(moments, name)
        if fitted is not None:
            fields[field] = fitted
    if moments["seen_n"] >= MIN_SAMPLES:
        fields["transport_share"] = round(moments["transported_n"] / moments["seen_n"], 4)
    closed = moments["p1"] + moments["p2"] + moments["p3"]
    if closed >= MIN_SAMPLES:
        shares = [round(moments[f"p{p}"] / closed, 6) for p in (1, 2, 3)]
        shares[2] = round(1 - shares[0] - shares[1], 6)
        fields["priorities"] = {str(p): share for p, share in zip((1, 2, 3), shares,
                                                                   strict=True)}
    return {"fields": fields, "incidents": span["n"], "from": start.isoformat(),
            "to": end.isoformat()}


def merge_fitted(fitted: dict, data: dict) -> dict:
    """The scenario file's fields over the fitted ones; a file giving any call rate
    keeps its own rate."""
    base = dict(fitted)
    if any(field in data for field in RATE_FIELDS):
        for field in RATE_FIELDS:
            base.pop(field, None)
    return base | data
