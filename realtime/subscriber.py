"""One connected socket as the hub sees it: a cursor, filters and a bounded queue.

States: `replaying` (catching up from the log; the hub does not push to it) then
`live` (the hub pushes every visible event above its cursor) and `closed`.
A live subscriber whose queue is full is cut off (`overflowed`) rather than
slowing the hub or any other socket; it resumes with its last seq.
"""

from __future__ import annotations

import asyncio

from realtime.frames import Viewer

DEFAULT_QUEUE = 1000


class Subscriber:
    def __init__(self, viewer: Viewer, cursor: int, max_queue: int = DEFAULT_QUEUE,
                 names: frozenset[str] | None = None) -> None:
        self.viewer = viewer
        # The event names the client asked for (None: every one it may see).
        self.names = names
        self.cursor = cursor
        self.state = "replaying"
        self.overflowed = False
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(max_queue)

    def offer(self, seq: int, team_id: int | None, name: str, text: str) -> None:
        """Queue a live event the hub read from the log (never blocks)."""
        if self.state != "live" or seq <= self.cursor or not self.viewer.may_see(team_id):
            return
        if self.names is not None and name not in self.names:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.overflowed = True
            self.close()
            return
        self.cursor = seq

    def go_live(self) -> None:
        self.state = "live"

    def close(self) -> None:
        """Stop: the sender sees None (after what is queued, unless it overflowed)."""
        if self.state == "closed":
            return
        self.state = "closed"
        if self.overflowed:
            while not self.queue.empty():
                self.queue.get_nowait()
        try:
            self.queue.put_nowait(None)
        except asyncio.QueueFull:
            pass
