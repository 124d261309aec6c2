"""A TCP proxy on 127.0.0.1 that a test cuts and restores, standing for a phone's
patchy mobile signal between a real browser and the service.

`cut()` resets every open connection in both directions (RST, as a dropped radio link
surfaces to the phone) and then, until `restore()`, either resets each new connection
at once ("refuse") or takes it and holds it without a byte forwarded ("blackhole",
packets lost in the air: the connection goes through once the signal is back, as TCP
retransmission makes it). Cuts can also be armed to fall at a precise moment of the
traffic: when a request is on its way, when its answer comes back, when a websocket
says hello; or, instead of cutting, leave the one connection open but silent for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

REFUSE, BLACKHOLE, FREEZE = "refuse", "blackhole", "freeze"
CHUNK = 65536
METHODS = {b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS"}
# SO_LINGER on, 0 s: close() sends RST instead of FIN, dropping unsent data.
_RESET = struct.pack("ii", 1, 0)


@dataclass(eq=False)
class Link:
    """One client connection and its connection to the service."""

    client: asyncio.StreamWriter
    server: asyncio.StreamWriter | None = None
    request: bytes = b""            # the request line of the client's latest request
    websocket: bool = False         # the service answered 101 Switching Protocols
    frames_from_client: int = 0     # client chunks since the 101 (hello, acks...)
    frozen: bool = False            # bytes in either direction vanish; nobody is told
    open_pumps: int = 2


# A trigger looks at a chunk about to be forwarded: (link, from_client, chunk) → cut?
Trigger = Callable[[Link, bool, bytes], bool]


@dataclass
class _Armed:
    trigger: Trigger
    mode: str
    forward_first: bool             # forward the chunk, then cut (else drop it and cut)
    fired: asyncio.Event = field(default_factory=asyncio.Event)


def _is_request(chunk: bytes) -> bool:
    """`chunk` starts an HTTP request (rather than carrying a body)."""
    return chunk[:8].split(b" ", 1)[0] in METHODS


def _reset(writer: asyncio.StreamWriter | None) -> None:
    """Close `writer`'s connection with an RST, at once."""
    if writer is None:
        return
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError):
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
    writer.transport.abort()


