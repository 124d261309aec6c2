"""Authentication: argon2 secrets, bearer tokens, the role guard, throttled logins."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import HTTPConnection

from db import teams as teams_db
from db import tokens as tokens_db
from db import users as users_db
from dispatch.config import Settings
from dispatch.errors import Forbidden, TooManyRequests, Unauthorized
from dispatch.web.session import CSRF_HEADER, SAFE_METHODS, check_csrf, get_session_token

# OWASP's recommended argon2id minimum (19 MiB, 2 passes, 1 lane): the library default
# (64 MiB, 3 passes, 4 lanes) costs ~0.15 s of a 2-core server per login, which a burst
# of operators and phones logging in at shift change would queue behind.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Verified against when the account does not exist, so both cases cost the same.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (admin, operator, health office) or a team's device."""

    role: str
    name: str
    user_id: int | None = None
    team_id: int | None = None

    @property
    def actor(self) -> str:
        """How the event log names this caller."""
        return self.name if self.team_id else f"user:{self.name}"


@dataclass(frozen=True)
class IssuedToken:
    token: str
    role: str
    expires_at: datetime
    team_id: int | None = None


async def hash_secret(secret: str) -> str:
    """argon2id hash; computed off the event loop (it is deliberately slow)."""
    return await asyncio.to_thread(_hasher.hash, secret)


async def verify_secret(stored_hash: str | None, secret: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False
    return await asyncio.to_thread(verify)


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def _issue(conn: asyncpg.Connection, role: str, ttl_s: int, *, user_id: int | None = None,
                 team_id: int | None = None) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(seconds=ttl_s)
    await tokens_db.insert_token(conn, digest(token), role, expires_at=expires_at,
                                 user_id=user_id, team_id=team_id)
    return IssuedToken(token, role, expires_at, team_id)


async def check_not_locked_out(conn: asyncpg.Connection, key: str, settings: Settings) -> None:
    failures = await users_db.get_login_failures(conn, key, settings.login_lockout_s)
    if failures >= settings.login_max_failures:
        raise TooManyRequests("too many failed logins; wait and try again",
                              retry_after_s=settings.login_lockout_s)


async def _refuse(conn: asyncpg.Connection, key: str, settings: Settings) -> Unauthorized:
    failures = await users_db.record_login_failure(conn, key, settings.login_lockout_s)
    # Each further failure waits a little longer before answering.
    await asyncio.sleep(min(0.1 * failures, 1.0))
    return Unauthorized("wrong credentials")


async def do_login(conn: asyncpg.Connection, settings: Settings, username: str,
                   password: str) -> IssuedToken:
    """Token for a user's password; 401 on failure, 429 while locked out."""
    key = f"user:{username.lower()}"
    await check_not_locked_out(conn, key, settings)
    user = await users_db.get_user_by_username(conn, username)
    if not await verify_secret(user["password_hash"] if user else None, password):
        raise await _refuse(conn, key, settings)
    await users_db.clear_login_failures(conn, key)
    return await _issue(conn, user["role"], settings.token_ttl_s, user_id=user["id"])


async def do_device_login(conn: asyncpg.Connection, settings: Settings, team_code: str,
                          pin: str) -> IssuedToken:
    """Responder token for a team's code and PIN; 401 on failure, 429 while locked out."""
    key = f"team:{team_code.lower()}"
    await check_not_locked_out(conn, key, settings)
    team = await teams_db.get_team_login(conn, team_code)
    if not await verify_secret(team["pin_hash"] if team else None, pin):
        raise await _refuse(conn, key, settings)
    await users_db.clear_login_failures(conn, key)
    return await _issue(conn, "responder", settings.device_token_ttl_s, team_id=team["id"])


def get_bearer(connection: HTTPConnection) -> str | None:
    """The bearer token of the Authorization header, else the page session's cookie.

    A cookie-authenticated request that changes anything must carry the page's
    CSRF token (header X-CSRF-Token), or it is refused with 403.
    """
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    cookie = get_session_token(connection)
    if cookie is not None and connection.scope.get("method", "GET") not in SAFE_METHODS:
        check_csrf(connection, cookie, connection.headers.get(CSRF_HEADER))
    return cookie


async def get_principal(conn: asyncpg.Connection, token: str | None) -> Principal:
    """The principal of a token; 401 when missing, unknown, expired or revoked."""
    if not token or len(token) > 256:
        raise Unauthorized()
    row = await tokens_db.get_valid_token(conn, digest(token))
    if row is None:
        raise Unauthorized("token is unknown, expired or revoked")
    return Principal(row["role"], row["name"], row["user_id"], row["team_id"])


async def require(connection: HTTPConnection, *roles: str) -> Principal:
    """Authenticate the caller and check its role is one of `roles` (401 / 403; a
    database that cannot be reached in time raises a database error: 503)."""
    async with connection.app.state.ctx.acquire() as conn:
        principal = await get_principal(conn, get_bearer(connection))
    structlog.contextvars.bind_contextvars(actor=principal.actor)
    if principal.team_id is not None:
        structlog.contextvars.bind_contextvars(team_id=principal.team_id)
    if principal.role not in roles:
        raise Forbidden(f"role {principal.role} may not do this")
    return principal


async def do_logout(conn: asyncpg.Connection, token: str | None) -> None:
    if token:
        await tokens_db.revoke_token(conn, digest(token))
