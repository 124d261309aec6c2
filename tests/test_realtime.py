"""The live feed (GET /ws) against a real PostgreSQL and real loopback sockets: who
sees which event, resuming without loss, fan-out across instances, a slow consumer,
protocol errors, commits racing for seqs, and a burst.

Every "receives exactly" below is checked against the rows of the events table: the
frames must be those rows, in seq order, each once, and then nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import pytest
import uvicorn
import websockets
from starlette.applications import Starlette
from websockets.exceptions import ConnectionClosed

from db.events import prune_events
from db.pool import connect
from dispatch.app import create_app
from dispatch.config import Settings
from realtime.frames import (
    CLOSE_FORBIDDEN_ORIGIN,
    CLOSE_MESSAGE_TOO_BIG,
    CLOSE_TOO_SLOW,
    CLOSE_UNAUTHORIZED,
)
from realtime.subscriber import Subscriber
from tests.support import (
    CITY,
    WAIT_S,
    Api,
    FeedClient,
    assert_quiet,
    logged,
    running_service,
    wait_until,
    ws_url,
)

FAR = (-4.05, 119.68)  # some 7 km from CITY
INSERT_EVENT = """INSERT INTO events (name, actor, data, team_id)
                  VALUES ($1, 'test', $2, $3) RETURNING seq"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Frequent heartbeats: each tells a socket how far the feed has come (assert_quiet)."""
    return replace(settings, ws_heartbeat_s=0.1)


async def latest_seq(db: asyncpg.Connection) -> int:
    return await db.fetchval("SELECT coalesce(max(seq), 0) FROM events")


async def expect_exactly(client: FeedClient, rows: list[asyncpg.Record], *,
                         upto: int | None = None, timeout: float = WAIT_S) -> list[dict]:
    """`client` receives the events of `rows`, in order, and nothing else up to seq `upto`
    (by default the last of `rows`)."""
    frames = [await client.next_event(timeout) for _ in rows]
    assert [(f["seq"], f["name"], f["data"]) for f in frames] == [
        (r["seq"], r["name"], r["data"]) for r in rows]
    await assert_quiet(client, rows[-1]["seq"] if upto is None else upto)
    assert client.stale == 0, "a frame came twice or out of order"
    return frames


async def hello(ws: websockets.ClientConnection, token: str | None,
                last_seq: int | None = None) -> dict:
    await ws.send(json.dumps({"type": "hello", "token": token, "last_seq": last_seq}))
    welcome = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
    assert welcome["type"] == "welcome", welcome
    return welcome


async def next_reply(ws: websockets.ClientConnection, timeout: float = WAIT_S) -> dict:
    """The next frame that is not an event nor a heartbeat."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame["type"] not in ("event", "heartbeat"):
            return frame


async def close_code(ws: websockets.ClientConnection, timeout: float = WAIT_S) -> int:
    """Read until the server closes the socket; its close code."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code


# -- who sees what


async def test_assignment_reaches_its_team_and_staff_and_nobody_else(
        api: Api, db: asyncpg.Connection) -> None:
    near, far = await api.team("NEAR", *CITY), await api.team("FAR", *FAR)
    url = ws_url(api.base_url)
    async with (FeedClient(url, api.tokens["operator"]) as desk1,
                FeedClient(url, api.tokens["operator"]) as desk2,
                FeedClient(url, await api.device_token("NEAR")) as near_phone,
                FeedClient(url, await api.device_token("FAR")) as far_phone,
                FeedClient(url, api.tokens["health_office"]) as office):
        start = desk1.last_seq
        body = {"address": "Jl. Andi Makkasau 12", "complaint": "nyeri dada"}
        response = await api.incident(*CITY, priority=1, **body)
        assert response.status_code == 201, response.text
        incident = response.json()
        assignment = incident["assignment"]
        assert assignment["team_id"] == near["id"]

        everything = await logged(db, start)
        assert [r["name"] for r in everything][:2] == ["incident.created", "assignment.created"]
        upto = everything[-1]["seq"]
        _, _, frames = await asyncio.gather(
            expect_exactly(desk1, everything), expect_exactly(desk2, everything),
            expect_exactly(near_phone, await logged(db, start, team_id=near["id"]), upto=upto))
        created = [f["data"] for f in frames if f["name"] == "assignment.created"]
        assert len(created) == 1
        expected = {"assignment_id": assignment["id"], "incident_id": incident["id"],
                    "team_id": near["id"], "priority": 1,
                    "location": {"lat": CITY[0], "lon": CITY[1]},
                    "eta_s": assignment["eta_s"], **body}
        assert {key: created[0].get(key) for key in expected} == expected
        # Now that the desks have it all: the other team sees only what is about itself
        # (nothing here), the health office nothing at all.
        assert await logged(db, start, team_id=far["id"]) == []
        await asyncio.gather(assert_quiet(far_phone, upto), assert_quiet(office, upto))
        assert office.welcomes[0]["role"] == "health_office"