class FlakyProxy:
    """Forwards 127.0.0.1:<port> to `target_port` until told to cut."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.mode: str | None = None          # None: up; else REFUSE or BLACKHOLE
        self.links: set[Link] = set()
        self.held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.cuts = 0
        self.websockets_opened = 0
        self.lost_requests: list[bytes] = []   # request lines sent on frozen connections
        self._armed: _Armed | None = None
        self._tasks: set[asyncio.Task] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> FlakyProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        self.mode = REFUSE
        self._drop_all()
        for _, writer in self.held:
            _reset(writer)
        self.held.clear()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- what a test does -------------------------------------------------------------
    def cut(self, mode: str = REFUSE) -> None:
        """Reset every open connection; new ones are refused or held until restore()."""
        assert mode in (REFUSE, BLACKHOLE), "FREEZE is armed, not cut"
        self.mode = mode
        self.cuts += 1
        self._drop_all()

    def restore(self) -> None:
        """Signal back: new connections are forwarded, held ones go through now."""
        self.mode = None
        held, self.held = self.held, []
        for reader, writer in held:
            asyncio.create_task(self._link(reader, writer))

    def arm(self, trigger: Trigger, *, mode: str = REFUSE,
            forward_first: bool = True) -> asyncio.Event:
        """Cut (in `mode`) when `trigger` matches a chunk; the event is set once it did.
        `forward_first`: the matching chunk still reaches its side before the cut.

        FREEZE cuts nothing: the matching chunk and all that follows on its connection,
        either way, vanish without a word to either side (a mobile network's NAT that
        forgot it), so that a request waits for an answer that never comes; the other
        connections, and new ones, carry on."""
        self._armed = _Armed(trigger, mode, forward_first)
        return self._armed.fired

    # ---- the plumbing -----------------------------------------------------------------
    def _drop_all(self) -> None:
        for link in list(self.links):
            self.links.discard(link)
            _reset(link.client)
            _reset(link.server)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == REFUSE:
            _reset(writer)
        elif self.mode == BLACKHOLE:
            self.held.append((reader, writer))   # not read: its bytes wait in the kernel
        else:
            await self._link(reader, writer)

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = Link(client=writer)
        try:
            server_reader, link.server = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        if self.mode is not None:   # cut while connecting
            _reset(writer)
            _reset(link.server)
            return
        self.links.add(link)
        for args in ((reader, link.server, True), (server_reader, writer, False)):
            task = asyncio.create_task(self._pump(link, *args))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _note(self, link: Link, from_client: bool, chunk: bytes) -> None:
        if from_client:
            if link.websocket:
                link.frames_from_client += 1
            elif _is_request(chunk):
                link.request = chunk.split(b"\r\n", 1)[0]
        elif not link.websocket and chunk.startswith(b"HTTP/1.1 101"):
            link.websocket = True
            self.websockets_opened += 1

    def _note_lost(self, link: Link, from_client: bool, chunk: bytes) -> None:
        if from_client and not link.websocket and _is_request(chunk):
            self.lost_requests.append(chunk.split(b"\r\n", 1)[0])

    def _triggered(self, link: Link, from_client: bool, chunk: bytes) -> _Armed | None:
        armed = self._armed
        if armed is None or link not in self.links or not armed.trigger(link, from_client, chunk):
            return None
        self._armed = None
        return armed

    async def _pump(self, link: Link, reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter, from_client: bool) -> None:
        """Copy one direction until EOF or a cut; the last pump of a link closes it."""
        try:
            while chunk := await reader.read(CHUNK):
                self._note(link, from_client, chunk)
                if link.frozen:
                    self._note_lost(link, from_client, chunk)
                    continue
                armed = self._triggered(link, from_client, chunk)
                if armed is not None and armed.mode == FREEZE:
                    link.frozen = True   # this connection only; the chunk is lost too
                    self._note_lost(link, from_client, chunk)
                    armed.fired.set()
                    continue
                if armed is None or armed.forward_first:
                    writer.write(chunk)
                    await writer.drain()
                if armed is not None:
                    self.cut(armed.mode)
                    armed.fired.set()
                    return
            # An orderly end is passed on, as a real path would; a frozen one says nothing.
            if writer.can_write_eof() and not link.frozen:
                writer.write_eof()
        except OSError:
            pass   # reset by a cut, or by either side
        finally:
            link.open_pumps -= 1
            if link.open_pumps == 0 and link in self.links:
                self.links.discard(link)
                link.client.close()
                link.server.close()


# ---- triggers ---------------------------------------------------------------------------
def request_sent(prefix: bytes) -> Trigger:
    """The client sends a request starting with `prefix` (e.g. b"POST /api/v1/team/status")."""
    return lambda link, from_client, chunk: from_client and chunk.startswith(prefix)


def answer_to(prefix: bytes) -> Trigger:
    """The service answers a request that started with `prefix`: the service has done
    what was asked; whether the client hears of it is up to the cut."""
    def trigger(link: Link, from_client: bool, chunk: bytes) -> bool:
        return (not from_client and link.request.startswith(prefix)
                and chunk.startswith(b"HTTP/1.1 "))
    return trigger


def websocket_hello() -> Trigger:
    """A client's first frame on a newly opened websocket: the resume is under way."""
    return lambda link, from_client, chunk: (from_client and link.websocket
                                             and link.frames_from_client == 1)


def websocket_welcome() -> Trigger:
    """The service's first frames (welcome, replay) on a resumed websocket."""
    return lambda link, from_client, chunk: (not from_client and link.websocket
                                             and link.frames_from_client >= 1)
