"""The discrete-event simulation of the service for one replication (a heapq event
loop; times in minutes).

A call waits `call_processing`, then is allocated as live allocation does: among the
free, on-duty teams of a fitting kind, routes from each team's position to the call
(the router), ranked by routing.ranking.rank (nearest ETA, then fewer assignments
today, then code) - the very function dispatch/incidents/allocation.py ranks with.
With no team free the call joins the queue, served most urgent then oldest first
(as db/incidents.lock_next_queued orders it) whenever a fitting team comes free or
on duty. A team goes: turnout, travel, on scene, then for a share of patients the
drive to the nearest hospital and the handover; then it is free again where it is,
and drives back to its base, available all the way (its position is interpolated
along the way back).

Response = call processing + wait for a free team + turnout + travel.
"""

from __future__ import annotations

import functools
import heapq
import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

from dispatch.planner.calls import MINUTES_PER_DAY, Calls
from dispatch.planner.scenario import Shift
from routing.ranking import rank

DISPATCH, FREE, ON_DUTY = 0, 1, 2
DRAIN_DAYS = 7


class _Eta(NamedTuple):
    """What the ranking reads of a route (the planner needs no distance)."""

    eta_s: int


@dataclass(frozen=True)
class TeamSpec:
    """A team as the simulation needs it: `site` indexes Trips.sites (its base)."""

    code: str
    kind: str
    site: int
    shifts: tuple[Shift, ...]

    @functools.cached_property
    def full_time(self) -> bool:
        return any(shift.hours() >= 24 for shift in self.shifts)

    def on_duty(self, minute: float) -> bool:
        if self.full_time:
            return True
        hour = (minute / 60.0) % 24
        return any(shift.covers(hour) for shift in self.shifts)

    def duty_hours(self) -> float:
        return min(24.0, sum(shift.hours() for shift in self.shifts))


@dataclass(frozen=True)
class Trips:
    """The travel times a replication needs, in seconds, computed up front by the router
    in a few vectorised calls: from every site (team bases, candidate bases) to every
    call and back, from each call to its nearest hospital, from hospitals to sites."""

    sites: np.ndarray           # (S, 2) lat, lon
    to_call: np.ndarray         # (S, N)
    from_call: np.ndarray       # (N, S)
    hospital_of: np.ndarray     # (N,) index of the nearest hospital
    to_hospital: np.ndarray     # (N,)
    hospitals: np.ndarray       # (H, 2)
    hospital_to_site: np.ndarray  # (H, S)


def plan_trips(router, calls: Calls, sites: np.ndarray, hospitals: np.ndarray) -> Trips:
    """Trips for `calls` between `sites` and `hospitals` (arrays of (lat, lon))."""
    points = np.column_stack([calls.lat, calls.lon])
    to_hospitals = router.eta_matrix(points, hospitals).reshape(len(points), len(hospitals))
    nearest = np.argmin(to_hospitals, axis=1) if len(points) else np.zeros(0, dtype=int)
    return Trips(sites=sites, to_call=router.eta_matrix(sites, points).reshape(len(sites), -1),
                 from_call=router.eta_matrix(points, sites).reshape(len(points), len(sites)),
                 hospital_of=nearest,
                 to_hospital=to_hospitals[np.arange(len(points)), nearest],
                 hospitals=hospitals, hospital_to_site=router.eta_matrix(hospitals, sites))


