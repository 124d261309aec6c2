"""The background sweep every instance runs: ack timeouts, the queue, signal lost.

Each duty runs in short transactions of its own and skips rows another instance is
already handling, so any number of instances may sweep at once.
"""

from __future__ import annotations

import asyncio
import contextlib

from dispatch.background import Backoff, run_step
from dispatch.context import Context
from dispatch.incidents.queue import do_serve_queue, do_withdraw_overdue
from dispatch.teams.presence import do_mark_signal_lost

DUTIES = (("sweeper.withdraw_overdue", do_withdraw_overdue),
          ("sweeper.serve_queue", do_serve_queue),
          ("sweeper.signal_lost", do_mark_signal_lost))


async def sweep_once(ctx: Context) -> bool:
    """Each duty once, each on its own (one failing does not skip the others);
    whether all succeeded. Failures are logged (dispatch.background.run_step)."""
    results = [await run_step(name, lambda duty=duty: duty(ctx)) for name, duty in DUTIES]
    return all(results)


async def run_sweeper(ctx: Context, stop: asyncio.Event) -> None:
    """Sweep every `sweep_interval_s` until `stop` is set. No error stops it: after a
    failed round it waits longer (doubling, up to `loop_backoff_max_s`)."""
    backoff = Backoff(ctx.settings.sweep_interval_s, ctx.settings.loop_backoff_max_s)
    while not stop.is_set():
        wait_s = backoff.next_s(await sweep_once(ctx))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait_s)
