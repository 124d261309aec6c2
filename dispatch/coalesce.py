"""Work asked for by many, done by one run at a time: a run asked for while another is
going is shared by everyone who asks until it starts.

The queue's passes are the case in point: every team that comes free asks for one, and
at a hundred freed teams a second each pass waited on the other passes' advisory lock
while holding a pooled connection, starving the calls. Coalesced, a burst costs two
passes (the one running and one after it), and each asker still gets a pass that
started after it asked, so it sees every change committed before then.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable

from dispatch.background import run_step


class Coalesced:
    """`request()` returns once a run of `work` that started after the call has ended.

    Runs go one at a time, in a task of their own (with a context of their own: no
    asker's bound log fields or transaction leak into it). A run that fails is logged
    as `<name>.failed` (dispatch.background.run_step) and not raised to the askers: what
    they asked for has committed already, and the next run or the sweeper retries.
    """

    def __init__(self, name: str, work: Callable[[], Awaitable[object]]) -> None:
        self._name = name
        self._work = work
        self._next: asyncio.Future[None] | None = None
        self._runner: asyncio.Task[None] | None = None

    async def request(self) -> None:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        waiter = self._next
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain(), context=contextvars.Context())
        # An asker that is cancelled leaves the run to the others.
        await asyncio.shield(waiter)

    async def _drain(self) -> None:
        """Run while someone is waiting; whoever asked during a run gets the next."""
        try:
            while self._next is not None:
                current, self._next = self._next, None
                try:
                    await run_step(self._name, self._work)
                finally:
                    current.set_result(None)
        finally:  # cancelled at shutdown: nobody may wait forever
            if self._next is not None:
                self._next.set_result(None)
                self._next = None
