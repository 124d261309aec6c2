"""The line monitor: while this instance leads (leader.py), one probe loop per
monitored line, and the failover notifications' deliverer.

A probe loop keeps a fixed cadence: probe k starts at k x interval_s after the
first, whatever the previous one took (a probe that outlasts the interval is
followed at once, never by a burst). So a line that dies is found down at most
fail_after x interval_s + timeout_s after it died, plus the time to write it.

Every `line_poll_s` the leader beats, reloads the lines (a line added or its probe
changed, on any instance, starts or restarts its loop) and takes lines probed by
nothing (`none`) to be up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import structlog

from db import lines as lines_db
from db.pool import DATABASE_ERRORS
from dispatch.background import Backoff, run_step
from dispatch.context import Context
from dispatch.lines.leader import Election, new_instance_id
from dispatch.lines.probes import Probe, get_probe
from dispatch.lines.service import do_mark_unmonitored_up, do_record_result, do_refresh_active
from dispatch.lines.sip import ProbeResult, probe_options
from dispatch.lines.timing import finish_task, stop_task, wait_event
from dispatch.lines.webhooks import get_lease_s, run_deliverer

log = structlog.get_logger(__name__)


@dataclass
class _Loop:
    """A running probe loop: the probe settings it runs with, and how to stop it."""

    probe: Probe
    task: asyncio.Task
    stop: asyncio.Event = field(default_factory=asyncio.Event)


class LineMonitor:
    """This instance's part in watching the lines (see the module's docstring)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.instance_id = new_instance_id()
        self.election = Election(ctx.settings.database_url, self.instance_id,
                                 ctx.settings.line_leader_stale_s)
        self.probes_sent = 0
        self.webhook_wake = asyncio.Event()
        self._loops: dict[int, _Loop] = {}

    @property
    def leading(self) -> bool:
        return self.election.leading

    def wake_webhooks(self) -> None:
        """A notification was queued here: deliver it now rather than at the next poll."""
        self.webhook_wake.set()

    def status(self) -> dict:
        return {"instance_id": self.instance_id, "leading": self.leading,
                "probes_sent": self.probes_sent, "lines_probed": sorted(self._loops)}

    async def run(self, stop: asyncio.Event) -> None:
        """Lead when possible, stand by otherwise, until `stop` is set. No error stops
        it: a round that failed is logged, and the next waits longer."""
        backoff = Backoff(self.ctx.settings.line_poll_s, self.ctx.settings.loop_backoff_max_s)
        try:
            while not stop.is_set():
                ok = await run_step("lines.monitor", lambda: self._round(stop),
                                    instance_id=self.instance_id)
                await wait_event(stop, backoff.next_s(ok))
        finally:
            await self.election.step_down()
            await self.election.close()

    async def _round(self, stop: asyncio.Event) -> None:
        """Try to take the lead; lead until it is lost or `stop` is set."""
        if await self.election.try_lead():
            await self._lead(stop)

    async def _lead(self, stop: asyncio.Event) -> None:
        deliverer_stop = asyncio.Event()
        deliverer = asyncio.create_task(
            run_deliverer(self.ctx, self.instance_id, self.webhook_wake, deliverer_stop))
        try:
            while not stop.is_set():
                await self.election.beat()
                await self._reconcile()
                await wait_event(stop, self.ctx.settings.line_poll_s)
        except DATABASE_ERRORS as exc:
            log.warning("lines.lead_lost", instance_id=self.instance_id, error=repr(exc))
        finally:
            await self._sync_loops({})
            # Not cancelled mid-batch: POSTs cut off after they reached a receiver would
            # be sent again once their claims are over. The batch in hand ends within
            # its claims (webhooks.py), recorded; the lead's next holder takes the rest.
            await finish_task(deliverer, deliverer_stop, get_lease_s(self.ctx))
            await self.election.step_down()

    async def _reconcile(self) -> None:
        poll_s = self.ctx.settings.line_poll_s
        async with self.election.transaction(self.ctx.after_commit) as conn:
            rows = await lines_db.get_lines(conn)
            probes = {row["id"]: get_probe(row["probe"], poll_s) for row in rows}
            for row in rows:
                if not probes[row["id"]].monitored and row["state"] != "up":
                    await do_mark_unmonitored_up(conn, self.ctx, row)
            if await do_refresh_active(conn, self.ctx):
                self.wake_webhooks()
        await self._sync_loops({key: probe for key, probe in probes.items() if probe.monitored})

    async def _sync_loops(self, wanted: dict[int, Probe]) -> None:
        """Run exactly one loop per wanted line, with its current probe settings."""
        for line_id, running in list(self._loops.items()):
            if wanted.get(line_id) != running.probe:
                await stop_task(running.task, running.stop)
                del self._loops[line_id]
        for line_id, probe in wanted.items():
            if line_id not in self._loops:
                stop = asyncio.Event()
                task = asyncio.create_task(self._probe_loop(line_id, probe, stop))
                self._loops[line_id] = _Loop(probe, task, stop)

    async def _probe_loop(self, line_id: int, probe: Probe, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while not stop.is_set():
            await run_step("lines.probe", lambda: self._probe_once(line_id, probe, stop),
                           line_id=line_id)
            next_at = max(next_at + probe.interval_s, loop.time())
            await wait_event(stop, next_at - loop.time())

    async def _probe_once(self, line_id: int, probe: Probe, stop: asyncio.Event) -> None:
        result = await self._check(line_id, probe)
        if result is not None and not stop.is_set():
            await self._record(line_id, probe, result)

    async def _check(self, line_id: int, probe: Probe) -> ProbeResult | None:
        """One probe of the line; None: no verdict yet (a new heartbeat line)."""
        if probe.kind == "sip_options":
            self.probes_sent += 1
            return await probe_options(probe.host, probe.port, probe.timeout_s,
                                       user_agent=f"dispatch112 ({self.instance_id})")
        try:
            async with self.election.lock:
                fresh = await lines_db.is_heartbeat_fresh(self.election.conn, line_id,
                                                          probe.timeout_s)
        except (*DATABASE_ERRORS, AttributeError) as exc:  # AttributeError: session gone
            return ProbeResult(False, f"heartbeat not readable: {exc!r}")
        if fresh is None:
            return None
        return ProbeResult(fresh, "heartbeat received" if fresh
                           else f"no heartbeat for over {probe.timeout_s:g} s")

    async def _record(self, line_id: int, probe: Probe, result: ProbeResult) -> None:
        try:
            async with self.election.transaction(self.ctx.after_commit) as conn:
                change = await do_record_result(conn, self.ctx, line_id, probe, result,
                                                probed_by=self.instance_id)
        except (*DATABASE_ERRORS, AttributeError) as exc:
            # The lead loop notices a lost session at its next beat and stops this loop.
            log.warning("lines.record_failed", line_id=line_id, error=repr(exc))
            return
        if change is not None:
            log.info("lines.state", **{key: change[key] for key in (
                "line_id", "number", "state", "previous_state", "active_line_id", "critical",
                "reason")})
            self.wake_webhooks()
