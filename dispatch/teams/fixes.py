"""Storing the phones' GPS fixes, many in one statement.

A fleet's fixes arrive a few milliseconds apart (5,000 phones with a fix every 10 s:
one every 2 ms). One statement each was a quarter of the service's time at 5,000
phones, ahead of the incidents themselves (docs/performance.md). Here a fix waits at
most `gather_s` for the others arriving meanwhile, then one statement stores them all
(db.teams.store_team_fixes); each caller still gets its own fix's answer, or the
database error of the statement, as if it had been alone.

A team's second fix in the same batch waits for the next one, so that each statement
updates a team's row once, in the order the phone sent them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import NamedTuple

import asyncpg

from db import teams as teams_db

MAX_BATCH = 1000


class Fix(NamedTuple):
    """One fix, as store_team_fixes takes it."""

    team_id: int
    lat: float
    lon: float
    accuracy_m: float | None
    at: datetime
    token_hash: bytes | None


class FixWriter:
    """This instance's writer of fixes: `await store(fix)` returns the fix's
    `token_ok` and `stored` once it is committed."""

    def __init__(self, acquire: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]],
                 gather_s: float) -> None:
        self._acquire = acquire
        self.gather_s = gather_s
        self._queue: list[tuple[Fix, asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    async def store(self, fix: Fix) -> asyncpg.Record:
        """Queue `fix` for the next batch and wait for its answer. Raises what the
        batch's statement raised (a database away: the caller answers 503)."""
        waiter = asyncio.get_running_loop().create_future()
        self._queue.append((fix, waiter))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        return await waiter

    async def _drain(self) -> None:
        """Write batches until the queue is empty, then stop (the next fix starts a new
        writer): no task lingers while no phone sends."""
        try:
            while self._queue:
                await asyncio.sleep(self.gather_s)
                await self._write(self._take())
        finally:
            self._task = None

    def _take(self) -> list[tuple[Fix, asyncio.Future]]:
        """The queue's first fix of each team, oldest first, at most MAX_BATCH; the rest
        stays queued."""
        batch: dict[int, tuple[Fix, asyncio.Future]] = {}
        rest = []
        for item in self._queue:
            if item[0].team_id in batch or len(batch) >= MAX_BATCH:
                rest.append(item)
            else:
                batch[item[0].team_id] = item
        self._queue = rest
        return list(batch.values())

    async def _write(self, batch: list[tuple[Fix, asyncio.Future]]) -> None:
        try:
            async with self._acquire() as conn:
                rows = await teams_db.store_team_fixes(conn, [fix for fix, _ in batch])
        except Exception as exc:  # noqa: BLE001 - each caller raises it as its own
            for _, waiter in batch:
                _settle(waiter, exc=exc)
            return
        except BaseException:  # the writer is cancelled: so are the fixes it held
            for _, waiter in batch:
                waiter.cancel()
            raise
        for (_, waiter), row in zip(batch, rows, strict=True):
            _settle(waiter, row=row)


def _settle(waiter: asyncio.Future, *, row: asyncpg.Record | None = None,
            exc: Exception | None = None) -> None:
    """Answer a caller who may have stopped waiting (its socket closed, its request
    cancelled): then there is no one to tell."""
    with contextlib.suppress(asyncio.InvalidStateError):
        if exc is not None:
            waiter.set_exception(exc)
        else:
            waiter.set_result(row)
