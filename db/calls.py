"""Calls received on the 112 lines: the call log, a caller's history, retention."""

from __future__ import annotations

from datetime import datetime

import asyncpg

CALL_COLUMNS = """id, caller_number, line_id, status, disposition, incident_id,
    received_at, ended_at, created_by, blocked, taken_by, taken_at"""


async def insert_call(conn: asyncpg.Connection, *, caller_number: str | None,
                      line_id: int | None, received_at: datetime | None, created_by: str,
                      blocked: bool = False, taken_by: str | None = None) -> asyncpg.Record:
    """A new open call; `caller_number` None when withheld or unknown; `taken_by` the
    operator who opened it by picking up (None: it rings until one takes it)."""
    return await conn.fetchrow(
        f"""INSERT INTO calls (caller_number, line_id, received_at, created_by, blocked,
                               taken_by, taken_at)
            VALUES ($1, $2, coalesce($3, now()), $4, $5, $6,
                    CASE WHEN $6::text IS NULL THEN NULL ELSE now() END)
            RETURNING {CALL_COLUMNS}""",
        caller_number, line_id, received_at, created_by, blocked, taken_by)


async def get_call(conn: asyncpg.Connection, call_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {CALL_COLUMNS} FROM calls WHERE id = $1", call_id)


async def take_call(conn: asyncpg.Connection, call_id: int,
                    taken_by: str) -> asyncpg.Record | None:
    """Take an open call nobody has taken yet; None when it is not (any more): the
    guard that lets exactly one of several operators take it."""
    return await conn.fetchrow(
        f"""UPDATE calls SET taken_by = $2, taken_at = now()
            WHERE id = $1 AND status = 'open' AND taken_by IS NULL
            RETURNING {CALL_COLUMNS}""", call_id, taken_by)


async def end_call(conn: asyncpg.Connection, call_id: int, disposition: str,
                   incident_id: int | None, user: str | None = None) -> asyncpg.Record | None:
    """End an open call; None when it is not open (any more), or another operator than
    `user` has it. `user` None: the gateway (a hang-up), whoever has the call; an
    operator ending a call nobody took has taken it."""
    return await conn.fetchrow(
        f"""UPDATE calls SET status = 'ended', disposition = $2,
                incident_id = coalesce($3, incident_id), ended_at = now(),
                taken_by = coalesce(taken_by, $4),
                taken_at = CASE WHEN taken_by IS NULL AND $4::text IS NOT NULL THEN now()
                                ELSE taken_at END
            WHERE id = $1 AND status = 'open'
              AND ($4::text IS NULL OR taken_by IS NULL OR taken_by = $4)
            RETURNING {CALL_COLUMNS}""",
        call_id, disposition, incident_id, user)


async def link_call_incident(conn: asyncpg.Connection, call_id: int, incident_id: int) -> None:
    await conn.execute(
        "UPDATE calls SET incident_id = $2 WHERE id = $1 AND incident_id IS NULL",
        call_id, incident_id)


async def get_calls_by_number(conn: asyncpg.Connection, number: str, since: datetime,
                              limit: int) -> list[asyncpg.Record]:
    """Calls from `number` received since `since`, newest first (index calls_number)."""
    return await conn.fetch(
        f"""SELECT {CALL_COLUMNS} FROM calls
            WHERE caller_number = $1 AND received_at >= $2
            ORDER BY received_at DESC, id DESC LIMIT $3""", number, since, limit)


async def get_recent_calls(conn: asyncpg.Connection, status: str | None, since: datetime,
                           limit: int) -> list[asyncpg.Record]:
    """The call log: calls received since `since` (every open call, however old),
    newest first; `status` None: open and ended."""
    return await conn.fetch(
        f"""SELECT {CALL_COLUMNS} FROM calls
            WHERE ($1::text IS NULL OR status = $1)
              AND (received_at >= $2 OR status = 'open')
            ORDER BY received_at DESC, id DESC LIMIT $3""", status, since, limit)


async def has_recent_incident_call(conn: asyncpg.Connection, number: str,
                                   since: datetime) -> bool:
    """Whether a call from `number` received since `since` became (or joined) an
    incident: the never-block rule."""
    return await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM calls WHERE caller_number = $1
                          AND received_at >= $2 AND incident_id IS NOT NULL)""",
        number, since)


async def count_calls_by_disposition(conn: asyncpg.Connection, number: str, disposition: str,
                                     since: datetime) -> int:
    """How many calls from `number` received since `since` ended as `disposition`."""
    return await conn.fetchval(
        """SELECT count(*) FROM calls WHERE caller_number = $1 AND received_at >= $2
              AND disposition = $3""", number, since, disposition)


async def anonymise_calls(conn: asyncpg.Connection, before: datetime, limit: int) -> int:
    """Remove the caller numbers of up to `limit` calls received before `before` (and
    of the callbacks queued for them); how many calls. Everything else stays, so the
    reports' counts do not change."""
    ids = await conn.fetch(
        """SELECT id FROM calls WHERE received_at < $1 AND caller_number IS NOT NULL
           ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED""", before, limit)
    ids = [row["id"] for row in ids]
    if not ids:
        return 0
    await conn.execute("UPDATE callbacks SET caller_number = NULL WHERE call_id = ANY($1)", ids)
    await conn.execute("""UPDATE calls SET caller_number = NULL, anonymised_at = now()
                          WHERE id = ANY($1)""", ids)
    await conn.execute("""UPDATE aml_locations SET caller_number = NULL
                          WHERE call_id = ANY($1) OR (call_id IS NULL AND received_at < $2)""",
                       ids, before)
    return len(ids)
