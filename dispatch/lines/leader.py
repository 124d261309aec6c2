"""Which instance probes the lines: the one whose own database session holds the
monitor's advisory lock.

With several app instances, exactly one probes: two probers would double the
traffic to the trunks and race each other's results. The leader keeps a dedicated
connection (not from the pool) holding a session advisory lock; PostgreSQL frees
the lock when that session ends, so when the leader's process dies its connection
closes and a standby, retrying every `line_poll_s`, takes over.

A leader that is frozen or cut off keeps its session (and lock) as long as its TCP
connection looks open. It therefore beats every `line_poll_s` (by the database's
clock), and a standby ends the session of a holder whose beat is older than
`line_leader_stale_s` (sessions are named after their instance, so a holder that
just took over is never ended by mistake).

Everything the leader writes about the lines goes through its lock-holding
connection (`transaction`): once its session has been ended, a leader that wakes
up cannot write one more result, however late it notices.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
import structlog

from db import line_monitor as monitor_db
from db.pool import DATABASE_ERRORS, connect
from dispatch import events

log = structlog.get_logger(__name__)
# PostgreSQL keeps 63 bytes of an application_name.
APP_NAME_PREFIX = "dispatch112-monitor:"


def new_instance_id() -> str:
    """Names this instance in the line history, logs and SIP User-Agent."""
    host = socket.gethostname().split(".")[0][:20] or "host"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


class Election:
    """This instance's seat in the election: a session that is either the leader's
    (it holds the lock) or a standby's (it retries)."""

    def __init__(self, dsn: str, instance_id: str, stale_s: float) -> None:
        self.dsn, self.instance_id, self.stale_s = dsn, instance_id, stale_s
        self.conn: asyncpg.Connection | None = None
        self.lock = asyncio.Lock()  # one statement at a time on the session
        self.leading = False

    @property
    def application_name(self) -> str:
        return APP_NAME_PREFIX + self.instance_id

    async def _session(self) -> asyncpg.Connection:
        if self.conn is None or self.conn.is_closed():
            self.conn = await connect(self.dsn, server_settings={
                "application_name": self.application_name})
        return self.conn

    async def try_lead(self) -> bool:
        """Take the lead if nobody holds it (after ending a stale holder); True when
        this instance leads now. Database trouble: False, tried again later."""
        try:
            conn = await self._session()
            async with self.lock:
                if not await monitor_db.try_lock(conn):
                    await self._end_stale_holder(conn)
                    return False
                await monitor_db.beat(conn, self.instance_id)
        except DATABASE_ERRORS as exc:
            log.warning("lines.election_failed", error=repr(exc))
            await self.close()
            return False
        self.leading = True
        log.info("lines.leading", instance_id=self.instance_id)
        return True

    async def _end_stale_holder(self, conn: asyncpg.Connection) -> None:
        leader = await monitor_db.get_leader(conn)
        if leader is None or leader["age_s"] < self.stale_s:
            return
        ended = await monitor_db.end_stale_holder(
            conn, APP_NAME_PREFIX + leader["instance_id"], leader["instance_id"], self.stale_s)
        if ended:
            log.warning("lines.stale_leader_ended", leader=leader["instance_id"],
                        silent_s=round(leader["age_s"], 1))

    async def beat(self) -> None:
        """Show the lead is alive; raises when the session is gone (the lead is lost)."""
        async with self.lock:
            await monitor_db.beat(self.conn, self.instance_id)

    async def step_down(self) -> None:
        """Give up the lead (unlock; a session that is gone has lost it already)."""
        if self.leading:
            log.info("lines.stepping_down", instance_id=self.instance_id)
        self.leading = False
        try:
            if self.conn is not None and not self.conn.is_closed():
                async with self.lock:
                    await monitor_db.unlock(self.conn)
        except DATABASE_ERRORS:
            await self.close()

    async def close(self) -> None:
        self.leading = False
        if self.conn is not None:
            self.conn.terminate()
            self.conn = None

    @asynccontextmanager
    async def transaction(self, after_commit: Callable[[events.Written], None] | None
                          ) -> AsyncIterator[asyncpg.Connection]:
        """A transaction on the lock-holding session, with events written before COMMIT
        and announced after it (dispatch.events.transaction), one at a time."""
        async with self.lock:
            async with events.transaction(self.conn, after_commit):
                yield self.conn
