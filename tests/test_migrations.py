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
