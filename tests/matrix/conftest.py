"""The matrix tests (bad input, roles) run many small cases: each module shares one
database and one running service, overriding the per-test fixtures of tests/conftest.py.

The sweeper's ack timeout is an hour, so nothing changes rows between cases.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from dispatch.config import Settings
from tests.support import Api, check_logged_events, running_service


@pytest.fixture(scope="module")
async def dsn(server_dsn: str, template_dsn: str) -> AsyncIterator[str]:
    """A fresh, migrated database shared by the module (the `db` fixture reads it too)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {urlsplit(template_dsn).path[1:]}"
                            " STRATEGY FILE_COPY")
        yield urlunsplit(urlsplit(server_dsn)._replace(path=f"/{name}"))
        try:  # what the module made the service emit matches the catalogue
            await check_logged_events(urlunsplit(urlsplit(server_dsn)._replace(path=f"/{name}")))
        finally:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def settings(dsn: str) -> Settings:
    return Settings(database_url=dsn, secret_key="test", sweep_interval_s=0.2, pool_max=20,
                    ack_timeout_s=3600, device_burst=10_000)


@pytest.fixture(scope="module")
async def service(settings: Settings) -> AsyncIterator[str]:
    async with running_service(settings) as base_url:
        yield base_url


@pytest.fixture(scope="module")
async def api(service: str, dsn: str) -> AsyncIterator[Api]:
    async with Api(service, dsn) as client:
        await client.login_all()
        yield client