@dataclass
class _Team:
    spec: TeamSpec
    base: tuple[float, float]
    busy: bool = False
    left_at: float = 0.0        # when it set off back to base
    back_at: float = 0.0        # when it is at base again
    origin: tuple[float, float] = (0.0, 0.0)  # where it set off from
    back_min: float = 0.0       # the drive back of the job under way
    end_point: tuple[float, float] = (0.0, 0.0)  # where the job under way ends
    day: int = -1
    today: int = 0
    busy_min: float = 0.0

    def assignments_today(self, minute: float) -> int:
        return self.today if self.day == int(minute // MINUTES_PER_DAY) else 0


@dataclass
class Replication:
    """What one replication measured, for the calls after the warm-up (arrays by call)."""

    response: np.ndarray        # minutes
    waited: np.ndarray          # bool: no fitting team was free at allocation
    travel: np.ndarray          # minutes
    team: np.ndarray            # index of the team sent
    area: np.ndarray
    priority: np.ndarray
    utilisation: float          # busy minutes / on-duty minutes, all teams
    team_utilisation: list[float] = field(default_factory=list)


def _lists(source: object, names: tuple[str, ...]) -> SimpleNamespace:
    return SimpleNamespace(**{name: getattr(source, name).tolist() for name in names})


class _Run:
    """One replication's event loop; see the module's docstring."""

    def __init__(self, teams: list[TeamSpec], calls: Calls, trips: Trips, router,
                 window: tuple[float, float]) -> None:
        self.calls, self.router, self.window = calls, router, window
        self.teams = [_Team(spec, tuple(trips.sites[spec.site].tolist())) for spec in teams]
        # Plain lists: reading numpy arrays one element at a time costs several times
        # more, and the loop does little else.
        self.c = _lists(calls, ("at", "lat", "lon", "priority", "call_processing", "turnout",
                                "on_scene", "transport", "handover"))
        self.t = _lists(trips, ("to_call", "from_call", "hospital_of", "to_hospital",
                                "hospitals", "hospital_to_site"))
        count = len(calls)
        self.response = [math.nan] * count
        self.travel = [math.nan] * count
        self.waited = [False] * count
        self.team_of = [-1] * count
        self.asked_at = [0.0] * count
        self.queue: list[tuple[int, float, int]] = []  # a heap: priority, then age
        self.events: list[tuple[float, int, int, int]] = []
        self.order = 0

    def push(self, minute: float, kind: int, index: int) -> None:
        self.order += 1
        heapq.heappush(self.events, (minute, self.order, kind, index))

    def run(self) -> None:
        for i, (at, processing) in enumerate(zip(self.c.at, self.c.call_processing,
                                                 strict=True)):
            self.push(at + processing, DISPATCH, i)
        # Shifts go on past the last call's day, so that calls still queued then are
        # served by part-time teams too.
        days = math.ceil(self.window[1] / MINUTES_PER_DAY) + DRAIN_DAYS
        for j, team in enumerate(self.teams):
            if not team.spec.full_time:
                for day in range(days):
                    for shift in team.spec.shifts:
                        self.push(day * MINUTES_PER_DAY + shift.start * 60, ON_DUTY, j)
        while self.events:
            minute, _, kind, index = heapq.heappop(self.events)
            if kind == DISPATCH:
                self.dispatch(index, minute)
            elif kind == FREE:
                self.free(index, minute)
            elif not self.teams[index].busy:
                self.serve(index, minute)

    def dispatch(self, call: int, minute: float) -> None:
        self.asked_at[call] = minute
        kinds = self.calls.kinds[call]
        free = [j for j, team in enumerate(self.teams) if not team.busy
                and team.spec.kind in kinds and team.spec.on_duty(minute)]
        if not free:
            self.waited[call] = True
            heapq.heappush(self.queue, (self.c.priority[call], self.c.at[call], call))
            return
        self.assign(call, *self.nearest(free, call, minute), minute)

    def nearest(self, free: list[int], call: int, minute: float) -> tuple[int, int]:
        """(team, eta_s): the free team the ranking puts first for `call`."""
        etas = {}
        moving = [j for j in free if self.teams[j].back_at > minute]
        for j in free:
            if j not in moving:
                etas[j] = self.t.to_call[self.teams[j].spec.site][call]
        if moving:
            where = [self.position(self.teams[j], minute) for j in moving]
            # A moving team wins only at or below the best ETA from a base: the router
            # may stop its search there (the road router's one costly step).
            within = min(etas.values()) if etas else None
            found = self.router.eta_matrix(where, [(self.c.lat[call], self.c.lon[call])],
                                           within_s=within)
            etas.update(zip(moving, (int(e) for e in found[:, 0]), strict=True))
        routes = [_Eta(etas[j]) for j in free]
        order = rank(routes, [(self.teams[j].assignments_today(minute), self.teams[j].spec.code)
                              for j in free])
        best = free[order[0]]
        return best, etas[best]

    @staticmethod
    def position(team: _Team, minute: float) -> tuple[float, float]:
        """Where a team driving back is: along the straight line from where it set off
        to its base, in proportion to the time driven."""
        share = (minute - team.left_at) / (team.back_at - team.left_at)
        return (team.origin[0] + share * (team.base[0] - team.origin[0]),
                team.origin[1] + share * (team.base[1] - team.origin[1]))

    def assign(self, call: int, j: int, eta_s: int, minute: float) -> None:
        c, t, team = self.c, self.t, self.teams[j]
        team.busy = True
        day = int(minute // MINUTES_PER_DAY)
        team.today = team.today + 1 if team.day == day else 1
        team.day = day
        travel = eta_s / 60.0
        self.travel[call], self.team_of[call] = travel, j
        self.response[call] = (c.call_processing[call] + (minute - self.asked_at[call])
                               + c.turnout[call] + travel)
        end = minute + c.turnout[call] + travel + c.on_scene[call]
        if c.transport[call]:
            hospital = t.hospital_of[call]
            end += t.to_hospital[call] / 60.0 + c.handover[call]
            team.end_point = tuple(t.hospitals[hospital])
            team.back_min = t.hospital_to_site[hospital][team.spec.site] / 60.0
        else:
            team.end_point = (c.lat[call], c.lon[call])
            team.back_min = t.from_call[call][team.spec.site] / 60.0
        start, stop = self.window
        team.busy_min += max(0.0, min(end, stop) - max(minute, start))
        self.push(end, FREE, j)

    def free(self, j: int, minute: float) -> None:
        team = self.teams[j]
        team.busy = False
        team.origin, team.left_at = team.end_point, minute
        team.back_at = minute + team.back_min
        self.serve(j, minute)

    def serve(self, j: int, minute: float) -> None:
        """A team came free or on duty: the most urgent, oldest queued call it fits."""
        team = self.teams[j]
        if not team.spec.on_duty(minute):
            return
        passed_over = []
        while self.queue:
            entry = heapq.heappop(self.queue)
            if team.spec.kind in self.calls.kinds[entry[2]]:
                self.assign(entry[2], *self.nearest([j], entry[2], minute), minute)
                break
            passed_over.append(entry)
        for entry in passed_over:
            heapq.heappush(self.queue, entry)


def simulate(teams: list[TeamSpec], calls: Calls, trips: Trips, router, *,
             warmup_days: int, days: int) -> Replication:
    """Run one replication; measures the calls arriving after the warm-up."""
    window = (warmup_days * MINUTES_PER_DAY, (warmup_days + days) * MINUTES_PER_DAY)
    run = _Run(teams, calls, trips, router, window)
    run.run()
    measured = calls.at >= window[0]
    duty = [spec.duty_hours() * 60.0 * days for spec in teams]
    return Replication(
        response=np.array(run.response)[measured], waited=np.array(run.waited)[measured],
        travel=np.array(run.travel)[measured], team=np.array(run.team_of, dtype=int)[measured],
        area=calls.area[measured],
        priority=calls.priority[measured],
        utilisation=sum(t.busy_min for t in run.teams) / sum(duty),
        team_utilisation=[t.busy_min / d for t, d in zip(run.teams, duty, strict=True)])