# -- resuming


async def test_team_resuming_with_last_seq_gets_exactly_what_it_missed(
        api: Api, db: asyncpg.Connection) -> None:
    near, other = await api.team("NEAR", *CITY), await api.team("OTHER", *FAR)
    url, token = ws_url(api.base_url), await api.device_token("NEAR")
    phone = FeedClient(url, token)
    async with phone:
        first = (await api.incident(*CITY)).json()
        assert first["assignment"]["team_id"] == near["id"]
        await expect_exactly(phone, await logged(db, phone.welcomes[0]["seq"],
                                                 team_id=near["id"]), upto=await latest_seq(db))
        await phone.drop()  # out of signal
        last_seen = phone.last_seq

        moved = await api.post(f"/api/v1/incidents/{first['id']}/assign",
                               {"team_id": other["id"]})
        assert moved.status_code == 200, moved.text
        second = (await api.incident(*CITY, priority=1)).json()
        assert second["assignment"]["team_id"] == near["id"]

    missed = await logged(db, last_seen, team_id=near["id"])
    withdrawn = [r["data"] for r in missed if r["name"] == "assignment.withdrawn"]
    created = [r["data"] for r in missed if r["name"] == "assignment.created"]
    assert [(w["incident_id"], w["reason"]) for w in withdrawn] == [(first["id"], "reassigned")]
    assert [c["incident_id"] for c in created] == [second["id"]]
    async with FeedClient(url, token, last_seq=last_seen) as back:
        await expect_exactly(back, missed, upto=await latest_seq(db))


async def test_last_seq_from_another_log_gets_a_resync(
        api: Api, db: asyncpg.Connection) -> None:
    """A phone that saw seqs this log never had (a database restored from a backup)
    would drop new events as already seen: it is told to reload instead."""
    latest = await db.fetchval("SELECT coalesce(max(seq), 0) FROM events")
    url = ws_url(api.base_url)
    async with FeedClient(url, api.tokens["operator"], last_seq=latest + 1000) as desk:
        await wait_until(lambda: desk.resyncs, what="a resync", poll_s=0.01)
        assert desk.resyncs == 1 and desk.last_seq == latest
        await api.incident()
        await expect_exactly(desk, await logged(db, latest))


async def test_pruned_log_resyncs_only_who_missed_pruned_events(
        api: Api, db: asyncpg.Connection) -> None:
    await api.incident()
    await api.incident()
    latest = await db.fetchval("SELECT max(seq) FROM events")
    await prune_events(db, latest)  # the whole log
    url = ws_url(api.base_url)
    async with (FeedClient(url, api.tokens["operator"], last_seq=latest) as current,
                FeedClient(url, api.tokens["operator"], last_seq=latest - 1) as behind):
        await api.incident()
        rows = await logged(db, latest)
        await asyncio.gather(expect_exactly(current, rows), expect_exactly(behind, rows))
        assert current.welcomes[0]["seq"] == latest and current.resyncs == 0
        assert behind.resyncs == 1


# -- several instances


async def test_event_caused_on_one_instance_reaches_sockets_on_another(
        api: Api, db: asyncpg.Connection, settings: Settings) -> None:
    near = await api.team("NEAR", *CITY)
    token = await api.device_token("NEAR")
    async with running_service(settings) as other_instance:
        url = ws_url(other_instance)
        async with (FeedClient(url, api.tokens["operator"]) as desk,
                    FeedClient(url, token) as phone):
            start = desk.last_seq
            incident = (await api.incident(*CITY)).json()  # through the first instance
            assert incident["assignment"]["team_id"] == near["id"]
            frames = await expect_exactly(desk, await logged(db, start))
            assert frames[0]["data"]["id"] == incident["id"]
            await expect_exactly(phone, await logged(db, start, team_id=near["id"]),
                                 upto=frames[-1]["seq"])


