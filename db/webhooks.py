"""Outgoing failover notifications: an outbox, delivered and retried after commit.

Each attempt is made under a claim (`claimed_by`, `claimed_until`): a delivery is
claimed only when it is due and nobody's lease on it runs, and a failed attempt is
recorded only under the claim it was made with (its instance and attempt number), so
two deliverers never try one delivery side by side, nor overwrite each other's result.
"""

from __future__ import annotations

import asyncpg

DELIVERY_COLUMNS = """id, url, payload, attempts, next_at, delivered_at, failed_at,
    last_error, created_at, claimed_by, claimed_until"""


async def insert_deliveries(conn: asyncpg.Connection, urls: list[str], payload: dict) -> None:
    await conn.executemany(
        "INSERT INTO webhook_deliveries (url, payload) VALUES ($1, $2)",
        [(url, payload) for url in urls])


async def claim_due(conn: asyncpg.Connection, instance_id: str, lease_s: float,
                    limit: int) -> list[asyncpg.Record]:
    """Claim due deliveries for one attempt each, for `lease_s` (by the database's
    clock): no other deliverer takes them before the lease is over."""
    # The due rows are picked once, in a CTE: as `id IN (SELECT ... LIMIT)`, the planner
    # may rescan the subquery per row, and each rescan skips the rows this very UPDATE
    # has just claimed, so the claim takes every due row instead of `limit`.
    return await conn.fetch(
        f"""WITH due AS MATERIALIZED (
                SELECT id FROM webhook_deliveries
                WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= now()
                  AND (claimed_until IS NULL OR claimed_until <= now())
                ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
            UPDATE webhook_deliveries SET attempts = attempts + 1, claimed_by = $1,
                claimed_until = now() + make_interval(secs => $2)
            WHERE id IN (SELECT id FROM due)
            RETURNING {DELIVERY_COLUMNS}""", instance_id, lease_s, limit)


async def mark_delivered(conn: asyncpg.Connection, delivery_id: int) -> bool:
    """Record that a receiver took the delivery (under any claim: it did arrive, and
    no later attempt should be made); False when it was recorded already."""
    return await conn.fetchval(
        """UPDATE webhook_deliveries SET delivered_at = now(), claimed_until = NULL
           WHERE id = $1 AND delivered_at IS NULL RETURNING true""", delivery_id) or False


async def reschedule(conn: asyncpg.Connection, delivery_id: int, claimed_by: str,
                     attempt: int, delay_s: float, error: str) -> bool:
    """Record a failed attempt made under the claim (`claimed_by`, `attempt`) and make
    the delivery due again after `delay_s`; False (nothing changed) when that claim is
    no longer the delivery's."""
    return await conn.fetchval(
        """UPDATE webhook_deliveries SET next_at = now() + make_interval(secs => $4),
               last_error = $5, claimed_until = NULL
           WHERE id = $1 AND claimed_by = $2 AND attempts = $3
             AND delivered_at IS NULL AND failed_at IS NULL RETURNING true""",
        delivery_id, claimed_by, attempt, delay_s, error) or False


async def mark_failed(conn: asyncpg.Connection, delivery_id: int, claimed_by: str,
                      attempt: int, error: str) -> bool:
    """Give the delivery up after the last attempt, made under the claim (`claimed_by`,
    `attempt`); False (nothing changed) when that claim is no longer the delivery's."""
    return await conn.fetchval(
        """UPDATE webhook_deliveries SET failed_at = now(), last_error = $4,
               claimed_until = NULL
           WHERE id = $1 AND claimed_by = $2 AND attempts = $3
             AND delivered_at IS NULL AND failed_at IS NULL RETURNING true""",
        delivery_id, claimed_by, attempt, error) or False
