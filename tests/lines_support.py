"""Helpers of the line failover tests and benchmark: line bodies with fast probes,
waiting for states and events, and a local webhook receiver."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from realtime.client import EventClient
from tests.support import WAIT_S, Api, wait_until

# Fast probes so that a test sees several failovers in seconds.
FAST = {"interval_s": 0.2, "timeout_s": 0.3, "fail_after": 2, "recover_after": 2}


def sip_line(number: str, priority: int, port: int, **probe: object) -> dict:
    """The body of POST /api/v1/lines for a line probed by SIP OPTIONS on loopback."""
    return {"number": number, "label": f"Line {number}", "priority": priority,
            "probe": {"kind": "sip_options", "host": "127.0.0.1", "port": port,
                      **FAST, **probe}}


def detection_bound_s(probe: dict) -> float:
    """The promise: a dead line is failed over within fail_after x interval + timeout + 1 s."""
    return probe["fail_after"] * probe["interval_s"] + probe["timeout_s"] + 1.0


async def create_line(api: Api, body: dict) -> dict:
    response = await api.post("/api/v1/lines", body, role="admin")
    assert response.status_code == 201, response.text
    return response.json()


async def get_lines(api: Api) -> dict:
    response = await api.get("/api/v1/lines")
    assert response.status_code == 200, response.text
    return response.json()


async def wait_states(api: Api, states: dict[int, str], timeout_s: float = WAIT_S) -> dict:
    """Wait until each line id is in its state; GET /api/v1/lines then."""
    async def check() -> dict | None:
        lines = await get_lines(api)
        now = {line["id"]: line["state"] for line in lines["items"]}
        return lines if all(now.get(key) == value for key, value in states.items()) else None
    return await wait_until(check, timeout_s, f"line states {states}")


async def hotline(api: Api) -> dict:
    response = await api.get("/api/v1/hotline", role=None)
    assert response.status_code == 200, response.text
    return response.json()


async def next_event(client: EventClient, name: str, timeout_s: float,
                     match: Callable[[dict], bool] = lambda data: True) -> dict:
    """The next event `name` whose data matches (others are passed over)."""
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no {name} event within {timeout_s} s")
        frame = await client.next_event(remaining)
        if frame["name"] == name and match(frame["data"]):
            return frame


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict
    answered: int


@dataclass
class WebhookReceiver:
    """A tiny HTTP server on 127.0.0.1 standing in for the SMS gateway and friends.
    `script[path]`: the statuses to answer in turn there (the last one repeats).
    A request counts as received once read whole; a slow receiver (`answer_after_s`)
    answers only that long after (as a gateway busy sending the SMS would)."""

    script: dict[str, list[int]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    answer_after_s: float = 0.0
    port: int = 0
    _server: asyncio.Server | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def __aenter__(self) -> WebhookReceiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    def _answer(self, path: str) -> int:
        statuses = self.script.get(path, [200])
        done = sum(1 for item in self.received if item.path == path)
        return statuses[min(done, len(statuses) - 1)]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            path = head[0].split(" ")[1]
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (line.partition(":") for line in head[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self._answer(path)
            self.received.append(Received(path, headers, json.loads(body or b"{}"), status))
            if self.answer_after_s:
                await asyncio.sleep(self.answer_after_s)
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n"
                         "Connection: close\r\n\r\n".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def at(self, path: str) -> list[Received]:
        return [item for item in self.received if item.path == path]
