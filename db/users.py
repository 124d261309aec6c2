"""Users (admins, operators, health office); their login throttling is db/logins.py."""

from __future__ import annotations

import asyncpg


async def upsert_user(conn: asyncpg.Connection, username: str, password_hash: str,
                      role: str) -> asyncpg.Record:
    """Create the user, or reset password and role of an existing one."""
    return await conn.fetchrow(
        """INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)
           ON CONFLICT (username) DO UPDATE
               SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,
                   updated_at = now()
           RETURNING id, username, role""", username, password_hash, role)


async def get_user_by_username(conn: asyncpg.Connection, username: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, username, role, password_hash FROM users WHERE username = $1", username)
