"""The key of the pages' CSRF tokens outlives a restart: kept in the database (or the
embedded set-up's data directory) when none is configured; a configured key that
differs from the kept one is reported by fingerprint, never by value."""

from __future__ import annotations

import re
import stat
from dataclasses import replace
from pathlib import Path

import asyncpg
import httpx
from structlog.testing import capture_logs

from dispatch.config import Settings
from dispatch.secret_key import get_fingerprint, read_or_create_key_file, resolve_secret_key
from tests.support import PASSWORDS, running_service

BODY = {"caller_number": "0812345678", "location": {"lat": -4.0, "lon": 119.64},
        "address": "Jl. A", "complaint": "x", "priority": 2}


async def _dashboard_session(client: httpx.AsyncClient) -> str:
    """Log the operator in; the dashboard's CSRF token."""
    form = await client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    await client.post("/login", data={"username": "operator", "csrf_token": csrf,
                                      "password": PASSWORDS["operator"]})
    page = await client.get("/dashboard")
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)


async def test_a_pages_csrf_token_still_works_after_a_restart(
        dsn: str, db: asyncpg.Connection) -> None:
    settings = Settings(database_url=dsn, sweep_interval_s=0.2)  # no key configured
    with capture_logs() as logs:
        async with running_service(settings) as url:
            async with httpx.AsyncClient(base_url=url) as client:
                csrf = await _dashboard_session(client)
                cookies = dict(client.cookies)
        async with running_service(settings) as url:  # a restart, or a second instance
            async with httpx.AsyncClient(base_url=url, cookies=cookies) as client:
                answer = await client.post("/api/v1/incidents", json=BODY,
                                           headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 201, answer.text
    stored = await db.fetch("SELECT name, value FROM service_secrets")
    assert [row["name"] for row in stored] == ["csrf_secret_key"]
    starts = [entry for entry in logs if entry["event"] == "secret_key.from_database"]
    assert len(starts) == 2
    assert {entry["fingerprint"] for entry in starts} == {get_fingerprint(stored[0]["value"])}
    assert stored[0]["value"] not in repr(logs)


async def test_a_configured_key_that_differs_from_the_kept_one_is_reported(
        dsn: str, db: asyncpg.Connection) -> None:
    await db.execute("INSERT INTO service_secrets (name, value) VALUES"
                     " ('csrf_secret_key', 'kept-key-value')")
    with capture_logs() as logs:
        async with running_service(Settings(database_url=dsn, secret_key="other-key-value")):
            pass
    warning = next(entry for entry in logs if entry["event"] == "secret_key.differs_from_database")
    assert warning["log_level"] == "warning"
    assert warning["configured_fingerprint"] == get_fingerprint("other-key-value")
    assert warning["database_fingerprint"] == get_fingerprint("kept-key-value")
    assert "kept-key-value" not in repr(logs) and "other-key-value" not in repr(logs)


async def test_the_embedded_set_up_keeps_its_key_in_the_data_dir(
        tmp_path: Path, db: asyncpg.Connection) -> None:
    settings = Settings(database_url="unused", data_dir=tmp_path / "data", embedded=True)
    first = await resolve_secret_key(db, settings)
    assert first and first == await resolve_secret_key(db, settings)
    path = settings.secret_key_path
    assert path == tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == first
    assert read_or_create_key_file(path) == first
    assert await db.fetchval("SELECT count(*) FROM service_secrets") == 0
    configured = replace(settings, secret_key="from-the-environment")
    assert await resolve_secret_key(db, configured) == "from-the-environment"
