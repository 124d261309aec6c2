"""The embedded PostgreSQL manager: start, connect, never run as root, stop, restart."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import subprocess
from pathlib import Path

import asyncpg
import pytest

from db.embedded import EmbeddedPostgres


def _psql(pg: EmbeddedPostgres, sql: str) -> str:
    res = subprocess.run(
        [str(pg.bindir / "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, pg.dsn],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return res.stdout.strip()


def _asyncpg_select_one(dsn: str) -> int:
    async def query() -> int:
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            return await conn.fetchval("select 1")
        finally:
            await conn.close()

    # A worker thread keeps asyncio.run() away from the pytest-asyncio loop of this thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, query()).result(timeout=30)


def _postmaster_pid(pg: EmbeddedPostgres) -> int:
    return int((pg.pgdata / "postmaster.pid").read_text().splitlines()[0])


def _proc_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])  # real uid
    raise AssertionError(f"no Uid line for pid {pid}")


def _exited(pid: int) -> bool:
    """Gone, or a zombie waiting for init to reap it (which can take a while here)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat[stat.rindex(")") + 2] in "ZX"


@pytest.fixture
def pg(tmp_path: Path):
    server = EmbeddedPostgres(tmp_path / "data", fast=True)
    yield server
    server.stop()


def test_start_connect_stop_restart(pg: EmbeddedPostgres) -> None:
    dsn = pg.start()
    port = int(dsn.rsplit(":", 1)[1].split("/")[0])
    assert dsn == f"postgresql://dispatch112@127.0.0.1:{port}/dispatch112"
    assert _psql(pg, "select 1") == "1"
    assert _asyncpg_select_one(dsn) == 1
    assert _psql(pg, "show fsync") == "off"
    assert _psql(pg, "show listen_addresses") == "127.0.0.1"

    pid = _postmaster_pid(pg)
    assert _proc_uid(pid) != 0, "PostgreSQL must not run as root"
    if os.geteuid() == 0:
        assert pg.pgdata.stat().st_uid != 0

    # Idempotent: a second start reuses the running server.
    assert pg.start() == dsn
    assert _postmaster_pid(pg) == pid

    pg.stop()
    assert not pg.is_running()
    assert _exited(pid)
    pg.stop()  # no-op when stopped

    assert pg.start() == dsn  # same remembered port after a restart
    assert _psql(pg, "select 1") == "1"


def test_database_created_and_port_remembered_across_instances(tmp_path: Path) -> None:
    first = EmbeddedPostgres(tmp_path / "d", database="other_db", fast=True)
    try:
        dsn = first.start()
        assert dsn.endswith("/other_db")
        assert _psql(first, "select current_database()") == "other_db"
        # A second manager on the same data dir (another process, in real life) reuses it.
        assert EmbeddedPostgres(tmp_path / "d", database="other_db").start() == dsn
    finally:
        first.stop()
    assert EmbeddedPostgres(tmp_path / "d", database="other_db").dsn == dsn


def test_extra_settings(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "d", fast=True,
                          settings={"work_mem": "8MB", "cluster_name": "it's extra",
                                    "fsync": "on"})
    try:
        pg.start()
        assert _psql(pg, "show work_mem") == "8MB"
        assert _psql(pg, "show cluster_name") == "it's extra"
        assert _psql(pg, "show fsync") == "on"  # ours (fast: off) replaced
    finally:
        pg.stop()
    for bad in ({"work_mem = 1MB\nfsync": "off"}, {"cluster_name": "a\nfsync = off"}):
        with pytest.raises(ValueError):
            EmbeddedPostgres(tmp_path / "e", settings=bad)
