"""Bearer tokens: stored as SHA-256 digests, with expiry and revocation."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def insert_token(conn: asyncpg.Connection, token_hash: bytes, role: str, *,
                       expires_at: datetime, user_id: int | None = None,
                       team_id: int | None = None) -> None:
    await conn.execute(
        """INSERT INTO tokens (token_hash, role, user_id, team_id, expires_at)
           VALUES ($1, $2, $3, $4, $5)""", token_hash, role, user_id, team_id, expires_at)


async def get_valid_token(conn: asyncpg.Connection, token_hash: bytes) -> asyncpg.Record | None:
    """The token's principal, or None when unknown, expired or revoked."""
    return await conn.fetchrow(
        """SELECT t.role, t.user_id, t.team_id, t.expires_at,
                  coalesce(u.username, 'team:' || tm.code) AS name
           FROM tokens t
           LEFT JOIN users u ON u.id = t.user_id
           LEFT JOIN teams tm ON tm.id = t.team_id
           WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now()""",
        token_hash)


async def revoke_token(conn: asyncpg.Connection, token_hash: bytes) -> bool:
    status = await conn.execute(
        "UPDATE tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL",
        token_hash)
    return status.endswith(" 1")


async def revoke_user_tokens(conn: asyncpg.Connection, user_id: int) -> int:
    """Log the user out everywhere (a reset password or role, `token revoke`); how many
    live tokens were revoked."""
    status = await conn.execute(
        """UPDATE tokens SET revoked_at = now()
           WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()""", user_id)
    return int(status.split()[-1])
