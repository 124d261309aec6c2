"""The background sweep every instance runs: assignments by SMS, ack timeouts, the
queue, signal lost, held-back GPS fixes, the event log's retention, old login throttle
rows, caller numbers past their retention.

Each duty runs in short transactions of its own and skips rows another instance is
already handling, so any number of instances may sweep at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from dispatch.auth.service import do_prune_logins
from dispatch.background import Backoff, run_step
from dispatch.calls.retention import do_forget_numbers
from dispatch.context import Context
from dispatch.events.retention import do_prune_events
from dispatch.incidents.queue import do_serve_queue, do_withdraw_overdue
from dispatch.sms.service import do_send_fallback
from dispatch.teams.positions import do_announce_fixes
from dispatch.teams.presence import do_mark_signal_lost

DUTIES = (("sweeper.sms_fallback", do_send_fallback),
          ("sweeper.withdraw_overdue", do_withdraw_overdue),
          ("sweeper.serve_queue", do_serve_queue),
          ("sweeper.signal_lost", do_mark_signal_lost),
          ("sweeper.held_fixes", do_announce_fixes))
# Every `prune_every_s` only: keeping tables from growing is not urgent.
RARE_DUTIES = (("sweeper.prune_events", do_prune_events),
               ("sweeper.prune_logins", lambda ctx: do_prune_logins(ctx.pool, ctx.settings)),
               ("sweeper.forget_numbers", do_forget_numbers))


async def sweep_once(ctx: Context, rare: bool = False) -> bool:
    """Each duty once (and the rare ones too when `rare`), each on its own (one failing
    does not skip the others); whether all succeeded. Failures are logged
    (dispatch.background.run_step)."""
    duties = DUTIES + (RARE_DUTIES if rare else ())
    results = [await run_step(name, lambda duty=duty: duty(ctx)) for name, duty in duties]
    return all(results)


async def run_sweeper(ctx: Context, stop: asyncio.Event) -> None:
    """Sweep every `sweep_interval_s` until `stop` is set. No error stops it: after a
    failed round it waits longer (doubling, up to `loop_backoff_max_s`)."""
    backoff = Backoff(ctx.settings.sweep_interval_s, ctx.settings.loop_backoff_max_s)
    rare_at = float("-inf")
    while not stop.is_set():
        rare = time.monotonic() - rare_at >= ctx.settings.prune_every_s
        rare_at = time.monotonic() if rare else rare_at
        wait_s = backoff.next_s(await sweep_once(ctx, rare))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait_s)
