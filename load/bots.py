"""The load generator's sockets: responder bots that walk their assignments' steps and
send GPS fixes, and dashboards that watch every event. Each records what it received
and when, as the frame comes off the socket; nothing here decides what is a failure.

A bot acknowledges an `assignment.created`, pauses `step_s` between steps, walks
acknowledge → en route → on scene → (transporting → at hospital, for a share of the
calls) → clear, and sends a fix every `fix_every_s` (a random phase per bot).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import orjson
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from realtime.frames import hello_frame

OPEN_TIMEOUT_S = 30.0
# What the team's page asks for in its hello (team.js: the events its card shows).
TEAM_PAGE_EVENTS = ["assignment.created", "assignment.withdrawn", "incident.updated"]
SHORT_WALK = ("acknowledge", "en_route", "on_scene", "clear")
LONG_WALK = ("acknowledge", "en_route", "on_scene", "transporting", "at_hospital", "clear")
# The incident status a dashboard sees once a step is applied (dispatch/states.py).
STATUS_AFTER = {"acknowledge": "acknowledged", "en_route": "en_route", "on_scene": "on_scene",
                "transporting": "transporting", "at_hospital": "at_hospital",
                "clear": "closed"}


@dataclass
class Walk:
    """How bots behave: pause between steps, share of calls transported, fix period."""

    step_s: float
    transport_share: float = 0.5
    fix_every_s: float = 10.0
    jitter: float = 0.3  # each pause drawn within ±30 % of step_s


@dataclass
class Sock:
    """One client socket and what came off it."""

    role: str  # "responder" or "dashboard"
    instance: int
    team_id: int | None
    ws: ClientConnection | None = None
    # responder: incident id -> (perf time received, wall time received, event "at")
    assigned: dict[int, tuple[float, float, str]] = field(default_factory=dict)
    doubled: int = 0  # the same event (seq) or assignment received twice
    seqs: set[int] = field(default_factory=set)
    # dashboard: incident id -> perf time of incident.created
    created: dict[int, float] = field(default_factory=dict)
    # dashboard: (incident id, status) -> perf time the status first showed
    statuses: dict[tuple[int, str], float] = field(default_factory=dict)
    foreign: int = 0  # events about another team on a responder socket
    closed: str | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)


@dataclass
class Tally:
    """What all bots sent and were answered, for the summary."""

    steps_sent: dict[tuple[int, str], float] = field(default_factory=dict)  # perf time sent
    fixes_sent: int = 0
    results: Counter = field(default_factory=Counter)  # "ok", or "refused <status>"
    refused: Counter = field(default_factory=Counter)  # detail of refusals
    walks_done: int = 0
    resent: int = 0  # steps sent again after a 503 (as a phone does)


def _on_event(sock: Sock, frame: dict, now: float, wall: float, walks: asyncio.Queue | None
              ) -> None:
    seq = frame.get("seq")
    if seq in sock.seqs:
        sock.doubled += 1
        return
    sock.seqs.add(seq)
    name, data = frame.get("name"), frame.get("data") or {}
    if sock.role == "responder":
        # (An incident's data names the team on it now: none once it is closed.)
        if data.get("team_id") not in (None, sock.team_id):
            sock.foreign += 1
        if name == "assignment.created":
            incident_id = data["incident_id"]
            if incident_id in sock.assigned:
                sock.doubled += 1
            else:
                sock.assigned[incident_id] = (now, wall, frame.get("at", ""))
                if walks is not None:
                    walks.put_nowait(incident_id)
        return
    if name == "incident.created":
        sock.created.setdefault(data["id"], now)
    elif name == "incident.updated":
        sock.statuses.setdefault((data["id"], data.get("status")), now)


def _on_frame(sock: Sock, frame: dict, now: float, wall: float, tally: Tally,
              walks: asyncio.Queue | None) -> None:
    kind = frame.get("type")
    if kind == "event":
        _on_event(sock, frame, now, wall, walks)
    elif kind == "batch":  # a dashboard's (it asks for them, as the dashboard page does)
        for inner in frame["frames"]:
            _on_frame(sock, inner, now, wall, tally, walks)
    elif kind == "result":
        ok = frame.get("ok")
        tally.results["ok" if ok else f"refused {frame.get('status')}"] += 1
        if not ok:
            tally.refused[str(frame.get("error"))[:80]] += 1
            _resend_later(sock, tally, frame)
    elif kind == "resync":
        tally.results["resync"] += 1


async def _read(sock: Sock, tally: Tally, walks: asyncio.Queue | None) -> None:
    """Stamp each frame as it comes off the socket, then parse it."""
    try:
        async for text in sock.ws:
            now, wall = time.perf_counter(), time.time()
            _on_frame(sock, orjson.loads(text), now, wall, tally, walks)
    except ConnectionClosed as exc:
        sock.closed = sock.closed or f"closed {exc.rcvd.code if exc.rcvd else 'abruptly'}"
    else:
        sock.closed = sock.closed or f"closed {sock.ws.close_code}"


RESEND_S = 0.5


def _resend_later(sock: Sock, tally: Tally, result: dict) -> None:
    """A step refused with 503 (the service could not reach its database in time) is
    sent again, as the phone does; other refusals are final."""
    client_id = result.get("client_id")
    if result.get("status") != 503 or not isinstance(client_id, str) or "-" not in client_id:
        return
    incident, action = client_id.split("-", 1)
    tally.resent += 1
    frame = {"type": "status", "action": action, "incident_id": int(incident),
             "client_id": client_id}
    sock.tasks.append(asyncio.get_running_loop().create_task(_send_after(sock, frame)))


async def _send_after(sock: Sock, frame: dict) -> None:
    await asyncio.sleep(RESEND_S)
    await _send(sock, frame)


async def _send(sock: Sock, frame: dict) -> bool:
    try:
        await sock.ws.send(orjson.dumps(frame).decode())
        return True
    except ConnectionClosed:
        return False


async def _walker(sock: Sock, walk: Walk, tally: Tally, walks: asyncio.Queue,
                  rng: random.Random) -> None:
    """Walk each assignment's steps in turn (a team has one assignment at a time)."""
    while True:
        incident_id = await walks.get()
        path = LONG_WALK if rng.random() < walk.transport_share else SHORT_WALK
        for action in path:
            await asyncio.sleep(walk.step_s * rng.uniform(1 - walk.jitter, 1 + walk.jitter))
            tally.steps_sent[(incident_id, action)] = time.perf_counter()
            if not await _send(sock, {"type": "status", "action": action,
                                      "incident_id": incident_id,
                                      "client_id": f"{incident_id}-{action}"}):
                return
        tally.walks_done += 1


