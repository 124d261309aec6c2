"""The 112 line and its backup numbers: probe results, the active line, the line history.

Every change of a line's state, of the active line or of the override first locks
the one line_status row (`lock_status`), so such changes are serialised.
"""

from __future__ import annotations

import asyncpg

LINE_COLUMNS = """id, number, label, priority, probe, state, ok_streak, fail_streak,
    state_changed_at, checked_at, last_result, heartbeat_at, created_at"""
STATUS_COLUMNS = """active_line_id, since, critical, override_line_id, override_reason,
    override_by, override_at"""
EVENT_COLUMNS = """id, line_id, state, active_line_id, critical, override, reason, actor,
    probed_by, at"""


async def upsert_line(conn: asyncpg.Connection, number: str, label: str, priority: int,
                      probe: dict) -> int:
    return await conn.fetchval(
        """INSERT INTO lines (number, label, priority, probe) VALUES ($1, $2, $3, $4)
           ON CONFLICT (number) DO UPDATE SET label = EXCLUDED.label,
               priority = EXCLUDED.priority, probe = EXCLUDED.probe
           RETURNING id""", number, label, priority, probe)


async def insert_line(conn: asyncpg.Connection, number: str, label: str, priority: int,
                      probe: dict) -> asyncpg.Record | None:
    """A new line; None when the number is taken."""
    return await conn.fetchrow(
        f"""INSERT INTO lines (number, label, priority, probe) VALUES ($1, $2, $3, $4)
            ON CONFLICT (number) DO NOTHING RETURNING {LINE_COLUMNS}""",
        number, label, priority, probe)


async def line_exists(conn: asyncpg.Connection, line_id: int) -> bool:
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM lines WHERE id = $1)", line_id)


async def get_lines(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {LINE_COLUMNS} FROM lines ORDER BY priority, id")


async def get_line(conn: asyncpg.Connection, line_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {LINE_COLUMNS} FROM lines WHERE id = $1", line_id)


async def set_streaks(conn: asyncpg.Connection, line_id: int, ok: int, fail: int,
                      result: str) -> None:
    """Note a probe result that did not change the line's state."""
    await conn.execute(
        """UPDATE lines SET ok_streak = $2, fail_streak = $3, last_result = $4,
               checked_at = now() WHERE id = $1""", line_id, ok, fail, result)


async def set_state(conn: asyncpg.Connection, line_id: int, state: str, sources: list[str],
                    ok: int, fail: int, result: str | None) -> asyncpg.Record | None:
    """Move a line to `state` if it is in one of `sources`; None when it was not."""
    return await conn.fetchrow(
        f"""UPDATE lines SET state = $2, ok_streak = $4, fail_streak = $5,
                last_result = coalesce($6, last_result), state_changed_at = now(),
                checked_at = CASE WHEN $6::text IS NULL THEN checked_at ELSE now() END
            WHERE id = $1 AND state = ANY($3::text[]) RETURNING {LINE_COLUMNS}""",
        line_id, state, sources, ok, fail, result)


async def touch_heartbeat(conn: asyncpg.Connection, line_id: int) -> str | None:
    """Note a heartbeat of the gateway; the line's probe kind, None when no such line."""
    return await conn.fetchval(
        "UPDATE lines SET heartbeat_at = now() WHERE id = $1 RETURNING probe ->> 'kind'",
        line_id)


async def is_heartbeat_fresh(conn: asyncpg.Connection, line_id: int,
                             timeout_s: float) -> bool | None:
    """Whether the line's last heartbeat is younger than `timeout_s`, by the database's
    clock, which all instances share. None while no heartbeat came yet and the line is
    younger than that (the gateway still has time to send its first)."""
    return await conn.fetchval(
        """SELECT CASE WHEN heartbeat_at IS NOT NULL
                       THEN heartbeat_at > now() - make_interval(secs => $2)
                       WHEN created_at > now() - make_interval(secs => $2) THEN NULL
                       ELSE false END
           FROM lines WHERE id = $1""", line_id, timeout_s)


async def lock_status(conn: asyncpg.Connection) -> asyncpg.Record:
    return await conn.fetchrow(f"SELECT {STATUS_COLUMNS} FROM line_status FOR UPDATE")


async def get_status(conn: asyncpg.Connection) -> asyncpg.Record:
    return await conn.fetchrow(f"SELECT {STATUS_COLUMNS} FROM line_status")


async def set_active(conn: asyncpg.Connection, line_id: int | None, critical: bool) -> None:
    """Store the active line; `since` moves only when the line itself changes."""
    await conn.execute(
        """UPDATE line_status SET critical = $2,
               since = CASE WHEN active_line_id IS DISTINCT FROM $1 THEN now() ELSE since END,
               active_line_id = $1""", line_id, critical)


async def set_override(conn: asyncpg.Connection, line_id: int | None, reason: str | None,
                       actor: str | None) -> None:
    await conn.execute(
        """UPDATE line_status SET override_line_id = $1, override_reason = $2,
               override_by = $3, override_at = CASE WHEN $1::bigint IS NULL THEN NULL
                                                    ELSE now() END""",
        line_id, reason, actor)


async def insert_line_event(conn: asyncpg.Connection, *, line_id: int, state: str,
                            active_line_id: int | None, critical: bool, override: bool,
                            reason: str, actor: str,
                            probed_by: str | None = None) -> asyncpg.Record:
    return await conn.fetchrow(
        f"""INSERT INTO line_events (line_id, state, active_line_id, critical, override,
                reason, actor, probed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            RETURNING {EVENT_COLUMNS}""",
        line_id, state, active_line_id, critical, override, reason, actor, probed_by)


async def get_line_events(conn: asyncpg.Connection, limit: int,
                          line_id: int | None = None) -> list[asyncpg.Record]:
    """The line history, newest first."""
    return await conn.fetch(
        f"""SELECT {EVENT_COLUMNS} FROM line_events
            WHERE $2::bigint IS NULL OR line_id = $2 ORDER BY id DESC LIMIT $1""",
        limit, line_id)
