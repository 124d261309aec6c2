"""Secrets shared by the instances of one service (table service_secrets)."""

from __future__ import annotations

import asyncpg


async def get_secret(conn: asyncpg.Connection, name: str) -> str | None:
    """The stored value of secret `name`, or None."""
    return await conn.fetchval("SELECT value FROM service_secrets WHERE name = $1", name)


async def get_or_insert_secret(conn: asyncpg.Connection, name: str, candidate: str) -> str:
    """The stored value of `name`; `candidate` is stored first when there is none.
    Instances racing here all get the one value that won."""
    await conn.execute(
        "INSERT INTO service_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        name, candidate)
    return await get_secret(conn, name)
