"""A line's state machine and the choice of the active line: pure functions, no I/O.

A line is `unknown` until its probe has spoken, `up` or `down` after. Single results
do not flip it: `fail_after` consecutive failures take it down, `recover_after`
consecutive successes bring it up, so one lost datagram does not move the 112
number and a flapping trunk does not get it back too early.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# (state, probe succeeded) -> the state the line moves to once the streak of that
# result reaches its threshold (recover_after for successes, fail_after for failures).
# A pair that is not here leaves the state as it is (up stays up on success, down
# stays down on failure).
TRANSITIONS: dict[tuple[str, bool], str] = {
    ("unknown", True): "up",
    ("unknown", False): "down",
    ("up", False): "down",
    ("down", True): "up",
}

# The states a line may be in for the monitor to move it to the key state: the guard
# of the conditional UPDATE that applies a transition.
SOURCES: dict[str, tuple[str, ...]] = {
    target: tuple(sorted({state for (state, _), to in TRANSITIONS.items() if to == target}))
    for target in set(TRANSITIONS.values())
}


@dataclass(frozen=True)
class Streaks:
    """A line's state and its runs of consecutive probe results."""

    state: str
    ok: int = 0
    fail: int = 0


def next_streaks(current: Streaks, ok: bool, fail_after: int, recover_after: int) -> Streaks:
    """The line after one more probe result: the run of that result grows, the other
    run ends, and the state moves when the run reaches its threshold."""
    ok_run = current.ok + 1 if ok else 0
    fail_run = 0 if ok else current.fail + 1
    target = TRANSITIONS.get((current.state, ok))
    reached = ok_run >= recover_after if ok else fail_run >= fail_after
    return Streaks(target if target is not None and reached else current.state, ok_run, fail_run)


@dataclass(frozen=True)
class LineState:
    id: int
    priority: int
    state: str


@dataclass(frozen=True)
class Active:
    """The line to call now. `critical`: no line is up and at least one is known
    down. `override`: an administrator forced this line."""

    line_id: int | None
    critical: bool
    override: bool


def pick_active(lines: Sequence[LineState], override_line_id: int | None) -> Active:
    """The administrator's override when set and the line exists; else the `up` line of
    lowest priority (then lowest id); with none up, the primary (lowest priority)
    stays, critical once any line is known down. No lines: nothing is active."""
    ordered = sorted(lines, key=lambda line: (line.priority, line.id))
    if not ordered:
        return Active(None, False, False)
    critical = not any(line.state == "up" for line in ordered) and any(
        line.state == "down" for line in ordered)
    if override_line_id is not None and any(line.id == override_line_id for line in ordered):
        return Active(override_line_id, critical, True)
    up = [line for line in ordered if line.state == "up"]
    return Active((up or ordered)[0].id, critical, False)
