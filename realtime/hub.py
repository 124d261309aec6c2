"""The hub of one instance: reads the event log as it grows and pushes each event
to the sockets allowed to see it.

A dedicated connection (not from the pool) LISTENs for the NOTIFY that every
writer sends after commit, carrying the new seq. The notification is only a
wake-up: the hub then reads everything after the last seq it pushed, so a lost
notification delays an event but never loses it. A timer wakes it anyway every
`poll_s`. When the listening connection drops (PostgreSQL restarted, backend
terminated) the hub reconnects with backoff and catches up from its last seq.

The same connection carries other channels the instance watches (`watch`: the
districts' changes), whose callbacks also run each time listening starts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
import structlog

from db import events as events_db
from db.pool import connect, ping
from realtime.frames import event_frame
from realtime.horizon import Horizon
from realtime.subscriber import Subscriber

log = structlog.get_logger(__name__)
MAX_BACKOFF_S = 5.0
PAGE = 500
# While events after a gap wait for the horizon, look again after this long, doubling
# up to MAX_RECHECK_S, and from RECHECK_S again after a wake-up. Commits wake the hub;
# a transaction that wakes nobody (a batch of GPS fixes) also holds the horizon while
# it runs, and a recheck that had grown to the poll period held assignments back by up
# to a tenth of a second. A probe is two short statements on the hub's own connection.
RECHECK_S = 0.002
MAX_RECHECK_S = 0.016
# At start-up, how long to wait for the transactions in flight to end (a longer one
# is waited for by the pump, from the newest committed seq: see start()).
START_WAIT_S = 5.0
# Names the listening connection in pg_stat_activity (operators and tests find it by this).
LISTEN_APPLICATION_NAME = "dispatch112-listen"
# The hub reads the log on a connection of its own: it reads after every commit (three
# short statements: the horizon's probe and the page), and from the pool it would take
# a connection from the requests each time.
READ_APPLICATION_NAME = "dispatch112-hub"


class Hub:
    def __init__(self, pool: asyncpg.Pool, dsn: str, *, poll_s: float = 1.0) -> None:
        self.pool, self.dsn, self.poll_s = pool, dsn, poll_s
        self.last_seq = 0  # pushed up to here: every seq up to it is final
        self.horizon = Horizon()
        self.subscribers: set[Subscriber] = set()
        # Who may see an event is decided by its team_id: index the sockets by it, so
        # an event costs the sockets that may see it, not every socket of the instance.
        self._by_team: dict[int | None, set[Subscriber]] = {}
        self.listening = asyncio.Event()
        self._wake = asyncio.Event()
        self._pushed = asyncio.Condition()  # notified after each read of the log
        self._tasks: list[asyncio.Task] = []
        self._listener: asyncpg.Connection | None = None
        self._watches: dict[str, list[Callable[[], None]]] = {}
        self._reader: asyncpg.Connection | None = None

    async def start(self) -> None:
        """Start from the safe horizon: every event below it has committed or never
        will, so none is skipped (only those after it are pushed live)."""
        self.horizon = Horizon()
        deadline = asyncio.get_running_loop().time() + START_WAIT_S
        async with self.pool.acquire() as conn:
            await self.horizon.advance(conn)
            while self.horizon.waiting and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
                await self.horizon.advance(conn)
            self.last_seq = self.horizon.seq
            if self.horizon.waiting:  # a write transaction of more than START_WAIT_S
                log.warning("hub.start_horizon_waiting", seq=self.last_seq)
        self._tasks = [asyncio.create_task(self._listen_forever(), name="hub-listen"),
                       asyncio.create_task(self._pump_forever(), name="hub-pump")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for subscriber in list(self.subscribers):
            subscriber.close()
        for conn in (self._listener, self._reader):
            if conn is not None and not conn.is_closed():
                conn.terminate()

    def add(self, subscriber: Subscriber) -> None:
        self.subscribers.add(subscriber)
        self._by_team.setdefault(self._key(subscriber), set()).add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        """Forget `subscriber`; a team's set goes with its last socket, so that the keys
        of `_by_team` are the teams with a phone here (get_team_ids)."""
        self.subscribers.discard(subscriber)
        key = self._key(subscriber)
        viewers = self._by_team.get(key)
        if viewers is not None:
            viewers.discard(subscriber)
            if not viewers:
                del self._by_team[key]

    @staticmethod
    def _key(subscriber: Subscriber) -> int | None:
        """None for sockets that see every event (staff), else the only team_id whose
        events the viewer may see (-1, no team, for the health office)."""
        return subscriber.viewer.team_filter

    def get_team_ids(self) -> list[int]:
        """Teams with a phone connected to this instance, each once: the keys of the
        sockets' index, not a walk of every socket (at 5,000 phones that walk held the
        loop ~4 ms, four times a second: docs/performance.md, the eighth round)."""
        return [key for key in self._by_team if key is not None and key > 0]

    def wake(self) -> None:
        self._wake.set()

    async def wait_for(self, seq: int, timeout_s: float) -> None:
        """Until this hub has pushed up to `seq` (at most `timeout_s`): it gets there
        once the writers in flight below `seq` have ended."""
        if self.last_seq >= seq:
            return
        self.wake()
        async with self._pushed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._pushed.wait_for(lambda: self.last_seq >= seq), timeout_s)

    # -- listening

    def watch(self, channel: str, callback: Callable[[], None]) -> None:
        """Call `callback` at each NOTIFY on `channel`, and each time listening starts
        (anything may have changed while no one listened). Before start()."""
        self._watches.setdefault(channel, []).append(callback)

    def _on_watched(self, conn: object, pid: int, channel: str, payload: str) -> None:
        self._tell(channel)

    def _tell(self, channel: str) -> None:
        for callback in self._watches[channel]:
            callback()

    def _on_notify(self, conn: object, pid: int, channel: str, payload: str) -> None:
        self._wake.set()

    def _on_lost(self, conn: object) -> None:
        self.listening.clear()
        self._wake.set()

    async def _listen_once(self) -> None:
        conn = await connect(self.dsn,
                             server_settings={"application_name": LISTEN_APPLICATION_NAME})
        self._listener = conn
        try:
            conn.add_termination_listener(self._on_lost)
            await conn.add_listener(events_db.NOTIFY_CHANNEL, self._on_notify)
            for channel in self._watches:
                await conn.add_listener(channel, self._on_watched)
                self._tell(channel)
            self.listening.set()
            self._wake.set()  # catch up on whatever came while we were away
            while not conn.is_closed():
                await asyncio.sleep(self.poll_s)
                await ping(conn)  # notices a dead connection promptly
        finally:
            self.listening.clear()
            if not conn.is_closed():
                conn.terminate()

    async def _listen_forever(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._listen_once()
                backoff = 0.1
            except Exception as exc:  # whatever it was: listen again, never give up
                log.warning("hub.listen_lost", error=repr(exc), retry_in_s=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    # -- pushing

    async def _pump_forever(self) -> None:
        recheck = 0.0
        while True:
            woken = False
            with contextlib.suppress(TimeoutError):
                woken = await asyncio.wait_for(self._wake.wait(), recheck or self.poll_s)
            self._wake.clear()
            try:
                while await self._pump_once():
                    pass
            except Exception as exc:  # a dead pump would silently end every feed
                log.warning("hub.read_failed", error=repr(exc))
                if self._reader is not None:  # made again at the next read
                    self._reader.terminate()
                    self._reader = None
                await asyncio.sleep(0.5)
            recheck = (0.0 if not self.horizon.waiting
                       else RECHECK_S if woken
                       else min(max(recheck * 2, RECHECK_S), MAX_RECHECK_S, self.poll_s))
            async with self._pushed:
                self._pushed.notify_all()

    async def _pump_once(self) -> bool:
        """Push the next page of final events; True when there may be more. An event is
        final below the safe horizon, or when its seq follows the last one pushed (seqs
        have no gaps but a rollback's: realtime/horizon.py); the first that is neither
        waits, with all after it, for the horizon to pass it."""
        if self._reader is None or self._reader.is_closed():
            self._reader = await connect(
                self.dsn, server_settings={"application_name": READ_APPLICATION_NAME})
        conn = self._reader
        upto = await self.horizon.advance(conn)
        top = self.horizon.allocated  # never below the horizon
        rows = (await events_db.get_events_after(conn, self.last_seq, limit=PAGE, upto=top)
                if top > self.last_seq else [])
        pushed = self._push_final(rows, upto)
        if pushed == len(rows) < PAGE:  # every seq up to the horizon is final
            self.last_seq = max(self.last_seq, upto)
        self.horizon.settle(self.last_seq)
        return pushed == len(rows) == PAGE

    def _push_final(self, rows: list[asyncpg.Record], upto: int) -> int:
        """Deliver `rows`, read from the log after the last seq pushed, in order up to
        the first gap above the horizon `upto` (a writer may still commit the missing
        seq); how many were delivered (or had been, by `committed`, while this page was
        being read)."""
        for pushed, row in enumerate(rows):
            if row["seq"] <= self.last_seq:
                continue
            if row["seq"] > upto and row["seq"] != self.last_seq + 1:
                return pushed
            self.deliver(row)
        return len(rows)

    def committed(self, rows: list) -> None:
        """Events a transaction of this instance has just committed, as the log holds
        them (seq, name, at, data, team_id; seq order): each is pushed at once while its
        seq follows the last one pushed (seqs have no gaps but a rollback's, so nothing
        can still come before it), without reading it back from the log. The pump,
        woken, reads the rest and what others committed.

        Not the pump's other rule, below the horizon: the horizon says every seq under
        it has committed or never will, not that those committed have been pushed. A
        seq another writer committed just before may not have been read yet, and only
        the pump's read of the log brings it; pushing past it here would skip it for
        every socket (tests/test_hub_interleaved.py)."""
        for row in rows:
            if row["seq"] != self.last_seq + 1:
                break
            self.deliver(row)
        self.wake()

    def deliver(self, row: asyncpg.Record) -> None:
        """Offer one event to every live subscriber (synchronously: no event can
        slip between a subscriber's switch to live and this seq)."""
        text = event_frame(row)
        audience = list(self._by_team.get(None, ()))
        if row["team_id"] is not None:
            audience += self._by_team.get(row["team_id"], ())
        for subscriber in audience:
            subscriber.offer(row["seq"], row["team_id"], row["name"], text)
        self.last_seq = max(self.last_seq, row["seq"])
