"""What a report is asked for: a period in the city's time zone, and a grouping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams

from dispatch.errors import ValidationFailed

GROUP_BY = ("priority", "district", "kelurahan", "team", "shift", "hour", "weekday", "week",
            "month")
DEFAULT_DAYS = 30
MAX_DAYS = 3660


@dataclass(frozen=True)
class Period:
    """Incidents received in [start, end), both UTC instants."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class ReportQuery:
    period: Period
    group_by: str | None


def _instant(raw: str, field: str, zone: ZoneInfo, *, end: bool) -> datetime:
    """A date (a whole local day: its start, or for `end` the next day's start) or an
    RFC 3339 time with an offset."""
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time(), zone).astimezone(UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed.field(field, "must be a date (YYYY-MM-DD) or an RFC 3339 "
                                            "time") from None
    if moment.tzinfo is None:
        raise ValidationFailed.field(field, "a time needs its offset, e.g. Z or +08:00")
    return moment


def check_period(params: QueryParams, timezone: str) -> Period:
    """`from` and `to` of the query; `to` defaults to now, `from` to 30 days before.
    A date means the whole day in the city's time zone (`to` included)."""
    zone = ZoneInfo(timezone)
    raw_from, raw_to = params.get("from"), params.get("to")
    end = _instant(raw_to, "to", zone, end=True) if raw_to else datetime.now(UTC)
    try:
        start = (_instant(raw_from, "from", zone, end=False) if raw_from
                 else end - timedelta(days=DEFAULT_DAYS))
    except OverflowError:
        raise ValidationFailed.field("to", "is too early for a default from") from None
    if start >= end:
        raise ValidationFailed.field("from", "must be before to")
    if end - start > timedelta(days=MAX_DAYS):
        raise ValidationFailed.field("from", f"a report covers at most {MAX_DAYS} days")
    return Period(start, end)


def check_group_by(params: QueryParams) -> str | None:
    group_by = params.get("group_by")
    if group_by is not None and group_by not in GROUP_BY:
        raise ValidationFailed.field("group_by", "must be one of " + ", ".join(GROUP_BY))
    return group_by


def check_report_query(params: QueryParams, timezone: str) -> ReportQuery:
    return ReportQuery(check_period(params, timezone), check_group_by(params))
