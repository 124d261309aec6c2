"""The safe horizon of the event log: the highest seq below which no event can still
commit.

Seqs are handed out at insert, not at commit: transaction A may take seq 100, B seq
101, and B commit first. A reader that pushed 101 and moved its cursor past it would
never send 100. Writers used to be serialised by a lock held to COMMIT (migration
0002), which made seq order the commit order but also made every commit wait for the
previous one's fsync: commits could not be grouped, and the lock capped the whole
service's writes (docs/performance.md). Now writers run freely and readers stop at the
horizon instead (../shared/DESIGN.md, "the trap"):

1. read the last seq handed out, `h` (an earlier statement than 2; under the
   sequence's buffer lock, never a value ahead: db/events.get_allocated_seq);
2. take a transaction id of its own, `b`: every writer that took a seq up to `h` had
   its transaction id before (db/events.py takes it first), so its id is below `b`;
3. once a later snapshot's `xmin` reaches `b`, every such writer has ended: every seq
   up to `h` is final, committed or never to be.

Each probe adds an (h, b) pair; the horizon is the highest `h` whose `b` the newest
`xmin` has reached. A probe with nothing in flight is final at once; otherwise the
pair waits for the transactions in flight, which are short. (Until this was found,
step 2 used a snapshot's `xmax`, which is one past the latest *completed* id, not the
next to be assigned: a writer above it could still be running, and a stress test of
interleaved writers lost about one event in 1,500.)

That wait is for every transaction in flight, also those that have taken no seq yet
(most of them: a transaction writes its events last, just before COMMIT), and with
thousands of phones one is nearly always in flight. So the reader also pushes what is
final by another rule (realtime/hub.py): seqs are handed out one by one without
gaps but for a rollback, so a committed event whose seq follows the last one pushed is
final; only after a gap does it wait for the horizon (`settle` notes what was pushed).
"""

from __future__ import annotations

import asyncpg
import structlog

from db import events as events_db

log = structlog.get_logger(__name__)

# Pairs kept while long transactions hold xmin back; thinning drops pairs, which only
# delays the horizon (a later pair covers an earlier one), never moves it too far.
MAX_PENDING = 256


class Horizon:
    def __init__(self, seq: int = 0) -> None:
        self.seq = seq
        self.allocated = seq  # the last seq handed out, as of the last probe
        self._pending: list[tuple[int, int]] = []  # (seq handed out, bound), in order

    @property
    def waiting(self) -> bool:
        """Seqs handed out above the horizon whose writers may still be running."""
        return bool(self._pending)

    async def advance(self, conn: asyncpg.Connection) -> int:
        """Probe (one or two statements on `conn`) and return the horizon."""
        allocated = await events_db.get_allocated_seq(conn)
        if allocated < self.allocated:  # a read ahead: the hub may have skipped events
            log.error("horizon.allocated_went_back", before=self.allocated, now=allocated)
        self.allocated = allocated
        if allocated <= self.seq and not self._pending:
            return self.seq  # nothing handed out since: no id spent on a probe
        xmin, bound = await events_db.get_snapshot_bounds(conn)
        if allocated > self.seq:
            self._pending.append((allocated, bound))
        final = [h for h, x in self._pending if x <= xmin]
        if final:
            self.seq = max(self.seq, *final)
        self._pending = [(h, x) for h, x in self._pending if h > self.seq and x > xmin]
        if len(self._pending) > MAX_PENDING:
            self._pending = self._pending[::2]
        return self.seq

    def settle(self, seq: int) -> None:
        """Every seq up to `seq` is known final otherwise (committed without a gap):
        the pairs up to it need no waiting."""
        self.seq = max(self.seq, seq)
        self._pending = [(h, x) for h, x in self._pending if h > self.seq]
