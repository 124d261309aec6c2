"""Outgoing failover notifications: an outbox, delivered and retried after commit."""

from __future__ import annotations

import asyncpg

DELIVERY_COLUMNS = """id, url, payload, attempts, next_at, delivered_at, failed_at,
    last_error, created_at"""


async def insert_deliveries(conn: asyncpg.Connection, urls: list[str], payload: dict) -> None:
    await conn.executemany(
        "INSERT INTO webhook_deliveries (url, payload) VALUES ($1, $2)",
        [(url, payload) for url in urls])


async def claim_due(conn: asyncpg.Connection, lease_s: float,
                    limit: int) -> list[asyncpg.Record]:
    """Take due deliveries for one attempt each: their next try moves `lease_s` ahead,
    so another deliverer leaves them alone while this one tries."""
    return await conn.fetch(
        f"""UPDATE webhook_deliveries SET attempts = attempts + 1,
                next_at = now() + make_interval(secs => $1)
            WHERE id IN (SELECT id FROM webhook_deliveries
                         WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= now()
                         ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
            RETURNING {DELIVERY_COLUMNS}""", lease_s, limit)


async def mark_delivered(conn: asyncpg.Connection, delivery_id: int) -> None:
    await conn.execute(
        "UPDATE webhook_deliveries SET delivered_at = now() WHERE id = $1", delivery_id)


async def reschedule(conn: asyncpg.Connection, delivery_id: int, delay_s: float,
                     error: str) -> None:
    await conn.execute(
        """UPDATE webhook_deliveries SET next_at = now() + make_interval(secs => $2),
               last_error = $3 WHERE id = $1""", delivery_id, delay_s, error)


async def mark_failed(conn: asyncpg.Connection, delivery_id: int, error: str) -> None:
    await conn.execute(
        "UPDATE webhook_deliveries SET failed_at = now(), last_error = $2 WHERE id = $1",
        delivery_id, error)


