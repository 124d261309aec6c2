"""Advanced Mobile Location: positions the handsets sent, tied to their calls."""

from __future__ import annotations

from datetime import datetime

import asyncpg

AML_COLUMNS = """id, call_id, lat, lon, radius_m, confidence, method, transport, at,
    received_at"""


async def find_open_call(conn: asyncpg.Connection, number: str,
                         since: datetime) -> int | None:
    """The newest open call from `number` received since `since`, or None."""
    return await conn.fetchval(
        """SELECT id FROM calls WHERE caller_number = $1 AND status = 'open'
              AND received_at >= $2 ORDER BY received_at DESC, id DESC LIMIT 1""",
        number, since)


async def insert_location(conn: asyncpg.Connection, *, call_id: int | None,
                          caller_number: str | None, lat: float, lon: float,
                          radius_m: float | None, confidence: int | None, method: str,
                          transport: str, at: datetime) -> asyncpg.Record:
    return await conn.fetchrow(
        f"""INSERT INTO aml_locations (call_id, caller_number, lat, lon, radius_m,
                confidence, method, transport, at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {AML_COLUMNS}""",
        call_id, caller_number, lat, lon, radius_m, confidence, method, transport, at)


async def claim_waiting(conn: asyncpg.Connection, call_id: int, number: str,
                        since: datetime) -> list[asyncpg.Record]:
    """Tie to `call_id` the locations from `number` that arrived since `since` before
    any call was open for them (an SMS may overtake the gateway's report of the call)."""
    return await conn.fetch(
        f"""UPDATE aml_locations SET call_id = $1
            WHERE call_id IS NULL AND caller_number = $2 AND received_at >= $3
            RETURNING {AML_COLUMNS}""", call_id, number, since)


async def get_call_locations(conn: asyncpg.Connection, call_id: int) -> list[asyncpg.Record]:
    """A call's AML positions, newest fix first."""
    return await conn.fetch(
        f"""SELECT {AML_COLUMNS} FROM aml_locations WHERE call_id = $1
            ORDER BY at DESC, id DESC""", call_id)
