"""Announcing the teams' GPS fixes to the dashboards, in rounds.

A phone's fix is stored by one statement (dispatch.responders.service) and announced
here: each round takes every team whose latest fix may be shown now and writes their
`team.updated` events in one transaction. At 1,000 phones sending a fix every 10 s
that is four transactions a second instead of a hundred, each of six round trips.

A round starts as soon as a fix was stored on this instance and the previous round
is at least `gps_round_s` old: a lone fix is on the dashboards within milliseconds,
a stream of them is gathered into rounds. Shorter rounds are smaller bursts of frames
to the dashboards (rounds of 1 s held other events back: docs/performance.md). A round
looks only at the teams whose fixes this instance stored since the last one (by the
primary key: with 5,000 phones a scan of every team took 9 ms a round, and every
dispatch committing meanwhile waited for it to reach the dashboards). The sweep runs a
round over every team, for fixes held back (dispatch.sweeper) or stored on an instance
that stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from functools import partial

from db import teams as teams_db
from dispatch.background import run_step
from dispatch.context import Context
from dispatch.teams.service import do_announce_team


async def do_announce_fixes(ctx: Context, team_ids: list[int] | None = None) -> int:
    """Announce every fix that may be shown now (teams_db.take_fixes_to_announce), of
    `team_ids` only when given, each as `team.updated` by its team with the fix's
    accuracy; how many."""
    async with ctx.transaction() as conn:
        teams = await teams_db.take_fixes_to_announce(conn, get_announce_every_s(ctx),
                                                      ctx.settings.gps_fresh_s, team_ids)
        for row in teams:
            await do_announce_team(conn, row["id"], actor=f"team:{row['code']}",
                                   gps_fresh_s=ctx.settings.gps_fresh_s, row=row,
                                   accuracy_m=row["fix_accuracy_m"])
    return len(teams)


def get_announce_every_s(ctx: Context) -> float:
    """How far apart a team's positions are announced: `gps_announce_s`, or longer when
    this instance's phones would otherwise be announced more than `gps_announce_per_s`
    times a second. Every dashboard gets every position: at 5,000 phones sending a fix
    every 10 s, 500 a second to each, a stream no one watches as such, that held every
    call's dispatch back (docs/performance.md, the seventh round); 25 s apart there."""
    every_s, per_s = ctx.settings.gps_announce_s, ctx.settings.gps_announce_per_s
    if per_s <= 0 or ctx.connected_team_ids is None:
        return every_s
    return max(every_s, len(set(ctx.connected_team_ids())) / per_s)


class FixRounds:
    """The trigger of this instance's rounds: `poke(team_id)` after storing a fix."""

    def __init__(self, round_s: float) -> None:
        self.round_s = round_s
        self._pending = asyncio.Event()
        self._team_ids: set[int] = set()

    def poke(self, team_id: int) -> None:
        self._team_ids.add(team_id)
        self._pending.set()

    async def run(self, ctx: Context, stop: asyncio.Event) -> None:
        """A round after each poke, at most one per `round_s`, until `stop`. A failed
        round is logged and its fixes wait for the sweep's."""
        last = float("-inf")
        while await self._next(stop):
            await _sleep_until(stop, last + self.round_s)
            self._pending.clear()
            team_ids, self._team_ids = sorted(self._team_ids), set()
            last = time.monotonic()
            await run_step("positions.round", partial(do_announce_fixes, ctx, team_ids))

    async def _next(self, stop: asyncio.Event) -> bool:
        """Wait for a poke; False once `stop` is set."""
        stopping = asyncio.ensure_future(stop.wait())
        poked = asyncio.ensure_future(self._pending.wait())
        await asyncio.wait((stopping, poked), return_when=asyncio.FIRST_COMPLETED)
        for waiter in (stopping, poked):
            waiter.cancel()
        return not stop.is_set()


async def _sleep_until(stop: asyncio.Event, at: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max(0.0, at - time.monotonic()))
