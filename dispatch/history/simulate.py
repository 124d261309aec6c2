"""The demo's teams working through a past's incidents, one incident after the other.

Each team keeps the time it is busy until; an incident gets the nearest team that is
free and on shift when it is stored, else waits for the first fitting team to come
free (a queue, served in order of arrival). A team's next assignment therefore never
starts before its last one ended: no team is ever booked twice. Times are seconds
since the epoch here; the writer turns them into timestamps.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field

from dispatch.history import model
from dispatch.history.city import Area
from dispatch.vocabulary import KINDS_FOR
from routing.geodesic import DEFAULT_CIRCUITY, DEFAULT_SPEED_KMH, haversine_m


@dataclass
class Team:
    """A team, its base, its shifts as sorted (start, end) pairs, and its busy time."""

    id: int
    code: str
    kind: str
    lat: float
    lon: float
    shifts: list[tuple[float, float]]
    busy_until: float = -math.inf
    # Assignments on one local day (day number, count): the live tie-break.
    day_count: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        self.starts = [start for start, _ in self.shifts]

    def available_from(self, t: float) -> float | None:
        """The first moment at or after `t` when the team is free and on shift; None
        when it has no shift left."""
        moment = max(t, self.busy_until)
        index = bisect.bisect_right(self.starts, moment) - 1
        if index >= 0 and self.shifts[index][1] > moment:
            return moment
        return self.shifts[index + 1][0] if index + 1 < len(self.shifts) else None

    def count_on(self, day: int) -> int:
        return self.day_count[1] if self.day_count[0] == day else 0

    def note_assignment(self, day: int) -> None:
        self.day_count = (day, self.count_on(day) + 1)

    def road_m(self, lat: float, lon: float) -> float:
        """Road distance from the base, as the geodesic router estimates it."""
        return haversine_m(self.lat, self.lon, lat, lon) * DEFAULT_CIRCUITY


@dataclass
class Assignment:
    team_id: int
    created: float
    eta_s: int
    distance_m: int
    acknowledged: float | None = None
    ended: float | None = None
    end_reason: str | None = None


@dataclass
class Incident:
    """One simulated incident; a step time is None while the step did not happen."""

    received: float
    created: float
    priority: int
    required_kind: str | None
    area: Area
    lat: float
    lon: float
    complaint: str
    patients: int
    caller: str
    address: str
    assigned: float | None = None
    last_assigned: float | None = None
    acknowledged: float | None = None
    en_route: float | None = None
    on_scene: float | None = None
    transporting: float | None = None
    at_hospital: float | None = None
    closed: float | None = None
    cancelled: float | None = None
    cancel_reason: str | None = None
    last_team_id: int | None = None
    assignments: list[Assignment] = field(default_factory=list)

    @property
    def finished(self) -> float:
        return self.closed if self.closed is not None else self.cancelled

    @property
    def status(self) -> str:
        return "closed" if self.closed is not None else "cancelled"


class Fleet:
    """The teams and the allocation rule of the live service: the nearest free team of
    a fitting kind, else the first to come free."""

    def __init__(self, teams: list[Team], utc_offset_s: float) -> None:
        self.teams = teams
        self.by_id = {team.id: team for team in teams}
        # Local day numbers from a fixed offset: the city's zone keeps no summer time.
        self.utc_offset_s = utc_offset_s

    def day(self, t: float) -> int:
        return int((t + self.utc_offset_s) // 86400)

    def allocate(self, t: float, kinds: tuple[str, ...], lat: float, lon: float,
                 exclude: tuple[int, ...] = ()) -> tuple[Team, float] | None:
        """(team, when) for an incident at (lat, lon) stored at `t`: the earliest
        moment a fitting team is free; among those free then the nearest, ties (teams
        sharing a base) to the one with fewer assignments that day, then by code."""
        best = None
        for team in self.teams:
            if team.kind not in kinds or team.id in exclude:
                continue
            at = team.available_from(t)
            if at is None:
                continue
            key = (at, round(team.road_m(lat, lon)), team.count_on(self.day(at)), team.code)
            if best is None or key < best[0]:
                best = (key, team)
        if best is None:
            return None
        best[1].note_assignment(self.day(best[0][0]))
        return best[1], best[0][0]


def _assignment(rng: random.Random, team: Team, when: float, queued: bool,
                incident: Incident) -> Assignment:
    """The assignment row: a sweep's wait when the incident was queued, else the
    allocating transaction's lag; ETA and distance as the router gives them."""
    lag = rng.uniform(0, model.SWEEP_S) if queued else rng.uniform(*model.ALLOCATION_LAG)
    distance = team.road_m(incident.lat, incident.lon)
    return Assignment(team.id, when + lag, round(distance / (DEFAULT_SPEED_KMH / 3.6)),
                      round(distance))


