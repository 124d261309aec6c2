"""Whether a team's phone is reachable: `signal lost` when it has not been heard
from for `signal_lost_s` while on duty, shown to operators in `team.updated`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable

import structlog

from db import teams as teams_db
from dispatch.background import run_step
from dispatch.context import Context
from dispatch.states import get_transition
from dispatch.teams.service import do_announce_team

log = structlog.get_logger(__name__)
SYSTEM = "system"


async def do_touch_devices(ctx: Context, team_ids: list[int], *,
                           unseen_for_s: float | None = None) -> None:
    """These teams' phones are connected: note it (with `unseen_for_s`, for those not
    heard from for that long only), and announce a signal that is back."""
    if not team_ids:
        return
    async with ctx.transaction() as conn:
        await teams_db.touch_devices(conn, team_ids, unseen_for_s)
        for team in await teams_db.clear_signal_lost(conn, team_ids):
            await do_announce_team(conn, team["id"], actor=SYSTEM,
                                   gps_fresh_s=ctx.settings.gps_fresh_s)


async def do_phone_connected(ctx: Context, team_id: int) -> bool:
    """A phone's socket opened: an `unreachable` team is heard from again and available
    (a socket that stayed open all along does not count: its crew did not answer).
    Whether it became available."""
    step = get_transition("reachable").team
    async with ctx.transaction() as conn:
        team = await teams_db.update_team_status(conn, team_id, step.target, step.sources,
                                                 ctx.settings.gps_fresh_s)
        if team is not None:
            await do_announce_team(conn, team_id, actor=SYSTEM,
                                   gps_fresh_s=ctx.settings.gps_fresh_s, row=team)
    return team is not None


async def do_mark_signal_lost(ctx: Context) -> int:
    """Announce on-duty teams whose phone has been silent too long."""
    async with ctx.transaction() as conn:
        lost = await teams_db.mark_signal_lost(conn, ctx.settings.signal_lost_s)
        for team in lost:
            await do_announce_team(conn, team["id"], actor=SYSTEM,
                                   gps_fresh_s=ctx.settings.gps_fresh_s)
    return len(lost)


async def run_presence(ctx: Context, get_team_ids: Callable[[], Iterable[int]],
                       stop: asyncio.Event) -> None:
    """Every `presence_touch_s` until `stop`, note the phones connected here that were
    not heard from for half that (a phone sending fixes is noted by each fix: with
    5,000 phones, touching every team locked all 5,000 rows for 50 ms and more, and
    every reservation waited). No error stops it: a failed round is logged and tried
    again at the next one."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), ctx.settings.presence_touch_s)
        if not stop.is_set():
            await run_step("presence.touch", lambda: do_touch_devices(
                ctx, sorted(set(get_team_ids())),
                unseen_for_s=ctx.settings.presence_touch_s / 2))
