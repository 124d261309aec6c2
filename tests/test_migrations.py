"""Migrations: build exactly db/schema.sql, change nothing when run again, and two
concurrent runs both succeed."""

import asyncio
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from db.migrate import get_migrations, migrate
from db.pool import connect

SCHEMA = Path(__file__).resolve().parents[1] / "db" / "schema.sql"


def dump_schema(dsn: str) -> str:
    """pg_dump --schema-only, without comments, SET lines and version-specific noise."""
    from db.embedded import find_bindir
    out = subprocess.run([str(find_bindir() / "pg_dump"), "--schema-only", "--no-owner",
                          "--no-privileges", "--exclude-table=schema_migrations", dsn],
                         check=True, capture_output=True, text=True).stdout
    lines = [line for line in out.splitlines()
             if line.strip() and not line.startswith(("--", "SET ", "SELECT pg_catalog."))
             and not line.startswith("\\")]
    return re.sub(r"\n{2,}", "\n", "\n".join(lines)).strip() + "\n"


@pytest.fixture
async def empty_dsn(server_dsn: str):
    name = f"m_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f"CREATE DATABASE {name}")
    yield urlunsplit(urlsplit(server_dsn)._replace(path=f"/{name}"))
    await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    await admin.close()


async def test_empty_database_migrates_to_the_schema(empty_dsn: str) -> None:
    conn = await connect(empty_dsn)
    try:
        applied = await migrate(conn)
        assert applied == [m.name for m in get_migrations()]
        after_first = dump_schema(empty_dsn)
        assert await migrate(conn) == []
        assert dump_schema(empty_dsn) == after_first
    finally:
        await conn.close()
    if os.environ.get("UPDATE_SCHEMA"):
        SCHEMA.write_text(after_first)
    assert after_first == SCHEMA.read_text(), \
        "migrations and db/schema.sql differ; run UPDATE_SCHEMA=1 pytest tests/test_migrations.py"


async def test_two_concurrent_migrations_both_succeed(empty_dsn: str) -> None:
    first, second = await connect(empty_dsn), await connect(empty_dsn)
    try:
        results = await asyncio.gather(migrate(first), migrate(second))
    finally:
        await first.close()
        await second.close()
    assert sorted(len(r) for r in results) == [0, len(get_migrations())]
    conn = await connect(empty_dsn)
    try:
        versions = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    assert [r["version"] for r in versions] == [m.version for m in get_migrations()]


def test_cli_migrate_twice(empty_dsn: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_dsn}
    cli = [sys.executable, "-m", "dispatch.cli", "migrate"]
    first = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "0001_initial.sql" in first.stdout
    second = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0
    assert "up to date" in second.stdout


async def test_teams_of_an_earlier_version_get_their_points(empty_dsn: str,
                                                            tmp_path: Path) -> None:
    """A deployment upgraded with teams in service: each is searched from its base and
    fix at once (0021 derives them), not only once it next moves."""
    for migration in get_migrations()[:20]:
        (tmp_path / migration.name).write_text(migration.sql)
    conn = await connect(empty_dsn)
    try:
        await migrate(conn, tmp_path)
        await conn.execute(
            """INSERT INTO teams (code, name, kind, base_lat, base_lon, pin_hash,
                                  fix_lat, fix_lon, fix_at)
               VALUES ('A1', 'A1', 'als', -4.01, 119.62, 'x', NULL, NULL, NULL),
                      ('B1', 'B1', 'bls', -4.02, 119.63, 'x', -4.03, 119.64, now())""")
        assert "0021_team_points.sql" in await migrate(conn)
        points = await conn.fetch(
            """SELECT t.code, p.fix, p.pt[1] AS lat, p.pt[0] AS lon
               FROM team_points p JOIN teams t ON t.id = p.team_id ORDER BY 1, 2""")
    finally:
        await conn.close()
    assert [tuple(r) for r in points] == [("A1", False, -4.01, 119.62),
                                          ("B1", False, -4.02, 119.63),
                                          ("B1", True, -4.03, 119.64)]