def _work(rng: random.Random, incident: Incident, team: Team, ack_timeout_s: float,
          hospital: tuple[float, float]) -> None:
    """The steps of the team that goes, from its assignment to the clear."""
    final = incident.assignments[-1]
    ack = min(model.ACK.draw(rng), ack_timeout_s * 0.95)
    incident.acknowledged = final.acknowledged = final.created + ack
    incident.en_route = incident.acknowledged + model.TURNOUT.draw(rng)
    distance = team.road_m(incident.lat, incident.lon)
    incident.on_scene = incident.en_route + model.travel_s(rng, distance, incident.area.hilly)
    if rng.random() < model.TRANSPORT_SHARE[incident.priority]:
        incident.transporting = incident.on_scene + model.ON_SCENE.draw(rng)
        to_hospital = haversine_m(incident.lat, incident.lon, *hospital) * DEFAULT_CIRCUITY
        incident.at_hospital = incident.transporting + model.transport_s(rng, to_hospital)
        incident.closed = incident.at_hospital + model.HANDOVER.draw(rng)
    else:
        incident.closed = incident.on_scene + model.TREATED_ON_SCENE.draw(rng)
    final.ended, final.end_reason = incident.closed, "completed"


STEPS = ("acknowledged", "en_route", "on_scene", "transporting", "at_hospital")


def _cancel(rng: random.Random, incident: Incident) -> None:
    """Cancel between the incident's storing and the team's arrival: steps after that
    moment never happened, assignments made after it are dropped, the running one
    ends `cancelled`."""
    window_end = max(incident.on_scene - 5, incident.created + 31)
    at = incident.cancelled = rng.uniform(incident.created + 30, window_end)
    incident.cancel_reason = rng.choice(model.CANCEL_REASONS)
    incident.closed = None
    for step in STEPS:
        if getattr(incident, step) is not None and getattr(incident, step) >= at:
            setattr(incident, step, None)
    incident.assignments = [a for a in incident.assignments if a.created < at]
    if not incident.assignments:
        incident.assigned = incident.last_assigned = incident.last_team_id = None
        return
    last = incident.assignments[-1]
    if last.ended is None or last.ended > at:
        last.ended, last.end_reason = at, "cancelled"
        if last.acknowledged is not None and last.acknowledged >= at:
            last.acknowledged = None
    incident.last_assigned, incident.last_team_id = last.created, last.team_id


def run_incident(rng: random.Random, fleet: Fleet, incident: Incident, *,
                 ack_timeout_s: float, hospital: tuple[float, float]) -> None:
    """Allocate, possibly let the first team time out and send the next, work the steps,
    possibly cancel; then mark the teams busy until their assignments ended (a team
    that timed out stays out of service a while longer)."""
    kinds = KINDS_FOR[incident.required_kind]
    timeout = rng.random() < model.ACK_TIMEOUT_SHARE
    cancel = rng.random() < model.CANCEL_SHARE
    first = fleet.allocate(incident.created, kinds, incident.lat, incident.lon)
    if first is None:
        raise RuntimeError(f"no team of {kinds} has a shift at or after the incident")
    team, when = first
    row = _assignment(rng, team, when, when > incident.created, incident)
    incident.assignments.append(row)
    incident.assigned = row.created
    out_of_service = model.OUT_OF_SERVICE.draw(rng)
    if timeout:
        timed_out = row.created + ack_timeout_s + rng.uniform(0, model.SWEEP_S)
        second = fleet.allocate(timed_out, kinds, incident.lat, incident.lon,
                                exclude=(team.id,))
        if second is not None:  # else no other fitting team: the first one answers
            row.ended, row.end_reason = timed_out, "ack_timeout"
            team, when = second
            incident.assignments.append(_assignment(rng, team, when, True, incident))
    incident.last_assigned = incident.assignments[-1].created
    incident.last_team_id = team.id
    _work(rng, incident, team, ack_timeout_s, hospital)
    if cancel:
        _cancel(rng, incident)
    for row in incident.assignments:
        busy = row.ended + (out_of_service if row.end_reason == "ack_timeout" else 0.0)
        team = fleet.by_id[row.team_id]
        team.busy_until = max(team.busy_until, busy)
