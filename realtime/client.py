"""A small websocket client of /ws that reconnects and resumes on its own.

Used by the tests and the load generator; a reference for phone and gateway
developers. It remembers the last seq it saw, sends it in the hello of every
reconnection, and drops any event it has already seen (seq not above it), counting
those in `stale` (a server that keeps its promise of "in order, once" leaves it 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from realtime.frames import hello_frame


class EventClient:
    def __init__(self, url: str, token: str | None, *, last_seq: int | None = None,
                 origin: str | None = None, reconnect: bool = True,
                 batch: bool = False, names: list[str] | None = None) -> None:
        self.url, self.token, self.origin, self.reconnect = url, token, origin, reconnect
        self.batch = batch  # ask for batch frames (what is queued, in one frame)
        self.names = names  # ask for these events only (None: all this client may see)
        self.batches = 0  # batch frames received
        self.last_seq = last_seq
        self.events: asyncio.Queue[dict] = asyncio.Queue()
        self.replies: asyncio.Queue[dict] = asyncio.Queue()
        self.welcomes: list[dict] = []
        self.resyncs = 0
        self.stale = 0
        self.close_codes: list[int | None] = []
        self.connected = asyncio.Event()
        self._ws = None
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> EventClient:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._wait_connected(), 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _wait_connected(self) -> None:
        while not self.connected.is_set():
            if self._task.done():
                self._task.result()
                raise ConnectionError(f"closed with {self.close_codes}")
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        self.reconnect = False
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                await self._task

    async def drop(self) -> None:
        """Close the connection abruptly, as a phone losing signal does (no reconnect)."""
        self.reconnect = False
        if self._ws is not None:
            self._ws.transport.abort()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                await self._task

    def interrupt(self) -> None:
        """Cut the connection as a network failure does; the client reconnects by itself."""
        if self._ws is not None:
            self._ws.transport.abort()

    async def send(self, frame: dict) -> None:
        await self._ws.send(json.dumps(frame))

    async def next_event(self, timeout: float = 5.0) -> dict:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def next_reply(self, timeout: float = 5.0) -> dict:
        return await asyncio.wait_for(self.replies.get(), timeout)

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._connect_once()
                backoff = 0.1
            # InvalidHandshake: the service answered the upgrade with an error or hung up
            # (restarting, overloaded); like a lost connection, worth another try.
            except (TimeoutError, OSError, ConnectionClosed, InvalidHandshake) as exc:
                code = getattr(getattr(exc, "rcvd", None), "code", None)
                self.close_codes.append(code)
                if code in (4401, 4403) or not self.reconnect:
                    return
            finally:
                self.connected.clear()
            if not self.reconnect:
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _connect_once(self) -> None:
        headers = {"Origin": self.origin} if self.origin else None
        async with websockets.connect(self.url, additional_headers=headers,
                                      open_timeout=10, max_size=2**20) as ws:
            self._ws = ws
            await ws.send(hello_frame(self.token, self.last_seq, batch=self.batch,
                                      names=self.names))
            async for text in ws:
                self._on_frame(json.loads(text))

    def _on_frame(self, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "batch":
            self.batches += 1
            for inner in frame["frames"]:
                self._on_frame(inner)
        elif kind == "welcome":
            self.welcomes.append(frame)
            if self.last_seq is None:
                self.last_seq = frame["seq"]
            self.connected.set()
        elif kind == "event":
            if self.last_seq is None or frame["seq"] > self.last_seq:
                self.last_seq = frame["seq"]
                self.events.put_nowait(frame)
            else:
                self.stale += 1
        elif kind == "resync":
            self.resyncs += 1
            self.last_seq = frame["seq"]
        elif kind != "heartbeat":
            self.replies.put_nowait(frame)
