"""A past of the service, generated whole in memory from a seed: the same seed, teams,
city and period give the same history."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.history import model
from dispatch.history.calls import (
    Call,
    Callback,
    LineChange,
    caught_calls,
    incident_calls,
    line_changes,
    other_calls,
    plan_failovers,
    route_calls,
)
from dispatch.history.city import Area, AreaPicker, sample_point
from dispatch.history.simulate import Fleet, Incident, Team, run_incident


@dataclass(frozen=True)
class TeamSpec:
    """A team the history may send: its base, kind and the shifts it works."""

    id: int
    code: str
    kind: str
    lat: float
    lon: float
    shift_starts: tuple[int, ...]  # local hours
    shift_hours: int


@dataclass(frozen=True)
class Setting:
    """Everything a history depends on besides the seed."""

    start: float  # seconds since the epoch
    end: float
    zone: ZoneInfo
    teams: list[TeamSpec]
    areas: list[Area]
    hospital: tuple[float, float]
    primary_line: int
    backup_line: int | None
    ack_timeout_s: float
    daily_rate: float = model.DAILY_RATE


@dataclass
class History:
    incidents: list[Incident]  # by received time
    calls: list[Call]  # by received time
    callbacks: list[Callback]
    line_changes: list[LineChange]
    shifts: dict[int, list[tuple[float, float]]]  # team id -> (start, end)


def local_days(setting: Setting) -> list[date]:
    """The local dates the period touches."""
    first = datetime.fromtimestamp(setting.start, setting.zone).date()
    last = datetime.fromtimestamp(setting.end, setting.zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _midnight(day: date, zone: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()


def shift_windows(spec: TeamSpec, days: list[date], zone: ZoneInfo) -> list[tuple[float, float]]:
    """The team's shifts from the day before the period to the day after, sorted."""
    around = [days[0] - timedelta(days=1), *days, days[-1] + timedelta(days=1)]
    windows = []
    for day in around:
        for hour in spec.shift_starts:
            start = datetime(day.year, day.month, day.day, hour, tzinfo=zone).timestamp()
            windows.append((start, start + spec.shift_hours * 3600))
    return sorted(windows)


def arrival_times(rng: random.Random, setting: Setting, days: list[date]) -> list[float]:
    """When emergencies were called in: a rate per day, spread over the local hours."""
    total = sum(model.HOURLY)
    times = []
    for day in days:
        rate = model.day_rate(rng, day.weekday(), setting.daily_rate)
        midnight = _midnight(day, setting.zone)
        for hour, weight in enumerate(model.HOURLY):
            for _ in range(model.poisson(rng, rate * weight / total)):
                times.append(midnight + hour * 3600 + rng.uniform(0, 3600))
    return sorted(t for t in times if setting.start <= t < setting.end)


def draw_incident(rng: random.Random, received: float, picker: AreaPicker) -> Incident:
    """What was called in, where (a kelurahan by population, a point inside it), and
    when the operator had it stored."""
    priority = model.pick(rng, model.PRIORITY_SHARES)
    area = picker.pick(rng)
    lat, lon = sample_point(rng, area)
    complaint = rng.choice(model.COMPLAINTS[priority])
    patients = 1 + (model.poisson(rng, 0.6) if complaint.startswith("Kecelakaan") else 0)
    return Incident(
        received=received, created=received + model.CALL_PROCESSING.draw(rng),
        priority=priority,
        required_kind=model.pick(rng, model.REQUIRED_KIND_SHARES[priority]), area=area,
        lat=lat, lon=lon, complaint=complaint, patients=patients,
        caller=model.caller_number(rng), address=model.address(rng, area.name))


def generate(seed: int, setting: Setting) -> History:
    """The incidents called in over [start, end), worked by the teams in order of their
    storing, those finished by `end`; their calls and the everyday ones; failovers of
    the primary line (when there is a backup) and the calls they dropped."""
    rng, days = random.Random(seed), local_days(setting)
    shifts = {spec.id: shift_windows(spec, days, setting.zone) for spec in setting.teams}
    offset = datetime.fromtimestamp(setting.start, setting.zone).utcoffset().total_seconds()
    fleet = Fleet([Team(s.id, s.code, s.kind, s.lat, s.lon, shifts[s.id])
                   for s in setting.teams], offset)
    picker = AreaPicker(setting.areas)
    drawn = [draw_incident(rng, t, picker) for t in arrival_times(rng, setting, days)]
    for incident in sorted(drawn, key=lambda i: i.created):
        run_incident(rng, fleet, incident, ack_timeout_s=setting.ack_timeout_s,
                     hospital=setting.hospital)
    incidents = [i for i in drawn if i.finished < setting.end]
    episodes = (plan_failovers(rng, setting.start, setting.end)
                if setting.backup_line is not None else [])
    calls = incident_calls(rng, incidents)
    for call in calls:  # an incident's call may outlast it; none outlasts the period
        call.ended = min(call.ended, setting.end)
    calls += [c for c in other_calls(rng, [_midnight(d, setting.zone) for d in days])
              if setting.start <= c.received and c.ended < setting.end]
    calls += caught_calls(rng, episodes)
    calls.sort(key=lambda c: c.received)
    callbacks = route_calls(rng, calls, episodes, setting.primary_line, setting.backup_line)
    changes = (line_changes(rng, episodes, setting.primary_line, setting.backup_line)
               if setting.backup_line is not None else [])
    return History(incidents, calls, callbacks, changes, shifts)