# -- a slow consumer


@contextlib.asynccontextmanager
async def service_with_small_buffers(settings: Settings
                                     ) -> AsyncIterator[tuple[str, Starlette]]:
    """Like tests.support.running_service, and yields the app too; the listening
    socket's small send buffer is inherited by every accepted socket, so that a client
    that stops reading stalls the server's writes after kilobytes, not megabytes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    sock.bind(("127.0.0.1", 0))
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    server.install_signal_handlers = lambda: None
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", app
    finally:
        server.should_exit = True
        await task
        sock.close()


async def open_stalled_socket(url: str, token: str) -> websockets.ClientConnection:
    """A socket that, after its welcome, reads nothing until told: the client library
    stops reading after one queued frame and the kernel buffers little. Without
    compression, so that every event takes its full size in the buffers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    host, port = url.split("//")[1].split("/")[0].split(":")
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    ws = await websockets.connect(url, sock=sock, max_queue=1, compression=None)
    await hello(ws, token)
    return ws


async def subscribed(app: Starlette, count: int) -> set[Subscriber]:
    """The hub's subscribers once there are `count` (a socket subscribes just after
    its welcome is sent, so the client may see the welcome first)."""
    await wait_until(lambda: len(app.state.hub.subscribers) == count,
                     what=f"{count} subscribers", poll_s=0.01)
    return set(app.state.hub.subscribers)


async def test_slow_consumer_is_cut_off_alone_and_resumes_without_loss(
        settings: Settings, dsn: str, db: asyncpg.Connection) -> None:
    async with (service_with_small_buffers(replace(settings, ws_queue=20)) as (base, app),
                Api(base, dsn) as api):
        await api.login_all()
        url, token = ws_url(base), api.tokens["operator"]
        async with FeedClient(url, token) as desk:
            start = desk.last_seq
            known = await subscribed(app, 1)
            slow = await open_stalled_socket(url, token)
            (slow_subscriber,) = await subscribed(app, 2) - known
            on_time = []
            # Events big enough to fill the stalled socket's buffers in a few dozen.
            for _ in range(300):
                incident = (await api.incident(notes="catatan " * 250)).json()
                # The others are not held up (the stalled socket's sends would hold
                # anyone waiting on them for SEND_TIMEOUT_S, 30 s).
                frame = await desk.next_event(timeout=10)
                assert frame["data"]["id"] == incident["id"]
                on_time.append(frame)
                if slow_subscriber.overflowed:
                    break
            else:
                raise AssertionError("the stalled socket was never cut off")
            for _ in range(3):  # and after the cut
                await api.incident()
                on_time.append(await desk.next_event(timeout=10))
            everything = await logged(db, start)
            assert [f["seq"] for f in on_time] == [r["seq"] for r in everything]

            # The slow one reads at last: what was on its way, in order, then 4408.
            received = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    frame = json.loads(await asyncio.wait_for(slow.recv(), WAIT_S))
                    if frame["type"] == "event":
                        received.append(frame["seq"])
            assert closed.value.rcvd.code == CLOSE_TOO_SLOW
            assert received == [r["seq"] for r in everything][:len(received)]
            assert len(received) < len(everything)

            last_seen = received[-1] if received else start
            async with FeedClient(url, token, last_seq=last_seen) as back:
                await expect_exactly(back, await logged(db, last_seen))
            assert desk.events.empty() and desk.stale == 0 and desk.close_codes == []


# -- protocol errors


@pytest.mark.settings(ws_hello_timeout_s=0.3)
async def test_refused_sockets_get_their_close_codes(api: Api) -> None:
    url = ws_url(api.base_url)
    async with websockets.connect(url, origin="http://evil.example") as ws:
        assert await close_code(ws) == CLOSE_FORBIDDEN_ORIGIN  # before any hello
    async with websockets.connect(url, origin=api.base_url) as ws:  # its own origin
        assert (await hello(ws, api.tokens["operator"]))["role"] == "operator"
    refused = {
        "bad token": [json.dumps({"type": "hello", "token": "not-a-token"})],
        "no token": [json.dumps({"type": "hello", "last_seq": None})],
        "token not text": [json.dumps({"type": "hello", "token": 12345})],
        "no hello in time": [],
        "not JSON": ["hello?"],
        "not a hello": [json.dumps({"type": "ack", "seq": 1})],
        "bad last_seq": [json.dumps({"type": "hello", "token": api.tokens["operator"],
                                     "last_seq": -1})],
        "deeply nested": ["[" * 5000 + "]" * 5000],
    }
    for case, frames in refused.items():
        async with websockets.connect(url) as ws:
            for text in frames:
                await ws.send(text)
            assert await close_code(ws) == CLOSE_UNAUTHORIZED, case


