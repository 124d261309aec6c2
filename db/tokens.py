"""Bearer tokens: stored as SHA-256 digests, with expiry and revocation."""

from __future__ import annotations

from datetime import datetime

import asyncpg

# Whether token row {t} (its user {u}, left-joined) is valid: not expired, not revoked,
# and a user's token of the role its user still has.
VALID = """{t}.revoked_at IS NULL AND {t}.expires_at > now()
           AND ({t}.user_id IS NULL OR {u}.role = {t}.role)"""
# For the statements that check a socket's token in the same round trip as their
# change: true when parameter {param} is NULL (no token to check: an HTTP request,
# already authenticated) or the digest of a valid token.
TOKEN_OK = (
    "({param}::bytea IS NULL OR EXISTS (SELECT 1 FROM tokens vt"
    " LEFT JOIN users vu ON vu.id = vt.user_id WHERE vt.token_hash = {param} AND "
    + VALID.format(t="vt", u="vu") + "))")


async def insert_token(conn: asyncpg.Connection, token_hash: bytes, role: str, *,
                       expires_at: datetime, user_id: int | None = None,
                       team_id: int | None = None) -> None:
    await conn.execute(
        """INSERT INTO tokens (token_hash, role, user_id, team_id, expires_at)
           VALUES ($1, $2, $3, $4, $5)""", token_hash, role, user_id, team_id, expires_at)


async def get_valid_token(conn: asyncpg.Connection, token_hash: bytes) -> asyncpg.Record | None:
    """The token's principal, or None when unknown, expired, revoked or of a role its
    user no longer has."""
    return await conn.fetchrow(
        f"""SELECT t.role, t.user_id, t.team_id, t.expires_at,
                  coalesce(u.username, 'team:' || tm.code) AS name
           FROM tokens t
           LEFT JOIN users u ON u.id = t.user_id
           LEFT JOIN teams tm ON tm.id = t.team_id
           WHERE t.token_hash = $1 AND {VALID.format(t="t", u="u")}""",
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


async def get_valid_digests(conn: asyncpg.Connection, token_hashes: list[bytes]) -> set[bytes]:
    """Those of `token_hashes` still valid (as get_valid_token): one lookup of the
    unique index per token, in one statement for every open socket of an instance."""
    rows = await conn.fetch(
        f"""SELECT t.token_hash FROM tokens t LEFT JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = ANY($1::bytea[]) AND {VALID.format(t="t", u="u")}""",
        token_hashes)
    return {row["token_hash"] for row in rows}


async def revoke_team_tokens(conn: asyncpg.Connection, team_id: int) -> int:
    """Log all of a team's phones out; how many tokens were still live."""
    status = await conn.execute(
        "UPDATE tokens SET revoked_at = now() WHERE team_id = $1 AND revoked_at IS NULL",
        team_id)
    return int(status.split()[-1])
