"""The demo's own rows: users, teams and lines marked `demo`, and the check for real
data beside them (dispatch/demo.py).

Real data is any user, team or line not marked demo, and any incident or call not
made by the history run (created_by 'history') nor by a demo user's login.
"""

from __future__ import annotations

import asyncpg

from db.history import HISTORY_ACTOR


async def insert_demo_user(conn: asyncpg.Connection, username: str, password_hash: str,
                           role: str) -> bool:
    """Create a demo user unless the username is taken (its password is then left as
    it is); whether it was created."""
    created = await conn.fetchval(
        """INSERT INTO users (username, password_hash, role, demo) VALUES ($1, $2, $3, true)
           ON CONFLICT (username) DO NOTHING RETURNING id""", username, password_hash, role)
    return created is not None


async def insert_demo_line(conn: asyncpg.Connection, number: str, label: str,
                           priority: int, probe: dict) -> bool:
    """Create a demo line unless the number is taken; whether it was created."""
    created = await conn.fetchval(
        """INSERT INTO lines (number, label, priority, probe, demo)
           VALUES ($1, $2, $3, $4, true)
           ON CONFLICT (number) DO NOTHING RETURNING id""", number, label, priority, probe)
    return created is not None


async def mark_demo_team(conn: asyncpg.Connection, team_id: int) -> None:
    await conn.execute("UPDATE teams SET demo = true WHERE id = $1", team_id)


async def fill_demo_team_numbers(conn: asyncpg.Connection, team_id: int,
                                 numbers: list[str]) -> None:
    """Give the demo team `team_id` these SMS numbers, only while it has none (numbers
    an admin set are kept) and only if it is the demo's."""
    await conn.execute(
        """UPDATE teams SET sms_numbers = $2
           WHERE id = $1 AND demo AND cardinality(sms_numbers) = 0""", team_id, numbers)


async def get_demo_team_id(conn: asyncpg.Connection, code: str) -> int | None:
    """The id of the demo team `code`; None when there is none or it is not the demo's."""
    return await conn.fetchval("SELECT id FROM teams WHERE code = $1 AND demo", code)


async def get_real_data(conn: asyncpg.Connection) -> asyncpg.Record:
    """How many rows of each kind the demo did not make."""
    return await conn.fetchrow(
        """WITH demo_actors AS (
               SELECT 'user:' || username AS actor FROM users WHERE demo
               UNION ALL SELECT $1)
           SELECT (SELECT count(*) FROM users WHERE NOT demo) AS users,
                  (SELECT count(*) FROM teams WHERE NOT demo) AS teams,
                  (SELECT count(*) FROM lines WHERE NOT demo) AS lines,
                  (SELECT count(*) FROM incidents
                   WHERE created_by NOT IN (SELECT actor FROM demo_actors)) AS incidents,
                  (SELECT count(*) FROM calls
                   WHERE created_by NOT IN (SELECT actor FROM demo_actors)) AS calls""",
        HISTORY_ACTOR)
