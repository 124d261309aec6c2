"""What the domain functions need from the running service, in one object."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import asyncpg
import structlog

from db import events as events_db
from db.pool import DATABASE_ERRORS
from dispatch.config import Settings
from dispatch.districts import DistrictIndex
from dispatch.events import end_buffer, flush_buffer, start_buffer
from routing import Router, get_router

log = structlog.get_logger(__name__)


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    router: Router
    districts: DistrictIndex = field(default_factory=DistrictIndex)
    # Called after each commit that wrote events (this instance's hub wakes at once,
    # without waiting for its own NOTIFY to come back).
    after_commit: Callable[[], None] | None = None

    @classmethod
    def create(cls, settings: Settings, pool: asyncpg.Pool,
               after_commit: Callable[[], None] | None = None) -> Context:
        return cls(settings, pool, get_router(settings.router), after_commit=after_commit)

    def day_start(self) -> datetime:
        """Midnight of today in the service's time zone, as a UTC instant."""
        local = datetime.now(ZoneInfo(self.settings.timezone))
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)

    async def _wake_listeners(self, conn: asyncpg.Connection, latest: int) -> None:
        """After commit: NOTIFY every instance and wake this one's hub at once. The
        change has committed; if the NOTIFY fails, hubs still find the events on
        their next poll, so the failure is logged, not raised."""
        if self.after_commit is not None:
            self.after_commit()
        try:
            await events_db.do_notify(conn, latest)
        except DATABASE_ERRORS as exc:
            log.warning("events.notify_failed", seq=latest, error=str(exc))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection in a transaction whose events are written last, just before
        COMMIT; after it commits, listeners are woken with the last seq.

        The NOTIFY is sent after commit, outside the transaction: inside one it
        would take a global lock at commit, serialising all committing writers.
        """
        token = start_buffer()
        try:
            async with self.pool.acquire() as conn:
                async with conn.transaction():
                    yield conn
                    latest = await flush_buffer(conn)
                if latest is not None:
                    await self._wake_listeners(conn, latest)
        finally:
            end_buffer(token)
