"""Keeping the background loops alive (the sweeper, presence, the line monitor, the
webhook deliverer): one failed round is logged and the loop carries on, waiting a
little longer after each failure in a row.

A database error means PostgreSQL is away for a while (logged as a warning); any
other exception is a bug or one bad row (logged with its traceback). Neither may
stop a loop: a dead sweeper would stop the ack timer for the whole city.
asyncio.CancelledError is not an Exception, so shutting down still works.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from db.pool import DATABASE_ERRORS

log = structlog.get_logger(__name__)


async def run_step(name: str, step: Callable[[], Awaitable[object]], **fields: object) -> bool:
    """Await `step()`; True when it succeeded, False when it raised (logged as
    `<name>.failed`, with the traceback unless it was a database error)."""
    try:
        await step()
    except DATABASE_ERRORS as exc:
        log.warning(f"{name}.failed", error=repr(exc), **fields)
        return False
    except Exception:
        log.exception(f"{name}.failed", **fields)
        return False
    return True


@dataclass
class Backoff:
    """The wait before a loop's next round: `base_s` after a round that succeeded,
    doubling after each failed round in a row, never more than max(`max_s`, base_s)."""

    base_s: float
    max_s: float
    failures: int = 0

    def next_s(self, ok: bool) -> float:
        """Note how the round went; the seconds to wait now."""
        self.failures = 0 if ok else min(self.failures + 1, 32)
        return min(self.base_s * 2 ** self.failures, max(self.max_s, self.base_s))
