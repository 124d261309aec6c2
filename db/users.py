"""Users (admins, operators, health office) and their login throttling."""

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


async def get_login_failures(conn: asyncpg.Connection, key: str,
                             window_s: int) -> int:
    """Failures of `key` whose latest is within the lockout window (older ones are forgiven)."""
    value = await conn.fetchval(
        """SELECT failures FROM login_failures
           WHERE key = $1 AND last_failure_at > now() - make_interval(secs => $2)""",
        key, float(window_s))
    return value or 0


async def record_login_failure(conn: asyncpg.Connection, key: str, window_s: int) -> int:
    return await conn.fetchval(
        """INSERT INTO login_failures (key, failures, last_failure_at) VALUES ($1, 1, now())
           ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN login_failures.last_failure_at
                                    > now() - make_interval(secs => $2)
                               THEN login_failures.failures + 1 ELSE 1 END,
               last_failure_at = now()
           RETURNING failures""", key, float(window_s))


async def clear_login_failures(conn: asyncpg.Connection, key: str) -> None:
    await conn.execute("DELETE FROM login_failures WHERE key = $1", key)
