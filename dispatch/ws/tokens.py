"""Closing the sockets whose token stopped being valid: logged out, revoked (a PIN
change, a team's phones revoked, a user's password or role reset), expired, or of a
role its user no longer has.

Design: each instance checks the tokens of all its open sockets every
`ws_token_check_s` in ONE query (`tokens.token_hash = ANY(...)` over the unique
index) and closes those that are no longer valid with 4401. A NOTIFY on revocation
was the other choice; it was not taken because expiry has no writer to notify, and
revocations come from several places (HTTP, the command line, SQL by an operator)
that would all have to remember to notify. The periodic check catches every cause
the same way, and costs one indexed query per instance per interval whatever the
number of sockets (1,000 phones: one statement every few seconds), nothing per
socket. The delay it leaves (up to one interval) is closed for what matters: a frame
that changes something (a status step, a GPS fix) re-checks its token first, in the
transaction that would apply it (ws/endpoints.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
import structlog

from db import tokens as tokens_db
from db.pool import DATABASE_ERRORS

log = structlog.get_logger(__name__)
Revoke = Callable[[], None]


class TokenWatch:
    def __init__(self, pool: asyncpg.Pool, check_s: float) -> None:
        self.pool, self.check_s = pool, check_s
        self._sockets: dict[bytes, set[Revoke]] = {}

    def add(self, token_hash: bytes, revoke: Revoke) -> None:
        """Watch a socket's token; `revoke` closes the socket (called at most once)."""
        self._sockets.setdefault(token_hash, set()).add(revoke)

    def remove(self, token_hash: bytes, revoke: Revoke) -> None:
        sockets = self._sockets.get(token_hash)
        if sockets is not None:
            sockets.discard(revoke)
            if not sockets:
                del self._sockets[token_hash]

    async def check_once(self) -> int:
        """Close the sockets of every watched token no longer valid; how many."""
        watched = list(self._sockets)
        if not watched:
            return 0
        async with self.pool.acquire() as conn:
            valid = await tokens_db.get_valid_digests(conn, watched)
        closed = 0
        for token_hash in watched:
            if token_hash not in valid:
                for revoke in self._sockets.pop(token_hash, set()):
                    revoke()
                    closed += 1
        if closed:
            log.info("ws.tokens_ended", sockets=closed)
        return closed

    async def run(self, stop: asyncio.Event) -> None:
        """Check every `check_s` until `stop` is set; database errors are logged."""
        while not stop.is_set():
            try:
                await self.check_once()
            except DATABASE_ERRORS as exc:
                log.warning("ws.token_check_failed", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.check_s)
