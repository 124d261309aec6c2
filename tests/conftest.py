"""Test fixtures: a real PostgreSQL (DATABASE_URL, else an embedded server), a fresh
database per test cloned from a migrated template, and the service on real sockets."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import structlog
from playwright.async_api import Browser, async_playwright

from db.migrate import migrate
from db.pool import connect
from dispatch.config import Settings
from tests.support import (
    Api,
    check_logged_events,
    create_users,
    issue_staff_tokens,
    running_service,
)

# One template per xdist worker: two workers on one DATABASE_URL server must not share it.
TEMPLATE = f"d112_test_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


def pytest_configure(config: pytest.Config) -> None:
    """Log to stderr, as the service does (dispatch/logs.py): an in-process service's
    log line (a slow loop, say) must never land in the stdout of a command a test runs
    beside it, where a token or a URL is read."""
    structlog.configure(logger_factory=lambda *args: structlog.PrintLogger(sys.stderr))


def _with_database(dsn: str, name: str) -> str:
    """The same server DSN pointing at database `name`."""
    from urllib.parse import urlsplit, urlunsplit
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def server_dsn(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PostgreSQL server: DATABASE_URL when set, else an embedded one for the session."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    from db.embedded import EmbeddedPostgres
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg"), fast=True)
    dsn = server.start()
    yield dsn
    server.stop()


@pytest.fixture(scope="session")
async def template(server_dsn: str) -> tuple[str, dict[str, str]]:
    """The database every test's is copied from: migrated, with one user per staff role
    and a token for each (its DSN, the tokens by role)."""
    await _on_server(server_dsn, f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)",
                     f"CREATE DATABASE {TEMPLATE}")
    dsn = _with_database(server_dsn, TEMPLATE)
    conn = await connect(dsn)
    try:
        await migrate(conn)
        await create_users(conn)
        tokens = await issue_staff_tokens(conn)
    finally:
        await conn.close()
    return dsn, tokens


@pytest.fixture(scope="session")
def template_dsn(template: tuple[str, dict[str, str]]) -> str:
    return template[0]


class DatabaseStock:
    """Copies of the template made one test ahead: a CREATE DATABASE takes 0.2-0.4 s of
    the server's time (it copies the template's files between two checkpoints), which
    the server spends while the test before runs, mostly waiting on sockets and timers.
    A copy that failed (the server was busy restarting, say) is made again when taken."""

    def __init__(self, server_dsn: str) -> None:
        self.server_dsn = server_dsn
        self.ahead: asyncio.Task[str] | None = None

    async def _create(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        await _on_server(self.server_dsn,
                         f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        return name

    async def take(self) -> str:
        """A fresh database's name; the next one is started before this returns."""
        ahead, self.ahead = self.ahead, None
        try:
            name = await ahead if ahead is not None else await self._create()
        except (OSError, asyncpg.PostgresError):
            name = await self._create()
        self.ahead = asyncio.create_task(self._create())
        return name

    async def close(self) -> None:
        """Drop the copy made ahead, if any (on a DATABASE_URL cluster it would stay)."""
        if self.ahead is None:
            return
        try:
            name = await self.ahead
        except (OSError, asyncpg.PostgresError):
            return
        await _drop(self.server_dsn, name)


async def _on_server(server_dsn: str, *statements: str) -> None:
    """Run statements that no transaction may hold (CREATE and DROP DATABASE), each
    alone, on a connection of their own."""
    admin = await asyncpg.connect(server_dsn)
    try:
        for statement in statements:
            await admin.execute(statement)
    finally:
        await admin.close()


async def _drop(server_dsn: str, name: str) -> None:
    await _on_server(server_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
async def database_stock(server_dsn: str, template_dsn: str) -> AsyncIterator[DatabaseStock]:
    """The session's stock of test databases (it asks for `template_dsn` only so that
    the template exists before the first copy is made)."""
    stock = DatabaseStock(server_dsn)
    yield stock
    await stock.close()


@pytest.fixture
async def dsn(server_dsn: str, database_stock: DatabaseStock) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    name = await database_stock.take()
    try:
        yield _with_database(server_dsn, name)
        # what the test made the service emit matches the catalogue
        await check_logged_events(_with_database(server_dsn, name))
    finally:
        await _drop(server_dsn, name)


@pytest.fixture
async def db(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test database, to look at what was written."""
    conn = await connect(dsn)
    yield conn
    await conn.close()


@pytest.fixture
def settings(dsn: str, request: pytest.FixtureRequest) -> Settings:
    """The service's settings; `@pytest.mark.settings(name=value, ...)` changes some."""
    marker = request.node.get_closest_marker("settings")
    # Tests walk phones through many steps at once: the per-phone rate limit is tested
    # on its own (tests/test_phone_limits.py).
    values = {"sweep_interval_s": 0.2, "pool_max": 20, "device_burst": 10_000,
              **(marker.kwargs if marker else {})}
    return Settings(database_url=dsn, secret_key="test", **values)


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[str]:
    """The service on a real loopback socket; yields its base URL."""
    async with running_service(settings) as base_url:
        yield base_url


@pytest.fixture
async def api(service: str, dsn: str, template: tuple[str, dict[str, str]]
              ) -> AsyncIterator[Api]:
    """A client of the running service with a token of one user of each role (the
    template's: the test's database is its copy)."""
    async with Api(service, dsn) as client:
        client.tokens.update(template[1])
        yield client


# --- a real browser for the page tests -------------------------------------------------

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--autoplay-policy=no-user-gesture-required"]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Debian's chromium is needed for the page tests (make test installs it)"
                    + (" and CI is set" if os.environ.get("CI") else ""))
    return path


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(),
                                                   args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()