async def test_oversized_frame_closes_and_malformed_frame_is_answered(api: Api) -> None:
    team = await api.team("NEAR", *CITY)
    token = await api.device_token("NEAR")
    incident = (await api.incident(*CITY)).json()
    assert incident["assignment"]["team_id"] == team["id"]
    url = ws_url(api.base_url)
    async with websockets.connect(url) as ws:
        await hello(ws, token)
        for text in ("{not json", "[" * 5000 + "]" * 5000, json.dumps([1, 2]),
                     json.dumps({"type": "shout"})):
            await ws.send(text)
            reply = await next_reply(ws)
            assert reply["type"] == "error" and reply["error"], (text[:20], reply)
        # Still open, and still serving.
        await ws.send(json.dumps({"type": "status", "action": "acknowledge",
                                  "incident_id": incident["id"], "client_id": "ack-1"}))
        reply = await next_reply(ws)
        assert reply["type"] == "result" and reply["ok"] is True, reply
        await ws.send(json.dumps({"type": "ping", "data": "x" * (16 * 1024)}))
        assert await close_code(ws) == CLOSE_MESSAGE_TOO_BIG


async def test_status_frame_works_like_the_http_call(api: Api, db: asyncpg.Connection) -> None:
    team = await api.team("NEAR", *CITY)
    token = await api.device_token("NEAR")
    incident = (await api.incident(*CITY)).json()
    assert incident["assignment"]["team_id"] == team["id"]
    step = {"type": "status", "action": "acknowledge", "incident_id": incident["id"],
            "client_id": "ack-1"}
    count = "SELECT count(*) FROM events WHERE incident_id = $1"
    async with websockets.connect(ws_url(api.base_url)) as ws:
        await hello(ws, token)
        await ws.send(json.dumps(step))
        first = await next_reply(ws)
        assert first == {"type": "result", "client_id": "ack-1", "ok": True,
                         "incident_id": incident["id"], "incident_status": "acknowledged",
                         "team_status": "dispatched", "action": "acknowledge"}
        events = await db.fetchval(count, incident["id"])
        detail = (await api.get(f"/api/v1/incidents/{incident['id']}")).json()
        assert detail["status"] == "acknowledged"

        await ws.send(json.dumps(step))  # the phone did not see the answer: again
        again = await next_reply(ws)
        assert again == {**first, "replayed": True}
        assert await db.fetchval(count, incident["id"]) == events  # no second effect
        over_http = await api.step("NEAR", "acknowledge", incident["id"], client_id="ack-1")
        assert over_http.status_code == 200
        assert {"type": "result", **over_http.json()} == again

        await ws.send(json.dumps({**step, "action": "on_scene", "client_id": "scene-1"}))
        refused = await next_reply(ws)
        assert refused["ok"] is False and refused["status"] == 409 and refused["error"]
        await ws.send(json.dumps({**step, "client_id": "bad id!"}))
        invalid = await next_reply(ws)
        assert invalid["ok"] is False and invalid["status"] == 422
        await ws.send(json.dumps({"type": "location", "lat": -4.01, "lon": 119.63,
                                  "client_id": "fix-1"}))
        assert await next_reply(ws) == {"type": "result", "client_id": "fix-1", "ok": True}
    assert await db.fetchval(count, incident["id"]) == events


async def test_staff_may_not_send_steps_and_heartbeats_arrive(
        settings: Settings, dsn: str, db: asyncpg.Connection) -> None:
    async with running_service(replace(settings, ws_heartbeat_s=0.5)) as base, \
            Api(base, dsn) as api:
        await api.login_all()
        async with websockets.connect(ws_url(base)) as ws:
            await hello(ws, api.tokens["operator"])
            await ws.send(json.dumps({"type": "status", "action": "acknowledge",
                                      "incident_id": 1, "client_id": "x"}))
            assert (await next_reply(ws))["type"] == "error"
            await ws.send(json.dumps({"type": "ack", "seq": 0}))  # needs no answer
            beat = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
            assert beat == {"type": "heartbeat",
                            "seq": await db.fetchval("SELECT coalesce(max(seq), 0) FROM events")}


