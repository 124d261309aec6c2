"""Authentication: argon2 secrets, bearer tokens, the role guard, throttled logins."""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import HTTPConnection

from db import logins as logins_db
from db import teams as teams_db
from db import tokens as tokens_db
from db import users as users_db
from dispatch.config import Settings
from dispatch.errors import Forbidden, TooManyRequests, Unauthorized
from dispatch.vocabulary import GATEWAY
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


async def issue_token(conn: asyncpg.Connection, role: str, ttl_s: int, *,
                      user_id: int | None = None, team_id: int | None = None) -> IssuedToken:
    """A new bearer token of `role` for `ttl_s`; only its SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(seconds=ttl_s)
    await tokens_db.insert_token(conn, digest(token), role, expires_at=expires_at,
                                 user_id=user_id, team_id=team_id)
    return IssuedToken(token, role, expires_at, team_id)


@dataclass(frozen=True)
class Attempt:
    """A login attempt's throttle counters: the account at this client address, and
    the address over all accounts. `address` is the peer of the connection
    (request.client.host); behind a reverse proxy the operator makes uvicorn report
    the real client (--proxy-headers, --forwarded-allow-ips); X-Forwarded-For is
    never read here, since any client can write it."""

    account: str
    address: str

    @property
    def account_key(self) -> str:
        return f"{self.account}|{self.address}"

    @property
    def address_key(self) -> str:
        return f"addr:{self.address}"


def lock_duration_s(failures: int, limit: int, settings: Settings) -> float:
    """How long a counter at `failures` stays locked: none below `limit`, then
    login_lockout_s, doubling with each failure past it, at most login_lockout_max_s."""
    if failures < limit:
        return 0.0
    return float(min(settings.login_lockout_s * 2 ** min(failures - limit, 30),
                     settings.login_lockout_max_s))


def _lock_left_s(failures: int, age_s: float, limit: int, settings: Settings) -> float:
    """Seconds a counter stays locked, `age_s` after its last failure (0: not locked)."""
    duration = lock_duration_s(failures, limit, settings)
    return duration - age_s if duration > 0 else 0.0


async def _admit(conn: asyncpg.Connection, settings: Settings, attempt: Attempt) -> int:
    """Count this attempt as a failure in advance, or raise TooManyRequests while the
    account at this address, or the address, is locked. Decided and recorded under
    the counters' row locks, so concurrent attempts cannot all slip under the limit.
    Returns the account counter after this attempt."""
    keys = [attempt.account_key, attempt.address_key]
    await logins_db.create_counters(conn, keys)
    async with conn.transaction():
        counters = await logins_db.lock_counters(conn, keys, settings.login_memory_s)
        trusted = await logins_db.had_success(conn, attempt.address, settings.login_trusted_s)
        limits = {attempt.account_key: settings.login_max_failures,
                  attempt.address_key: settings.login_trusted_address_max_failures if trusted
                  else settings.login_address_max_failures}
        wait = max(_lock_left_s(*counters[key], limits[key], settings) for key in keys)
        if wait > 0:
            raise TooManyRequests("too many failed logins; wait and try again",
                                  retry_after_s=max(1, math.ceil(wait)))
        await logins_db.add_failures(conn, keys, settings.login_memory_s)
    return counters[attempt.account_key][0] + 1


async def _succeeded(conn: asyncpg.Connection, attempt: Attempt) -> None:
    """The attempt was right: forget the account's failures at this address, take back
    the attempt counted against the address, and trust the address a while. The
    counters are locked first, in the order _admit locks them: two logins from one
    address, one admitted while the other succeeds, must not deadlock."""
    await logins_db.lock_counters(conn, [attempt.account_key, attempt.address_key], 0)
    await logins_db.clear_counter(conn, attempt.account_key)
    await logins_db.forgive_failure(conn, attempt.address_key)
    await logins_db.record_success(conn, attempt.address)


async def _refused(failures: int) -> Unauthorized:
    """Each further failure waits a little longer before answering (no connection held)."""
    await asyncio.sleep(min(0.1 * failures, 1.0))
    return Unauthorized("wrong credentials")


async def _login(db, settings: Settings, attempt: Attempt,
                 read: Callable[[asyncpg.Connection], Awaitable[asyncpg.Record | None]],
                 secret: str, hash_field: str,
                 issue: Callable[[asyncpg.Connection, asyncpg.Record], Awaitable[IssuedToken]]
                 ) -> IssuedToken:
    """The one login flow: admit the attempt (429 while throttled), read the stored
    hash, release the connection, verify in a thread (401 after a growing delay), then
    take a connection again only to clear the counters and issue the token. No pooled
    connection is held while argon2 runs or a failure waits. `db` is the Context (its
    acquire has a timeout: a starved pool answers 503, not a hang)."""
    async with db.acquire() as conn:
        failures = await _admit(conn, settings, attempt)
        row = await read(conn)
    if not await verify_secret(row[hash_field] if row else None, secret):
        raise await _refused(failures)
    async with db.acquire() as conn, conn.transaction():
        await _succeeded(conn, attempt)
        return await issue(conn, row)


async def do_login(db, settings: Settings, username: str, password: str,
                   address: str) -> IssuedToken:
    """Token for a user's password; 401 on failure, 429 while throttled (see _login)."""
    return await _login(
        db, settings, Attempt(f"user:{username.lower()}", address),
        lambda conn: users_db.get_user_by_username(conn, username), password,
        "password_hash",
        lambda conn, user: issue_token(conn, user["role"], settings.token_ttl_s,
                                  user_id=user["id"]))


