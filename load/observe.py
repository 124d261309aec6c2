"""What the machine, the service and the database were doing while a benchmark ran:
CPU time, lock waits, the service's log. Observation only; nothing here is timed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path

import asyncpg


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), 0.0 if unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs of the machine have spent busy so far (Linux /proc/stat)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """User + system CPU time of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


_WAITING = """
    SELECT CASE WHEN l.locktype = 'advisory' THEN 'advisory lock ' || l.objid
                ELSE a.wait_event END AS what, count(*) AS n
    FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
    WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'
    GROUP BY 1"""
# Who holds an advisory lock while others wait for it, and what the holder is doing:
# "idle in transaction" means the server waits for the service to send the next statement.
_HOLDERS = """
    SELECT 'advisory lock ' || h.objid || ' holder ' || a.state AS what, count(*) AS n
    FROM pg_locks h JOIN pg_stat_activity a ON a.pid = h.pid
    WHERE h.locktype = 'advisory' AND h.granted AND a.datname = current_database()
      AND EXISTS (SELECT 1 FROM pg_locks w WHERE w.locktype = 'advisory' AND NOT w.granted
                  AND w.objid = h.objid AND w.classid = h.classid)
    GROUP BY 1"""


async def _sample(dsn: str, stop: asyncio.Event, every_s: float,
                  take: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
    """Until `stop`: `take(conn)` every `every_s`, on a connection of its own."""
    conn = await asyncpg.connect(dsn)
    try:
        while not stop.is_set():
            await take(conn)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)
    finally:
        await conn.close()


async def sample_lock_waits(dsn: str, stop: asyncio.Event, every_s: float = 0.1) -> Counter:
    """Until `stop`: every `every_s`, how many sessions of this database wait on a lock
    (by wait event; advisory locks by key) and the state of contended advisory locks'
    holders. Counter keys: those, plus "samples" and "samples_waiting"."""
    counts: Counter = Counter()

    async def take(conn: asyncpg.Connection) -> None:
        waiting = await conn.fetch(_WAITING)
        counts["samples"] += 1
        counts["samples_waiting"] += bool(waiting)
        for row in [*waiting, *await conn.fetch(_HOLDERS)]:
            counts[row["what"]] += row["n"]
    await _sample(dsn, stop, every_s, take)
    return counts


_ACTIVE_WAITS = """
    SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS what, count(*) AS n
    FROM pg_stat_activity
    WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
    GROUP BY 1"""


async def sample_waits(dsn: str, stop: asyncio.Event,
                       every_s: float = 0.05) -> tuple[Counter, list[tuple[float, str, int]]]:
    """Until `stop`: every `every_s`, what each active session of this database waits
    for (`Type:Event`, or CPU). Returns session-samples per wait, and the pile-ups: (wall
    time, wait, sessions) whenever three or more waited on the same thing at once."""
    counts: Counter = Counter()
    piles: list[tuple[float, str, int]] = []

    async def take(conn: asyncpg.Connection) -> None:
        for row in await conn.fetch(_ACTIVE_WAITS):
            counts[row["what"]] += row["n"]
            if row["n"] >= 3 and row["what"] != "CPU":
                piles.append((time.time(), row["what"], row["n"]))
    await _sample(dsn, stop, every_s, take)
    return counts, piles


def describe_lock_waits(counts: Counter) -> str:
    """Lock waits seen by `sample_lock_waits`: how often, how many, on what."""
    samples = counts.pop("samples", 0) or 1
    waiting = counts.pop("samples_waiting", 0)
    mean = sum(n for k, n in counts.items() if " holder " not in k) / samples
    detail = "; ".join(f"{k}: {n}" for k, n in counts.most_common())
    return (f"{waiting}/{samples} samples had a session waiting on a lock, mean "
            f"{mean:.2f} waiting" + (f"\n              (session-samples: {detail})"
                                     if detail else ""))


def _log_records(path: Path) -> Iterator[dict | None]:
    """The service's JSON log lines as dicts (None: an unreadable line)."""
    if not path.exists():
        return
    for line in path.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue  # the start-up banner
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        yield record if isinstance(record, dict) else None


def log_event_counts(path: Path) -> Counter:
    """How often each event name occurs in the service's JSON log (whole run)."""
    return Counter("(unreadable line)" if r is None else r.get("event", "?")
                   for r in _log_records(path))


def keep_warnings(path: Path, to: Path) -> int:
    """Copy the service's log records of level warning or worse (slow collections, the
    loop held, refused requests) to `to`, one JSON line each; how many."""
    kept = [json.dumps(r) for r in _log_records(path)
            if r is not None and r.get("level") in ("warning", "error", "critical")]
    to.write_text("".join(line + "\n" for line in kept))
    return len(kept)


def logged_between(path: Path, event: str, since: float, until: float) -> list[dict]:
    """The service's log records of `event` between the wall times `since` and `until`
    (the phases; not the connection storm)."""
    return [r for r in _log_records(path)
            if r is not None and r.get("event") == event and since <= _wall_time(r) <= until]


def slow_collections(path: Path, since: float, until: float) -> list[tuple[int, float]]:
    """The garbage collections the service logged as slow (`gc.slow`): (generation, ms)."""
    return [(int(r.get("generation", -1)), float(r["ms"]))
            for r in logged_between(path, "gc.slow", since, until) if "ms" in r]


def slow_loop_steps(path: Path, since: float, until: float) -> list[float]:
    """How late the service's loop probe woke when it logged `loop.slow` (ms)."""
    return [float(r["late_ms"]) for r in logged_between(path, "loop.slow", since, until)
            if "late_ms" in r]


def _wall_time(record: dict) -> float:
    try:
        return datetime.fromisoformat(str(record.get("timestamp"))).timestamp()
    except ValueError:
        return float("nan")  # compares false with every bound: not counted


class LoopLag:
    """How late this process's own event loop wakes a task that sleeps `period_s`: the
    generator's own delay, which its timestamps of every socket and request carry."""

    def __init__(self, period_s: float = 0.005) -> None:
        self.period_s = period_s
        self.lags: list[float] = []
        self._task: asyncio.Task | None = None

    async def _probe(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.period_s)
            self.lags.append(max(0.0, time.perf_counter() - started - self.period_s))

    def start(self) -> None:
        self._task = asyncio.create_task(self._probe())

    def stop(self) -> list[float]:
        if self._task is not None:
            self._task.cancel()
        return self.lags
