"""Login throttling: failure counters per key (an account at an address, an address)
and the addresses that logged in successfully.

The caller takes the counters' rows in a transaction with `lock_counters`, decides,
and records with `add_failures` before committing: concurrent attempts on the same
keys queue on the row locks, so none of them decides on a stale count.
"""

from __future__ import annotations

import asyncpg


async def create_counters(conn: asyncpg.Connection, keys: list[str]) -> None:
    """Create the missing counters of `keys`. Call OUTSIDE the transaction that locks
    them: an insert racing another insert of the same key waits for that whole
    transaction, which with row locks taken meanwhile can deadlock."""
    await conn.execute(
        """INSERT INTO login_failures (key, failures, last_failure_at)
           SELECT k, 0, now() FROM unnest($1::text[]) AS k ORDER BY k
           ON CONFLICT (key) DO NOTHING""", sorted(set(keys)))


async def lock_counters(conn: asyncpg.Connection, keys: list[str],
                        memory_s: int) -> dict[str, tuple[int, float]]:
    """Lock the counters of `keys` (created by create_counters; in key order, so two
    attempts never deadlock) and return key -> (failures, seconds since the last).
    A counter untouched for `memory_s` reads as 0; a counter pruned meanwhile reads as
    (0, 0). Call inside a transaction."""
    keys = sorted(set(keys))
    rows = await conn.fetch(
        """SELECT key,
                  CASE WHEN last_failure_at > now() - make_interval(secs => $2)
                       THEN failures ELSE 0 END AS failures,
                  greatest(extract(epoch FROM clock_timestamp() - last_failure_at)::float8, 0)
                      AS age_s
           FROM login_failures WHERE key = ANY($1) ORDER BY key FOR UPDATE""",
        keys, float(memory_s))
    found = {row["key"]: (row["failures"], row["age_s"]) for row in rows}
    return {key: found.get(key, (0, 0.0)) for key in keys}


async def add_failures(conn: asyncpg.Connection, keys: list[str], memory_s: int) -> None:
    """Count one more failure (or attempt under way) against each of `keys`."""
    await conn.execute(
        """UPDATE login_failures SET
               failures = CASE WHEN last_failure_at > now() - make_interval(secs => $2)
                               THEN failures + 1 ELSE 1 END,
               last_failure_at = now()
           WHERE key = ANY($1)""", keys, float(memory_s))


async def forgive_failure(conn: asyncpg.Connection, key: str) -> None:
    """Take back one counted attempt of `key` (it turned out to be a success)."""
    await conn.execute(
        "UPDATE login_failures SET failures = greatest(failures - 1, 0) WHERE key = $1", key)


async def clear_counter(conn: asyncpg.Connection, key: str) -> None:
    await conn.execute("DELETE FROM login_failures WHERE key = $1", key)


async def record_success(conn: asyncpg.Connection, address: str) -> None:
    await conn.execute(
        """INSERT INTO login_successes (address) VALUES ($1)
           ON CONFLICT (address) DO UPDATE SET last_success_at = now()""", address)


async def had_success(conn: asyncpg.Connection, address: str, within_s: int) -> bool:
    """Whether someone logged in successfully from `address` in the last `within_s`."""
    return await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM login_successes WHERE address = $1
                          AND last_success_at > now() - make_interval(secs => $2))""",
        address, float(within_s))


async def prune(conn: asyncpg.Connection, failures_older_s: int, successes_older_s: int) -> int:
    """Delete counters and successes too old to matter any more; how many went."""
    failures = await conn.execute(
        "DELETE FROM login_failures WHERE last_failure_at < now() - make_interval(secs => $1)",
        float(failures_older_s))
    successes = await conn.execute(
        """DELETE FROM login_successes
           WHERE last_success_at < now() - make_interval(secs => $1)""",
        float(successes_older_s))
    return int(failures.split()[-1]) + int(successes.split()[-1])
