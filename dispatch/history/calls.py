"""The calls of a past and its 112 line failovers.

Every incident has the call it was logged from (same received time; the call ends
after the operator's first-aid advice), some a second caller's `duplicate`; besides,
the everyday calls of every other disposition (`prank`, `info`, `wrong_number`,
`silent`, `dropped`, `other`, `test`; some silent ones without a number). A call
arrives on the line active at its time: the primary, or the backup while the primary
is down. When the primary goes down, the calls open on it are dropped and called back
some minutes later, as the live service queues them (dispatch/lines/callbacks.py).
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

from dispatch.history import model
from dispatch.history.simulate import Incident

DOWN_REASONS = ("sip_options: no answer within 2 s (3 failures in a row)",
                "sip_options: 503 Service Unavailable (3 failures in a row)",
                "sip_options: unreachable: [Errno 113] No route to host (3 failures in a row)")
UP_REASON = "sip_options: 200 OK (2 successes in a row)"
# Failovers are at least this far apart (and from the period's end).
FAILOVER_GAP_S = 3600.0


@dataclass
class Call:
    received: float
    ended: float
    disposition: str
    caller: str | None  # None: withheld, or a handset without a SIM
    incident: int | None = None  # index in the incident list
    line_id: int | None = None


@dataclass(frozen=True)
class Callback:
    call: int  # index in the call list
    caller: str
    line_id: int
    dropped_at: float
    done_at: float


@dataclass(frozen=True)
class LineChange:
    at: float
    line_id: int
    state: str
    active_line_id: int
    reason: str


def plan_failovers(rng: random.Random, start: float, end: float) -> list[tuple[float, float]]:
    """(down, up) episodes of the primary line, sorted and apart from each other."""
    days = (end - start) / 86400
    downs = sorted(rng.uniform(start, end - FAILOVER_GAP_S)
                   for _ in range(model.poisson(rng, days * model.FAILOVERS_PER_DAY)))
    episodes: list[tuple[float, float]] = []
    for down in downs:
        if episodes and down < episodes[-1][1] + FAILOVER_GAP_S:
            continue
        episodes.append((down, down + model.FAILOVER_DOWN.draw(rng)))
    return episodes


def incident_calls(rng: random.Random, incidents: list[Incident]) -> list[Call]:
    """The call each incident was logged from, and the duplicates of some."""
    calls = []
    for index, incident in enumerate(incidents):
        ended = incident.created + model.CALL_AFTER_INCIDENT.draw(rng)
        calls.append(Call(incident.received, ended, "incident", incident.caller, index))
        if rng.random() < model.DUPLICATE_CALL_SHARE:
            at = incident.received + model.DUPLICATE_AFTER.draw(rng)
            if at < incident.finished:
                calls.append(Call(at, at + model.CALL_LENGTH["duplicate"].draw(rng),
                                  "duplicate", model.caller_number(rng), index))
    return calls


def other_calls(rng: random.Random, day_starts: list[float]) -> list[Call]:
    """The everyday calls that are no emergency, spread over the day like incidents."""
    calls = []
    for day in day_starts:
        for disposition, per_day in model.OTHER_CALLS_PER_DAY:
            for _ in range(model.poisson(rng, per_day)):
                hour = rng.choices(range(24), model.HOURLY)[0]
                at = day + hour * 3600 + rng.uniform(0, 3600)
                withheld = rng.random() < model.WITHHELD_SHARE.get(disposition, 0.0)
                calls.append(Call(at, at + model.CALL_LENGTH[disposition].draw(rng),
                                  disposition, None if withheld else model.caller_number(rng)))
    return calls


def caught_calls(rng: random.Random, episodes: list[tuple[float, float]]) -> list[Call]:
    """Calls open on the primary at the moment it failed (they will be dropped)."""
    calls = []
    for down, _ in episodes:
        for _ in range(model.pick(rng, model.CALLS_CAUGHT_BY_FAILOVER)):
            at = down - rng.uniform(*model.CAUGHT_CALL_OPEN_FOR)
            calls.append(Call(at, down + 60, "info", model.caller_number(rng)))
    return calls


def route_calls(rng: random.Random, calls: list[Call], episodes: list[tuple[float, float]],
                primary: int, backup: int | None) -> list[Callback]:
    """Put each call (sorted by time) on the line active when it came in; a call open
    on the primary when it went down ends `dropped` then, and is called back."""
    callbacks, downs = [], [down for down, _ in episodes]
    for index, call in enumerate(calls):
        last = bisect.bisect_right(downs, call.received) - 1
        primary_down = last >= 0 and call.received < episodes[last][1]
        call.line_id = backup if primary_down and backup is not None else primary
        if call.line_id != primary or last + 1 >= len(downs):
            continue
        failure = downs[last + 1]
        if call.received < failure < call.ended:
            call.ended, call.disposition = failure, "dropped"
            if call.caller is None:
                continue  # nobody to call back
            callbacks.append(Callback(index, call.caller, primary, failure,
                                      failure + model.CALLBACK_AFTER.draw(rng)))
    return callbacks


def line_changes(rng: random.Random, episodes: list[tuple[float, float]], primary: int,
                 backup: int) -> list[LineChange]:
    """The line history of each episode: the primary down (the backup active), then up."""
    changes = []
    for down, up in episodes:
        changes.append(LineChange(down, primary, "down", backup, rng.choice(DOWN_REASONS)))
        changes.append(LineChange(up, primary, "up", primary, UP_REASON))
    return changes