async def do_device_login(db, settings: Settings, team_code: str, pin: str,
                          address: str) -> IssuedToken:
    """Responder token for a team's code and PIN; 401 on failure, 429 while throttled."""
    return await _login(
        db, settings, Attempt(f"team:{team_code.lower()}", address),
        lambda conn: teams_db.get_team_login(conn, team_code), pin, "pin_hash",
        lambda conn, team: issue_token(conn, "responder", settings.device_token_ttl_s,
                                  team_id=team["id"]))


async def do_prune_logins(pool: asyncpg.Pool, settings: Settings) -> int:
    """Drop throttle counters and successes older than anything they still decide."""
    async with pool.acquire() as conn:
        return await logins_db.prune(
            conn, max(settings.login_memory_s, settings.login_lockout_max_s),
            settings.login_trusted_s)


def client_address(connection: HTTPConnection) -> str:
    """The client's address as the ASGI server reports it (see Attempt)."""
    return connection.client.host if connection.client else "unknown"


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


class TokenRefused(Exception):
    """No such user, or a long-lived token asked for a user who is no gateway."""


async def do_issue_long_lived_token(conn: asyncpg.Connection, username: str,
                                    ttl_days: int) -> IssuedToken:
    """A token of `ttl_days` for a gateway user (a machine that cannot log in again
    every 12 hours); people's tokens stay short. Revoked by logging out with it,
    `dispatch112 token revoke` or a new password (`user create`)."""
    user = await users_db.get_user_by_username(conn, username)
    if user is None:
        raise TokenRefused(f"no user {username}")
    if user["role"] != GATEWAY:
        raise TokenRefused(f"{username} is {user['role']}: long-lived tokens are only for"
                           f" {GATEWAY} users")
    return await issue_token(conn, GATEWAY, ttl_days * 86400, user_id=user["id"])


async def do_revoke_user_tokens(conn: asyncpg.Connection, username: str) -> int:
    """Revoke every live token of the user; how many."""
    user = await users_db.get_user_by_username(conn, username)
    if user is None:
        raise TokenRefused(f"no user {username}")
    return await tokens_db.revoke_user_tokens(conn, user["id"])


async def do_logout(conn: asyncpg.Connection, token: str | None) -> None:
    if token:
        await tokens_db.revoke_token(conn, digest(token))
