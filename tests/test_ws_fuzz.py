"""A websocket fuzzer: a phone's socket sends garbage — random text, random bytes,
binary frames, JSON of every wrong shape, a flood — and the service answers each with
an error or result frame (or closes as documented: 1009 for a frame over 16 KiB),
while everyone else's socket and the API go on as if nothing happened."""

from __future__ import annotations

import asyncio
import json

import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime.client import EventClient
from tests.support import Api, wait_until, ws_url

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=4),
    max_leaves=12)
FRAMES = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    JSON_VALUES.map(json.dumps),
    st.fixed_dictionaries({"type": st.sampled_from(["status", "location", "ack", "hello",
                                                    "nonsense"])},
                          optional={"incident_id": JSON_VALUES, "client_id": JSON_VALUES,
                                    "action": JSON_VALUES, "lat": JSON_VALUES,
                                    "lon": JSON_VALUES, "seq": JSON_VALUES}).map(json.dumps),
)


def generated_frames(count: int) -> list[str | bytes]:
    found: list[str | bytes] = []

    @settings(max_examples=count, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(frame=FRAMES)
    def collect(frame: str | bytes) -> None:
        found.append(frame)
    collect()
    return found


async def test_garbage_and_floods_leave_everyone_else_served(api: Api) -> None:
    await api.team("FZ", -4.0, 119.64)
    token = await api.device_token("FZ")
    url = ws_url(api.base_url)
    frames = generated_frames(300)
    assert any(isinstance(f, bytes) for f in frames) and any(isinstance(f, str) for f in frames)
    async with EventClient(url, api.tokens["operator"]) as desk, \
            websockets.connect(url, max_size=None) as phone:
        await phone.send(json.dumps({"type": "hello", "token": token, "last_seq": None}))
        assert json.loads(await phone.recv())["type"] == "welcome"
        for frame in frames:
            await phone.send(frame)
        for _ in range(2000):  # a flood of cheap frames
            await phone.send('{"type":"ack","seq":1}')
        await phone.send(json.dumps({"type": "location", "lat": -4.0, "lon": 119.64,
                                     "client_id": "last-one"}))

        async def answered_last() -> None:
            while True:  # every frame is answered (or its answer dropped when flooded)
                reply = json.loads(await phone.recv())
                if reply.get("client_id") == "last-one":
                    assert reply["type"] == "result" and reply["ok"], reply
                    return
        await asyncio.wait_for(answered_last(), 60)
        # Everyone else was served throughout.
        incident = (await api.incident()).json()

        async def desk_saw_it() -> bool:
            event = await desk.next_event(30)
            return event["name"] == "incident.created" and event["data"]["id"] == incident["id"]
        await wait_until(desk_saw_it, what="the dashboard's event")
        assert (await api.get("/api/v1/health", role=None)).status_code == 200
        # A frame over 16 KiB closes that socket with 1009, as documented.
        await phone.send("x" * (17 * 1024))
        await wait_until(lambda: phone.close_code is not None or None, what="the close")
        assert phone.close_code == 1009


async def test_a_client_id_beyond_64_bits_is_echoed_and_the_socket_lives(api: Api) -> None:
    """A result echoes the phone's client_id whatever JSON it is; an integer too large
    for 64 bits once crashed the session (found by the fuzzer above)."""
    await api.team("BIG", -4.0, 119.64)
    token = await api.device_token("BIG")
    async with websockets.connect(ws_url(api.base_url)) as phone:
        await phone.send(json.dumps({"type": "hello", "token": token, "last_seq": None}))
        assert json.loads(await phone.recv())["type"] == "welcome"
        huge = 2 ** 70
        await phone.send(json.dumps({"type": "location", "lat": "north", "client_id": huge}))
        await phone.send(json.dumps({"type": "location", "lat": -4.0, "lon": 119.64,
                                     "client_id": "after"}))
        replies = [json.loads(await asyncio.wait_for(phone.recv(), 30)) for _ in range(2)]
        results = {r["client_id"]: r for r in replies if r["type"] == "result"}
        assert results[huge]["ok"] is False
        assert results["after"]["ok"] is True