# -- commits racing for seqs


async def _heartbeats(client: FeedClient, count: int) -> None:
    """Until `client` has received `count` more heartbeats (each says how far the hub
    has pushed; at 0.1 s apart, several mean the hub has read the log since)."""
    for _ in range(count):
        client.heartbeat_seq = None
        await wait_until(lambda: client.heartbeat_seq is not None, what="a heartbeat")


def _assert_held_back(client: FeedClient, seq: int) -> None:
    """Nothing pushed to `client`, and its hub's heartbeats still below `seq`."""
    assert client.heartbeat_seq < seq
    assert client.events.empty(), f"pushed early: {client.events.get_nowait()}"


async def _logged_a_then_b(db: asyncpg.Connection, before: int, seq_a: int,
                           seq_b: int) -> list[asyncpg.Record]:
    """The log after `before`: A's event, then B's."""
    rows = await logged(db, before)
    assert [(r["seq"], r["name"]) for r in rows] == [(seq_a, "test.a"), (seq_b, "test.b")]
    return rows


async def test_events_committed_out_of_seq_order_reach_readers_in_order_and_all(
        api: Api, db: asyncpg.Connection, dsn: str) -> None:
    """Seqs are taken at insert, not at commit. On purpose, A takes the smaller seq and
    stays open while B takes the larger one and commits. A reader that pushed B and
    moved past it would never send A: nobody may see B while A is open; once A
    commits, both arrive in seq order, live and on resuming."""
    team = await api.team("NEAR", *CITY)
    url, token = ws_url(api.base_url), await api.device_token("NEAR")
    async with (FeedClient(url, api.tokens["operator"]) as desk,
                FeedClient(url, token) as phone):
        before = desk.last_seq
        second = await connect(dsn)
        try:
            first_tx = db.transaction()
            await first_tx.start()
            seq_a = await db.fetchval(INSERT_EVENT, "test.a", {"n": "a"}, team["id"])
            async with second.transaction():  # B commits first: writers do not wait
                seq_b = await second.fetchval(INSERT_EVENT, "test.b", {"n": "b"}, team["id"])
            assert seq_a < seq_b
            await second.execute("SELECT pg_notify('dispatch112_events', $1)", str(seq_b))
            await asyncio.gather(_heartbeats(desk, 3), _heartbeats(phone, 3))
            for client in (desk, phone):  # B is held back behind the open A
                _assert_held_back(client, seq_a)
            await first_tx.commit()
            await second.execute("SELECT pg_notify('dispatch112_events', $1)", str(seq_b))
        finally:
            await second.close()
        rows = await _logged_a_then_b(db, before, seq_a, seq_b)
        await asyncio.gather(expect_exactly(desk, rows), expect_exactly(phone, rows))
    async with (FeedClient(url, api.tokens["operator"], last_seq=before) as desk,
                FeedClient(url, token, last_seq=before) as phone):
        await asyncio.gather(expect_exactly(desk, rows), expect_exactly(phone, rows))


async def test_a_writer_newer_than_every_ended_transaction_still_holds_later_seqs(
        api: Api, db: asyncpg.Connection, dsn: str) -> None:
    """B takes its transaction id first, A (newer id) takes seq n, B takes n + 1 and
    commits. No transaction newer than A has ended, so a snapshot's xmax does not cover
    A: a horizon built on it declared n + 1 final, pushed it, and A's n, committed
    after, was never sent. n + 1 must wait for A; then both arrive, in order."""
    team = await api.team("NEAR", *CITY)
    async with FeedClient(ws_url(api.base_url), api.tokens["operator"]) as desk:
        before = desk.last_seq
        second = await connect(dsn)
        try:
            second_tx = second.transaction()
            await second_tx.start()
            await second.execute("SELECT pg_current_xact_id()")  # B's id, older than A's
            first_tx = db.transaction()
            await first_tx.start()
            seq_a = await db.fetchval(INSERT_EVENT, "test.a", {"n": "a"}, team["id"])
            seq_b = await second.fetchval(INSERT_EVENT, "test.b", {"n": "b"}, team["id"])
            await second_tx.commit()
            assert seq_a < seq_b
            # No NOTIFY now: it would end a transaction newer than A (a NOTIFY takes an
            # id) and hide the fault. A socket's welcome makes the hub read the log.
            async with FeedClient(ws_url(api.base_url), api.tokens["operator"]):
                await _heartbeats(desk, 3)
            _assert_held_back(desk, seq_a)
            await first_tx.commit()
            await second.execute("SELECT pg_notify('dispatch112_events', $1)", str(seq_b))
        finally:
            await second.close()
        await expect_exactly(desk, await _logged_a_then_b(db, before, seq_a, seq_b))


