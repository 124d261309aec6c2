"""One NOTIFY at a time per instance, carrying the newest seq committed.

Each transaction that wrote events used to send its own `pg_notify` after COMMIT: one
more round trip on the request's connection and one more small transaction through
PostgreSQL's notification queue (a global lock) per write, 20-40 % of the cost of a
bare event write (load/README.md, bench_notify). The NOTIFY is only a wake-up (hubs
read the log from their last seq), so one NOTIFY with the newest seq stands for every
commit before it. This notifier sends on a connection of its own: while one NOTIFY is
on its way, later commits only raise the seq to announce, and the next NOTIFY covers
them all. Idle or lightly loaded, each commit still gets its own NOTIFY at once.

A failed NOTIFY is logged and the connection made again; hubs still find the events at
their next poll, so nothing is lost, only later.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog

from db import events as events_db
from db.pool import DATABASE_ERRORS, connect

log = structlog.get_logger(__name__)
RETRY_S = 0.5
APPLICATION_NAME = "dispatch112-notify"


class Notifier:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._latest = 0  # the newest seq committed on this instance
        self._sent = 0  # the newest seq announced
        self._pending = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task | None = None

    def announce(self, seq: int) -> None:
        """After a commit that wrote events up to `seq` (never blocks)."""
        if seq > self._latest:
            self._latest = seq
            self._pending.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="events-notifier")

    async def stop(self) -> None:
        """Send what is still due (best effort), then close."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(*DATABASE_ERRORS):
            if self._latest > self._sent:
                await self._send()
        if self._conn is not None and not self._conn.is_closed():
            self._conn.terminate()

    async def _send(self) -> None:
        if self._conn is None or self._conn.is_closed():
            self._conn = await connect(
                self.dsn, server_settings={"application_name": APPLICATION_NAME})
        seq = self._latest
        await events_db.do_notify(self._conn, seq)
        self._sent = max(self._sent, seq)

    async def _run(self) -> None:
        while True:
            await self._pending.wait()
            self._pending.clear()
            try:
                await self._send()
            except Exception as exc:  # a dead notifier would leave other instances polling
                log.warning("events.notify_failed", seq=self._latest, error=str(exc))
                if self._conn is not None:
                    self._conn.terminate()
                    self._conn = None
                await asyncio.sleep(RETRY_S)
                self._pending.set()
