"""Batch frames: a client that asks for them in its hello gets what the server had
queued for it as one frame, and exactly the events, in the same order, that a client
reading them one by one gets."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import websockets

from realtime.client import EventClient
from realtime.frames import CLOSE_UNAUTHORIZED
from tests.support import CITY, WAIT_S, Api, ws_url
from tests.test_realtime import close_code


async def _events_up_to(client: EventClient, seq: int) -> list[dict]:
    frames: list[dict] = []
    while not frames or frames[-1]["seq"] < seq:
        frames.append(await client.next_event(WAIT_S))
    return frames


async def test_a_batching_desk_gets_the_same_events_in_the_same_order(
        api: Api, db: asyncpg.Connection) -> None:
    for n in range(3):
        await api.team(f"B{n}", CITY[0] + n * 0.01, CITY[1])
    url, token = ws_url(api.base_url), api.tokens["operator"]
    async with EventClient(url, token) as one_by_one, \
            EventClient(url, token, batch=True) as batching:
        responses = await asyncio.gather(*(
            api.incident(CITY[0] + i * 1e-4, CITY[1],
                         headers={"Idempotency-Key": uuid.uuid4().hex})
            for i in range(20)))
        assert {r.status_code for r in responses} == {201}
        last = await db.fetchval("SELECT max(seq) FROM events")
        plain = await _events_up_to(one_by_one, last)
        batched = await _events_up_to(batching, last)
    assert [(f["seq"], f["name"], f["data"]) for f in batched] == [
        (f["seq"], f["name"], f["data"]) for f in plain]
    seqs = [f["seq"] for f in batched]
    assert seqs == sorted(set(seqs))
    created = {f["data"]["id"] for f in batched if f["name"] == "incident.created"}
    assert created == {r.json()["id"] for r in responses}
    # An allocation commits four events at once: they came together.
    assert batching.batches > 0 and batching.stale == 0


async def test_a_batch_frame_holds_whole_frames_and_a_bad_batch_flag_is_refused(
        api: Api) -> None:
    await api.team("BF", *CITY)
    url, token = ws_url(api.base_url), api.tokens["operator"]
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token, "last_seq": None,
                                  "batch": True}))
        assert json.loads(await ws.recv())["type"] == "welcome"
        await api.incident(*CITY)
        frame = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
        while frame["type"] == "heartbeat":
            frame = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
        assert frame["type"] == "batch", frame
        inner = frame["frames"]
        assert [f["type"] for f in inner] == ["event"] * len(inner) and len(inner) >= 2
        assert inner[0]["name"] == "incident.created"
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token, "batch": "yes"}))
        assert await close_code(ws) == CLOSE_UNAUTHORIZED