async def test_an_open_writer_without_events_does_not_hold_the_feed_back(
        api: Api, db: asyncpg.Connection, dsn: str) -> None:
    """A transaction that has written but taken no seq yet (a call being allocated, a
    batch of GPS fixes) stays open while B commits an event: its seqs, if any, will
    follow B's, so B is final and pushed at once; A's event, when it commits, after."""
    team = await api.team("NEAR", *CITY)
    url = ws_url(api.base_url)
    async with FeedClient(url, api.tokens["operator"]) as desk:
        before = desk.last_seq
        second = await connect(dsn)
        try:
            first_tx = db.transaction()
            await first_tx.start()
            await db.execute("UPDATE teams SET name = 'busy' WHERE id = $1", team["id"])
            async with second.transaction():
                seq_b = await second.fetchval(INSERT_EVENT, "test.b", {"n": "b"}, team["id"])
            await second.execute("SELECT pg_notify('dispatch112_events', $1)", str(seq_b))
            pushed = await desk.next_event(WAIT_S)  # while A is still open
            assert (pushed["seq"], pushed["name"]) == (seq_b, "test.b")
            seq_a = await db.fetchval(INSERT_EVENT, "test.a", {"n": "a"}, team["id"])
            await first_tx.commit()
            await second.execute("SELECT pg_notify('dispatch112_events', $1)", str(seq_a))
        finally:
            await second.close()
        rows = await logged(db, before)
        assert [(r["seq"], r["name"]) for r in rows] == [(seq_b, "test.b"), (seq_a, "test.a")]
        await expect_exactly(desk, rows[1:])


# -- a burst


@pytest.mark.settings(ws_replay_page=7)
async def test_burst_of_incidents_reaches_the_desk_once_and_in_order(
        api: Api, db: asyncpg.Connection) -> None:
    """200 incidents at once: the desk connected throughout gets every event once, in
    order; a desk resuming while they pour in (its replay in pages of 7, so many
    pages, racing the live feed) ends with exactly the same."""
    for n in range(3):
        await api.team(f"T{n}", CITY[0] + n * 0.01, CITY[1])
    url = ws_url(api.base_url)

    async def burst(count: int) -> list[int]:
        responses = await asyncio.gather(*(
            api.incident(CITY[0] + i * 1e-4, CITY[1],
                         headers={"Idempotency-Key": uuid.uuid4().hex})
            for i in range(count)))
        assert {r.status_code for r in responses} == {201}
        return [r.json()["id"] for r in responses]

    async def resume_midway(after: int, first_chunk: int) -> FeedClient:
        """Connect once the second chunk has begun to reach the log."""
        await wait_until(lambda: _grew(db, first_chunk), what="the second chunk", poll_s=0.01)
        client = FeedClient(url, api.tokens["operator"], last_seq=after)
        return await client.__aenter__()

    async with FeedClient(url, api.tokens["operator"]) as desk:
        start = desk.last_seq
        ids = await burst(50)
        first_chunk = await latest_seq(db)
        ids2, late = await asyncio.gather(burst(50), resume_midway(start, first_chunk))
        ids += ids2
        try:
            for _ in range(2):
                ids += await burst(50)
            assert len(set(ids)) == 200
            rows = await logged(db, start)
            frames = await expect_exactly(desk, rows)
            await expect_exactly(late, rows)
            # It joined mid-burst: some events were replayed, others came after. (Its
            # welcome's seq is how far the hub had pushed, the log's safe horizon: it
            # may still stand at the first chunk's end.)
            assert first_chunk <= late.welcomes[0]["seq"] < rows[-1]["seq"]
        finally:
            await late.close()
        seqs = [f["seq"] for f in frames]
        assert seqs == sorted(set(seqs))
        created = [f["data"]["id"] for f in frames if f["name"] == "incident.created"]
        assert sorted(created) == sorted(ids)


async def _grew(db: asyncpg.Connection, seq: int) -> bool:
    return await latest_seq(db) > seq
