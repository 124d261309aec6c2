"""One websocket after authentication: welcome, replay from the log, then live.

The caller (the service's endpoint) authenticates the hello and passes the
frame handlers for what the client may send; this module knows nothing of
dispatching, only of delivering events in order, once, to the right sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocket, WebSocketDisconnect

from db import events as events_db
from realtime.frames import (
    CLOSE_MESSAGE_TOO_BIG,
    CLOSE_TOO_SLOW,
    CLOSE_UNAUTHORIZED,
    Viewer,
    event_frame,
    frame,
)
from realtime.hub import Hub
from realtime.subscriber import Subscriber

Handler = Callable[[dict], Awaitable[dict | None]]
SEND_TIMEOUT_S = 30.0
# A client that said `"batch": true` in its hello gets what is queued for it as one
# frame, {"type": "batch", "frames": [...]}, of at most this many frames and bytes.
BATCH_MAX_FRAMES = 250
BATCH_MAX_BYTES = 256 * 1024
MAX_FRAME_BYTES = 16 * 1024
# How long a new socket waits for the hub to push up to the log's newest seq (the
# writers still in flight end first; usually a few ms) before its welcome.
CATCH_UP_S = 2.0


class Session:
    def __init__(self, ws: WebSocket, hub: Hub, viewer: Viewer, handlers: dict[str, Handler],
                 *, heartbeat_s: float = 20.0, max_queue: int = 1000,
                 replay_page: int = 500, batch: bool = False,
                 names: frozenset[str] | None = None) -> None:
        """`names`: the event names the client asked for in its hello (None: all it
        may see), the same live and when replaying."""
        self.ws, self.hub, self.viewer, self.handlers = ws, hub, viewer, handlers
        self.heartbeat_s, self.replay_page, self.batch = heartbeat_s, replay_page, batch
        self.subscriber = Subscriber(viewer, 0, max_queue, names)
        self._revoked = asyncio.Event()

    def revoke(self) -> None:
        """The credentials of this socket ended: close it with 4401 (now if it is
        live, else as soon as its replay is done). Safe to call from anywhere, twice."""
        self._revoked.set()

    async def run(self, last_seq: int | None) -> None:
        """Serve the socket until either side closes it. LATEST is what the hub has
        pushed up to (the log's safe horizon: nothing below it can still commit)."""
        newest = await self._latest()
        # Everything committed before this socket came is below its welcome's seq (so
        # what the client then loads over HTTP is never older than its first event).
        await self.hub.wait_for(newest, CATCH_UP_S)
        latest = self.hub.last_seq
        self.subscriber.cursor = latest if last_seq is None else last_seq
        # In the hub before the client hears its welcome: a team is counted as connected
        # (the SMS fallback asks) from then on; what the hub pushes meanwhile waits in
        # the queue until after the welcome.
        self.hub.add(self.subscriber)
        try:
            await self.ws.send_text(frame("welcome", role=self.viewer.role, seq=latest))
            # Below the pruning horizon the log no longer holds what the client missed;
            # above the log's newest seq the client saw another log (restored or reset)
            # and would drop the events it thinks it has seen. Either way it reloads
            # from HTTP. (A last_seq between the hub's horizon and the newest seq came
            # from an instance whose hub is a little ahead: resumed as it is.)
            if last_seq is not None and not await self._horizon() <= last_seq <= newest:
                await self.ws.send_text(frame("resync", seq=latest))
                self.subscriber.cursor = latest
            await self._replay()
            await self._serve_live()
        finally:
            self.hub.remove(self.subscriber)
            self.subscriber.close()

    async def _latest(self) -> int:
        async with self.hub.pool.acquire() as conn:
            return await events_db.get_latest_seq(conn)

    async def _horizon(self) -> int:
        async with self.hub.pool.acquire() as conn:
            return await events_db.get_pruned_through(conn)

    async def _replay(self) -> None:
        """Send what the log holds above the cursor, until caught up with the hub; then
        go live in the same step, so no event falls between replay and live."""
        sub = self.subscriber
        while True:
            upto = self.hub.last_seq  # the safe horizon: nothing below it comes later
            async with self.hub.pool.acquire() as conn:
                rows = await events_db.get_events_after(
                    conn, sub.cursor, team_id=self.viewer.team_filter, limit=self.replay_page,
                    upto=upto, names=None if sub.names is None else sorted(sub.names))
            for row in rows:
                await self.ws.send_text(event_frame(row))
                sub.cursor = row["seq"]
            if len(rows) < self.replay_page:
                sub.cursor = max(sub.cursor, upto)
            if sub.cursor >= self.hub.last_seq and len(rows) < self.replay_page:
                sub.go_live()
                return

    async def _serve_live(self) -> None:
        sender = asyncio.create_task(self._send_queued())
        beat = asyncio.create_task(self._heartbeat())
        receiver = asyncio.create_task(self._receive())
        revoked = asyncio.create_task(self._revoked.wait())
        tasks = (sender, beat, receiver, revoked)
        try:
            await asyncio.wait({sender, receiver, revoked}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect,
                                         RuntimeError, TimeoutError):
                    await task
        if self._revoked.is_set():
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await self.ws.close(CLOSE_UNAUTHORIZED, "token revoked or expired")

    async def _send_queued(self) -> None:
        queue = self.subscriber.queue
        while (text := await queue.get()) is not None:
            # A peer that stopped reading blocks the send once its buffers are full:
            # give up on it rather than keep it counted as connected. One timer for a
            # burst, pushed back as sends complete, not one per frame (a dashboard gets
            # a few hundred frames a second). asyncio.timeout, not wait_for: on Python
            # 3.11 wait_for swallows a cancellation that arrives as the send completes,
            # and this task then waits on its queue for ever (the socket never closes).
            async with asyncio.timeout(SEND_TIMEOUT_S) as timeout:
                ended = await self._send_burst(text, queue, timeout)
            if ended:
                break
        if self.subscriber.overflowed:
            await self.ws.close(CLOSE_TOO_SLOW, "too slow; reconnect with last_seq")

    async def _send_burst(self, text: str, queue: asyncio.Queue[str | None],
                          timeout: asyncio.Timeout) -> bool:
        """Send `text` and what is queued behind it (gathered into batch frames when
        the client asked for them); True when the queue's end came. `timeout` is
        pushed back whenever less than half of it is left: it bounds a blocked send,
        not a busy socket's stream."""
        loop = asyncio.get_running_loop()
        while True:
            ended = False
            if self.batch and not queue.empty():
                text, ended = _gather(text, queue)
            await self.ws.send_text(text)
            if timeout.when() - loop.time() < SEND_TIMEOUT_S / 2:
                timeout.reschedule(loop.time() + SEND_TIMEOUT_S)
            # A send to a writable socket does not yield: without this, a dashboard
            # with a round of 100 fixes queued sends them all before a team's sender
            # gets its turn, and the assignment waits behind 20 such dashboards.
            await asyncio.sleep(0)
            if ended:
                return True
            if queue.empty():
                return False
            if (text := queue.get_nowait()) is None:
                return True

    def _reply(self, kind: str, **fields) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.subscriber.queue.put_nowait(frame(kind, **fields))

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            self._reply("heartbeat", seq=self.hub.last_seq)

    async def _receive(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
            if len(text.encode()) > MAX_FRAME_BYTES:
                await self.ws.close(CLOSE_MESSAGE_TOO_BIG, "frame too large")
                return
            await self._handle(text)

    async def _handle(self, text: str) -> None:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply
            return self._reply("error", error="malformed frame: not JSON")
        kind = data.get("type") if isinstance(data, dict) else None
        handler = self.handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            return self._reply("error", error=f"unknown frame type: {kind!r}")
        answer = await handler(data)
        if answer is not None:
            self._reply(answer.pop("type", "result"), **answer)


def _gather(first: str, queue: asyncio.Queue[str | None]) -> tuple[str, bool]:
    """`first` and the frames queued behind it as one batch frame (the frames' own JSON
    texts, in order, not encoded again), within BATCH_MAX_FRAMES and BATCH_MAX_BYTES;
    and whether the queue's end (None) was taken."""
    texts, size = [first], len(first)
    while not queue.empty() and len(texts) < BATCH_MAX_FRAMES and size < BATCH_MAX_BYTES:
        text = queue.get_nowait()
        if text is None:
            return _batch_frame(texts), True
        texts.append(text)
        size += len(text)
    return _batch_frame(texts), False


def _batch_frame(texts: list[str]) -> str:
    return texts[0] if len(texts) == 1 else '{"type":"batch","frames":[' + ",".join(texts) + "]}"
