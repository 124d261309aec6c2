"""What the domain functions need from the running service, in one object."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import asyncpg

from dispatch import events
from dispatch.coalesce import Coalesced
from dispatch.config import Settings
from dispatch.geo.districts import DistrictIndex
from dispatch.ratelimit import RateLimiter
from dispatch.teams.fixes import FixWriter
from routing import Router, get_router


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    router: Router
    districts: DistrictIndex = field(default_factory=DistrictIndex)
    # Called after each commit that wrote events, with what it wrote (this instance's
    # hub pushes it at once, without reading it back or waiting for its own NOTIFY).
    after_commit: Callable[[events.Written], None] | None = None
    # Steps and fixes per phone (dispatch/ratelimit.py), made from the settings.
    device_limiter: RateLimiter | None = None
    # Teams with a phone's socket open on this instance (the hub's), and the SMS
    # outbox worker's wake-up (dispatch/sms/): set by the app's lifespan.
    connected_team_ids: Callable[[], Iterable[int]] | None = None
    sms_wake: asyncio.Event | None = None
    # Sends the NOTIFY after commits, merging those close together (set by the lifespan;
    # without it each transaction sends its own).
    notifier: events.Notifier | None = None
    # Called with the team after its GPS fix is stored: starts a round of
    # dispatch.teams.positions.
    on_fix_stored: Callable[[int], None] | None = None
    # Stores the phones' fixes in batches (made by `create`).
    fixes: FixWriter | None = None
    # This instance's passes over the queue after teams come free, coalesced (a
    # dispatch.coalesce.Coalesced; made by dispatch.incidents.queue at its first use).
    queue_passes: Coalesced | None = None

    @classmethod
    def create(cls, settings: Settings, pool: asyncpg.Pool,
               after_commit: Callable[[events.Written], None] | None = None) -> Context:
        limiter = RateLimiter(settings.device_rate_per_s, settings.device_burst)
        ctx = cls(settings, pool, get_router(settings.router), after_commit=after_commit,
                  device_limiter=limiter)
        ctx.fixes = FixWriter(ctx.acquire, settings.gps_batch_s)
        return ctx

    def day_start(self) -> datetime:
        """Midnight of today in the service's time zone, as a UTC instant."""
        local = datetime.now(ZoneInfo(self.settings.timezone))
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)

    def acquire(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A pooled connection, waiting at most `db_acquire_timeout_s` for one (a
        starved pool or a database that does not answer raises TimeoutError, which
        the service answers 503). A connection that broke while held is discarded by
        the pool on release and replaced by a new one at a later acquire."""
        return self.pool.acquire(timeout=self.settings.db_acquire_timeout_s)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection (`acquire`) in a transaction whose events are written just
        before COMMIT and announced after it (dispatch.events.transaction). A COMMIT
        that fails because the connection died raises a database error (503 to a
        client, who retries idempotently)."""
        async with self.acquire() as conn:
            async with events.transaction(conn, self.after_commit, self.notifier):
                yield conn
