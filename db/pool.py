"""Connection pool: every connection speaks JSON for json/jsonb columns."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg
import orjson

# What a lost or restarting database raises through asyncpg: server errors, a closed
# connection, a protocol left in a bad state (asyncpg's InternalClientError), sockets.
DATABASE_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError,
                   asyncpg.exceptions.InternalClientError, OSError, TimeoutError)
# The part of those that means "the database is away or overloaded right now", so a
# retry later can succeed (a client sees 503): refused or lost connections, a server
# shutting down or starting up, too many connections, no pooled connection free in
# time (TimeoutError). Any other server error (a constraint, bad SQL) is a bug: 500.
UNAVAILABLE_ERRORS = (asyncpg.exceptions.PostgresConnectionError,
                      asyncpg.exceptions.OperatorInterventionError,
                      asyncpg.exceptions.InsufficientResourcesError, asyncpg.InterfaceError,
                      asyncpg.exceptions.InternalClientError, OSError, TimeoutError)
# A transaction PostgreSQL undid to get out of a collision with another (a deadlock, a
# serialization failure: SQLSTATE class 40): nothing of it stays and the same request
# sent again succeeds, so a client sees 503 too; but it is logged as an error, since a
# deadlock means two transactions took their locks in different orders.
ROLLED_BACK_ERRORS = (asyncpg.exceptions.TransactionRollbackError,)


def _default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# Times as isoformat() writes them (orjson's own format differs for some values), keys
# that are not strings as json.dumps writes them.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def encode_json(value: object) -> str:
    """The JSON text of `value` (UTF-8, not ASCII-escaped), as json/jsonb columns get it.
    orjson: the event log's payloads are encoded on every write, and decoded on every
    read by each instance's hub."""
    return orjson.dumps(value, default=_default, option=_OPTIONS).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=encode_json, decoder=orjson.loads,
                                  schema="pg_catalog")


async def connect(dsn: str, **kwargs) -> asyncpg.Connection:
    """Open one connection outside the pool (migrations, LISTEN); `kwargs` go to
    asyncpg.connect (e.g. server_settings)."""
    conn = await asyncpg.connect(dsn, **kwargs)
    await _init_connection(conn)
    return conn


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to reset on release beyond what asyncpg always does (roll back an open
    transaction). Pooled connections never LISTEN, SET session settings, take
    session-level advisory locks or keep cursors past their transaction (the listener,
    the line monitor's leader and migrations use connections of their own), so
    asyncpg's default reset (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET
    ALL`) would be a round trip per request that changes nothing."""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """Create the pool the service and its queries run on."""
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size,
                                     init=_init_connection, reset=_keep_session,
                                     command_timeout=30)


async def ping(conn: asyncpg.Connection) -> None:
    """A round trip: raises when the connection or the server is gone."""
    await conn.fetchval("SELECT 1")
