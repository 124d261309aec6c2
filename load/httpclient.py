"""A small keep-alive HTTP/1.1 client for the load generator.

httpx costs about 2 ms of CPU a request; at hundreds of requests a second on the
machine that also runs the service and PostgreSQL, that would be the generator
measuring itself. This client writes the request bytes and reads a Content-Length
answer on pooled loopback connections, nothing more (no TLS, no chunked bodies,
no redirects): enough for the JSON API.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import NamedTuple

import orjson


class HttpError(Exception):
    """A transport failure or an answer this client cannot read."""


class Answer(NamedTuple):
    status: int
    body: object  # decoded JSON, or None
    server_ms: float | None  # the service's Server-Timing `app;dur=`


def _server_ms(value: str) -> float | None:
    """`app;dur=12.3` → 12.3."""
    for part in value.split(";"):
        name, _, number = part.strip().partition("=")
        if name == "dur":
            try:
                return float(number)
            except ValueError:
                return None
    return None


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.dead = False  # the server said it closes the connection after this answer

    def close(self) -> None:
        self.writer.close()


class Client:
    """Pooled connections to one host:port, at most `size` at a time."""

    def __init__(self, base_url: str, token: str, size: int = 32, timeout_s: float = 30.0):
        hostport = base_url.split("://", 1)[1].rstrip("/")
        self.host, port = hostport.rsplit(":", 1)
        self.port, self.timeout_s = int(port), timeout_s
        self._head = (f"Host: {hostport}\r\nAuthorization: Bearer {token}\r\n"
                      "Content-Type: application/json\r\n").encode()
        self._idle: list[_Conn] = []
        self._slots = asyncio.Semaphore(size)

    @asynccontextmanager
    async def _conn(self):
        async with self._slots:
            conn = self._idle.pop() if self._idle else _Conn(
                *await asyncio.open_connection(self.host, self.port))
            try:
                yield conn
            except BaseException:
                conn.close()
                raise
            if conn.dead:
                conn.close()
            else:
                self._idle.append(conn)

    async def request(self, method: str, path: str, body: object = None,
                      headers: dict[str, str] | None = None) -> Answer:
        """(status, decoded JSON or None, the service's own time in ms from its
        Server-Timing header or None). Raises HttpError on transport failures."""
        payload = b"" if body is None else orjson.dumps(body)
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()).encode()
        data = (f"{method} {path} HTTP/1.1\r\n".encode() + self._head + extra
                + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
        try:
            return await asyncio.wait_for(self._exchange(data), self.timeout_s)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                TimeoutError, ValueError) as exc:
            raise HttpError(type(exc).__name__) from exc

    async def _exchange(self, data: bytes) -> Answer:
        try:
            return await self._exchange_once(data, fresh=False)
        except (asyncio.IncompleteReadError, ConnectionResetError) as exc:
            # A pooled connection the server closed while idle (its keep-alive timeout)
            # fails before any answer: send again once on a new connection. The POSTs
            # carry an Idempotency-Key, so a request that did arrive is not doubled.
            if getattr(exc, "partial", b""):
                raise
            return await self._exchange_once(data, fresh=True)

    async def _exchange_once(self, data: bytes, fresh: bool) -> Answer:
        if fresh:
            for conn in self._idle:
                conn.close()
            self._idle.clear()
        async with self._conn() as conn:
            conn.writer.write(data)
            head = await conn.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length, close, server_ms = 0, False, None
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value.strip().lower() == "close":
                    close = True
                elif name == "server-timing":
                    server_ms = _server_ms(value)
                elif name == "transfer-encoding":
                    raise ValueError("chunked answers are not supported")
            raw = await conn.reader.readexactly(length) if length else b""
            conn.dead = close
        return Answer(status, orjson.loads(raw) if raw and raw[:1] in b"{[" else None,
                      server_ms)

    async def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()
