"""Many writers whose transaction ids, seqs and commits interleave at random, some
rolling back: a hub reading the log pushes every committed event to a live socket
exactly once, in seq order, and none that rolled back (the "losing none" of
docs/api.md). Bounded: eight writers for a few seconds on the test database."""

from __future__ import annotations

import asyncio
import json
import random
from typing import NamedTuple

import asyncpg

from db import events as events_db
from realtime.frames import Viewer
from realtime.hub import Hub
from realtime.subscriber import Subscriber
from tests.support import WAIT_S

WRITERS, SECONDS = 8, 4.0


class _Event(NamedTuple):
    name: str = "test.x"
    actor: str = "test"
    data: dict = {}
    incident_id: int | None = None
    team_id: int | None = None


async def _transaction(conn: asyncpg.Connection, rng: random.Random, hub: Hub | None) -> None:
    """One writer's transaction, as the service writes (events last, in one INSERT): it
    may take its id early (as a call does, long before its events) or only with its
    events, pauses, and commits or rolls back. With `hub`, a writer of the hub's own
    instance: it hands what it committed to the hub, as dispatch.events does."""
    transaction = conn.transaction()
    await transaction.start()
    if rng.random() < 0.5:
        await conn.execute("SELECT pg_current_xact_id()")
    await asyncio.sleep(rng.random() * 0.01)
    events = [_Event(data={"n": rng.randint(0, 99)}) for _ in range(rng.randint(1, 4))]
    rows = await events_db.append_events(conn, events)
    await asyncio.sleep(rng.random() * 0.01)
    if rng.random() < 0.05:
        await transaction.rollback()
        return
    await transaction.commit()
    if hub is not None:
        hub.committed([{"seq": row["seq"], "name": event.name, "at": row["at"],
                        "data": event.data, "team_id": event.team_id}
                       for event, row in zip(events, rows, strict=True)])


async def _write(dsn: str, rng: random.Random, stop: asyncio.Event, hub: Hub | None) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        while not stop.is_set():
            await _transaction(conn, rng, hub)
    finally:
        await conn.close()


async def test_interleaved_writers_lose_nothing_and_keep_order(
        dsn: str, db: asyncpg.Connection) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    hub = Hub(pool, dsn, poll_s=0.05)
    try:
        await hub.start()
        start = hub.last_seq
        socket = Subscriber(Viewer("operator", sees_all=True), start, max_queue=10**6)
        socket.go_live()
        hub.add(socket)
        stop = asyncio.Event()
        rng = random.Random(112)
        # Half the writers are this instance's (their events pushed as they commit),
        # half another's (their events only read from the log).
        writers = [asyncio.create_task(_write(dsn, random.Random(rng.random()), stop,
                                              hub if n % 2 else None))
                   for n in range(WRITERS)]
        await asyncio.sleep(SECONDS)
        stop.set()
        await asyncio.gather(*writers)
        committed = [r["seq"] for r in await db.fetch(
            "SELECT seq FROM events WHERE seq > $1 ORDER BY seq", start)]
        await hub.wait_for(committed[-1], WAIT_S)
        frames = []
        while not socket.queue.empty():
            frames.append(json.loads(socket.queue.get_nowait()))
        assert len(committed) > 100
        assert [f["seq"] for f in frames] == committed
        # Pushed as committed or read from the log, a frame is the log's row.
        logged = {r["seq"]: r for r in await db.fetch(
            "SELECT seq, name, at, data FROM events WHERE seq > $1", start)}
        for f in frames:
            row = logged[f["seq"]]
            assert (f["name"], f["data"]) == (row["name"], row["data"])
            assert f["at"] == row["at"].isoformat().replace("+00:00", "Z")
    finally:
        await hub.stop()
        await pool.close()


async def _commit(conn: asyncpg.Connection, n: int) -> dict:
    """One event committed; the row as its writer hands it to its hub."""
    event = _Event(data={"n": n})
    async with conn.transaction():
        [row] = await events_db.append_events(conn, [event])
    return {"seq": row["seq"], "name": event.name, "at": row["at"], "data": event.data,
            "team_id": None}


async def test_a_commit_handed_over_waits_for_one_not_yet_read(
        dsn: str, db: asyncpg.Connection) -> None:
    """Another instance commits A, then this one B (a later seq), and a probe puts the
    horizon past both before the hub has read A from the log: B, handed to the hub as
    it commits, must wait for A, which only a read of the log can bring. Pushing B
    because it is below the horizon moved the hub past A, which no socket then got
    (seen at 20-60 calls a second: an incident missing on every dashboard and its
    team's phone)."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    hub = Hub(pool, dsn)  # not started: the test runs the pump's pages itself
    try:
        await hub.horizon.advance(db)
        hub.last_seq = hub.horizon.seq
        socket = Subscriber(Viewer("operator", sees_all=True), hub.last_seq)
        socket.go_live()
        hub.add(socket)
        other, ours = await _commit(db, 1), await _commit(db, 2)
        assert ours["seq"] > other["seq"] > hub.last_seq
        for _ in range(1000):  # both writers have ended: the first probe usually says so
            if await hub.horizon.advance(db) >= ours["seq"]:
                break
        assert hub.horizon.seq >= ours["seq"]
        hub.committed([ours])
        assert socket.queue.empty()  # B waits: A is not pushed yet
        while await hub._pump_once():
            pass
        frames = [json.loads(socket.queue.get_nowait()) for _ in range(socket.queue.qsize())]
        assert [f["seq"] for f in frames] == [other["seq"], ours["seq"]]
    finally:
        await hub.stop()
        await pool.close()


async def test_the_last_seq_handed_out_is_never_read_ahead(
        dsn: str, db: asyncpg.Connection) -> None:
    """The horizon's first statement: the last seq any writer took, exactly, and while
    writers take more, never a value ahead of them. A nextval that logs the sequence
    puts the value 32 ahead in its page for a moment; read then, the hub took 32 seqs
    not yet handed out for final and moved past them (an incident missing on every
    dashboard and its team's phone, at 50-100 calls a second)."""
    for n in range(3):
        committed = await _commit(db, n)
        assert await events_db.get_allocated_seq(db) == committed["seq"]
    stop = asyncio.Event()
    writers = [asyncio.create_task(_write(dsn, random.Random(n), stop, None))
               for n in range(4)]
    try:
        seen, deadline = [], asyncio.get_running_loop().time() + 2.0
        while asyncio.get_running_loop().time() < deadline:
            seen.append(await events_db.get_allocated_seq(db))
    finally:
        stop.set()
        await asyncio.gather(*writers)
    last = await db.fetchval("SELECT last_value FROM events_seq_seq")
    assert seen == sorted(seen) and seen[-1] <= last and len(set(seen)) > 10
