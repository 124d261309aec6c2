"""What the domain functions need from the running service, in one object."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import asyncpg

from db import events as events_db
from dispatch.config import Settings
from dispatch.districts import DistrictIndex
from routing import Router, get_router


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    router: Router
    districts: DistrictIndex = field(default_factory=DistrictIndex)

    @classmethod
    def create(cls, settings: Settings, pool: asyncpg.Pool) -> Context:
        return cls(settings, pool, get_router(settings.router))

    def day_start(self) -> datetime:
        """Midnight of today in the service's time zone, as a UTC instant."""
        local = datetime.now(ZoneInfo(self.settings.timezone))
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection in a transaction; after it commits, listeners are woken.

        The NOTIFY is sent after commit, outside the transaction, because a
        NOTIFY inside one takes a global lock at commit that serialises all
        committing writers.
        """
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                yield conn
            latest = await events_db.get_latest_seq(conn)
            await events_db.do_notify(conn, latest)