async def _fixer(sock: Sock, walk: Walk, tally: Tally, rng: random.Random,
                 base: tuple[float, float]) -> None:
    """A GPS fix every `fix_every_s`, from a random phase, a few metres apart."""
    await asyncio.sleep(rng.uniform(0, walk.fix_every_s))
    lat, lon = base
    while True:
        lat, lon = lat + rng.uniform(-2e-4, 2e-4), lon + rng.uniform(-2e-4, 2e-4)
        if not await _send(sock, {"type": "location", "lat": lat, "lon": lon,
                                  "accuracy_m": 12.0}):
            return
        tally.fixes_sent += 1
        await asyncio.sleep(walk.fix_every_s)


async def connect_and_hello(url: str, token: str, compression: str | None,
                            errors: Counter, batch: bool = False,
                            names: list[str] | None = None) -> ClientConnection | None:
    """Connect, hello (asking for batch frames with `batch`, for the events in `names`
    only when given), wait for the welcome: the open socket, or None (and an error
    counted). Shared by the generator's bots and load.bench_push."""
    try:
        ws = await ws_connect(url, open_timeout=OPEN_TIMEOUT_S, ping_interval=None,
                              compression=compression, max_size=2**20, close_timeout=5)
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        errors[f"connect: {type(exc).__name__}"] += 1
        return None
    try:
        await ws.send(hello_frame(token, None, batch=batch, names=names))
        welcome = orjson.loads(await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT_S))
    except (ConnectionClosed, TimeoutError) as exc:
        errors[f"hello: {type(exc).__name__}"] += 1
        await ws.close()
        return None
    if welcome.get("type") != "welcome":
        errors[f"hello answered {welcome.get('type')!r}"] += 1
        await ws.close()
        return None
    return ws


async def open_sock(url: str, token: str, sock: Sock, compression: str | None,
                    errors: Counter, batch: bool = True, page_events: bool = True) -> bool:
    """Connect, hello, wait for the welcome. False (and an error counted) if not.
    With `batch`, a dashboard asks for batch frames as the dashboard page does (phones
    never do); with `page_events`, a responder asks for the events the team's page
    asks for (dispatch/web/static/team.js), not its own positions."""
    names = TEAM_PAGE_EVENTS if page_events and sock.role == "responder" else None
    sock.ws = await connect_and_hello(url, token, compression, errors,
                                      batch=batch and sock.role == "dashboard", names=names)
    return sock.ws is not None


def start(sock: Sock, tally: Tally, walk: Walk | None, seed: int,
          base: tuple[float, float] | None) -> None:
    """Start reading (and, for a responder with a `walk`, walking and sending fixes)."""
    walks: asyncio.Queue | None = None
    if sock.role == "responder" and walk is not None:
        walks = asyncio.Queue()
        rng = random.Random(seed)
        sock.tasks.append(asyncio.create_task(_walker(sock, walk, tally, walks, rng)))
        if walk.fix_every_s > 0 and base is not None:
            sock.tasks.append(asyncio.create_task(_fixer(sock, walk, tally, rng, base)))
    sock.tasks.insert(0, asyncio.create_task(_read(sock, tally, walks)))


def stop_activity(socks: list[Sock]) -> None:
    """Stop walking and sending fixes (the readers go on)."""
    for sock in socks:
        for task in sock.tasks[1:]:
            task.cancel()


async def close_all(socks: list[Sock], batch: int = 100) -> None:
    for at in range(0, len(socks), batch):
        part = [s for s in socks[at:at + batch] if s.ws is not None]
        for sock in part:
            sock.closed = sock.closed or "closed by the generator"
        await asyncio.gather(*(s.ws.close() for s in part), return_exceptions=True)
    for sock in socks:
        for task in sock.tasks:
            task.cancel()
        for task in sock.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
