"""The background sweep every instance runs: ack timeouts, the queue, signal lost,
held-back GPS fixes, the event log's retention, old login throttle rows.

Each duty runs in short transactions of its own and skips rows another instance is
already handling, so any number of instances may sweep at once.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from db.pool import DATABASE_ERRORS
from dispatch.auth.service import do_prune_logins
from dispatch.context import Context
from dispatch.events.retention import do_prune_events
from dispatch.incidents.queue import do_serve_queue, do_withdraw_overdue
from dispatch.teams.presence import do_announce_held_fixes, do_mark_signal_lost

log = structlog.get_logger(__name__)


async def run_sweeper(ctx: Context, stop: asyncio.Event) -> None:
    """Sweep every `sweep_interval_s` until `stop` is set (the event log's retention and
    old login throttle rows every `prune_every_s`); errors are logged, not fatal."""
    pruned_at = float("-inf")
    while not stop.is_set():
        try:
            await do_withdraw_overdue(ctx)
            await do_serve_queue(ctx)
            await do_mark_signal_lost(ctx)
            await do_announce_held_fixes(ctx)
            if time.monotonic() - pruned_at >= ctx.settings.prune_every_s:
                await do_prune_events(ctx)
                await do_prune_logins(ctx.pool, ctx.settings)
                pruned_at = time.monotonic()
        except DATABASE_ERRORS as exc:
            log.error("sweeper.failed", error=str(exc))
        try:
            await asyncio.wait_for(stop.wait(), ctx.settings.sweep_interval_s)
        except TimeoutError:
            pass
